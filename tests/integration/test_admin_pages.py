"""Admin pages: users and roles, teams, channels with their health, shops' notifications,
and canned responses with validation and a preview against a real ticket. Every
change is an event; every form needs its CSRF token; other roles are refused."""

from __future__ import annotations

import re

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import (
    CannedResponse,
    ChannelState,
    Event,
    InboundDelivery,
    OutboxItem,
    Shop,
    Team,
    Ticket,
    User,
    WebhookEndpoint,
)
from helpdesk.models.types import utcnow
from helpdesk.services.canned import install_default_responses, suggestions
from tests.conftest import csrf_token, log_in, make_user, signed_in_client
from tests.factories import Classified, inbound, order


def _events(kind: str) -> list[Event]:
    db.session.expire_all()
    return db.session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)).all()


def _post(client, path: str, data: dict, page: str = "/admin/users"):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def _flashes(client, path: str) -> str:
    return client.get(path).get_data(as_text=True)


# --- users -----------------------------------------------------------------------------------


def test_admin_changes_a_role_and_it_is_on_the_trail(admin_client):
    agent = make_user("agent", name="Jana Agent")
    response = _post(admin_client, f"/admin/users/{agent.id}/role", {"role": "lead"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, agent.id).role == "lead"
    page = _flashes(admin_client, "/admin/users")
    assert "Jana Agent is now: Team lead" in page
    (event,) = _events("user.role_changed")
    assert event.data == {"target_user_id": agent.id, "email": agent.email, "old": "agent",
                          "new": "lead"}  # fmt: skip
    assert event.actor.startswith("user:")

    _post(admin_client, f"/admin/users/{agent.id}/role", {"role": "superuser"})
    db.session.expire_all()
    assert db.session.get(User, agent.id).role == "lead"
    assert "Unknown role" in _flashes(admin_client, "/admin/users")


def test_the_last_admin_keeps_the_role_and_nobody_deactivates_themselves(admin_client):
    me = db.session.scalar(select(User).where(User.email == "admin@shop.example"))
    _post(admin_client, f"/admin/users/{me.id}/role", {"role": "agent"})
    assert "The last administrator" in _flashes(admin_client, "/admin/users")
    _post(admin_client, f"/admin/users/{me.id}/active", {"active": "off"})
    assert "cannot deactivate yourself" in _flashes(admin_client, "/admin/users")
    db.session.expire_all()
    me = db.session.get(User, me.id)
    assert me.role == "admin" and me.active
    assert _events("user.role_changed") == [] and _events("user.deactivated") == []


def test_a_deactivated_user_cannot_sign_in_until_reactivated(app, admin_client):
    agent = make_user("agent")
    _post(admin_client, f"/admin/users/{agent.id}/active", {"active": "off"})
    assert log_in(app.test_client(), agent.email).status_code == 401
    assert [e.data["target_user_id"] for e in _events("user.deactivated")] == [agent.id]
    _post(admin_client, f"/admin/users/{agent.id}/active", {"active": "on"})
    assert log_in(app.test_client(), agent.email).status_code == 302
    assert len(_events("user.reactivated")) == 1


def test_forms_without_the_csrf_token_change_nothing(admin_client):
    agent = make_user("agent")
    response = admin_client.post(f"/admin/users/{agent.id}/role", data={"role": "admin"})
    assert response.status_code == 400
    response = admin_client.post("/admin/teams", data={"name": "Sneaky"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, agent.id).role == "agent"
    assert db.session.scalars(select(Team)).all() == []


def test_other_roles_are_refused(app):
    agent = make_user("agent", email="someone@shop.example")
    for role in ("agent", "lead", "social"):
        client = signed_in_client(app, role)
        token = csrf_token(client, "/inbox")
        assert client.get("/admin/teams").status_code == 403
        assert client.get("/admin/responses").status_code == 403
        response = client.post(f"/admin/users/{agent.id}/role",
                               data={"role": "admin", "csrf_token": token})  # fmt: skip
        assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, agent.id).role == "agent"


# --- teams -----------------------------------------------------------------------------------


def test_teams_are_created_renamed_and_staffed(admin_client):
    agent = make_user("agent", name="Jana Agent")
    _post(admin_client, "/admin/teams", {"name": "  Retouren  "}, "/admin/teams")
    team = db.session.scalar(select(Team))
    assert team.name == "Retouren"
    _post(admin_client, "/admin/teams", {"name": "retouren"}, "/admin/teams")
    assert "already a team called" in _flashes(admin_client, "/admin/teams")
    _post(admin_client, "/admin/teams", {"name": ""}, "/admin/teams")
    assert "needs a name" in _flashes(admin_client, "/admin/teams")
    assert db.session.scalar(select(db.func.count()).select_from(Team)) == 1

    _post(admin_client, f"/admin/teams/{team.id}/name", {"name": "Returns"}, "/admin/teams")
    _post(admin_client, f"/admin/teams/{team.id}/members", {"user_id": agent.id}, "/admin/teams")
    db.session.expire_all()
    team = db.session.get(Team, team.id)
    assert team.name == "Returns" and [m.name for m in team.members] == ["Jana Agent"]
    page = _flashes(admin_client, "/admin/teams")
    assert "Returns" in page and "Jana Agent" in page
    assert "Jana Agent" in _flashes(admin_client, "/admin/users")  # the users page names teams

    _post(admin_client, f"/admin/teams/{team.id}/members/{agent.id}/remove", {}, "/admin/teams")
    db.session.expire_all()
    assert db.session.get(Team, team.id).members == []
    kinds = [e.kind for e in db.session.scalars(select(Event).order_by(Event.id))
             if e.kind.startswith("team.")]  # fmt: skip
    assert kinds == ["team.created", "team.renamed", "team.member_added", "team.member_removed"]
    assert (
        admin_client.post(
            "/admin/teams/999/name",
            data={"name": "x", "csrf_token": csrf_token(admin_client, "/admin/teams")},
        ).status_code
        == 404
    )


# --- channels --------------------------------------------------------------------------------


def test_channels_page_shows_health_queues_and_shops(admin_client):
    now = utcnow()
    db.session.add(ChannelState(kind="email", name="service", config={"address": "s@shop.de"},
                                last_error="LOGIN failed", last_error_at=now))  # fmt: skip
    db.session.add(ChannelState(kind="whatsapp", name="+49 30 1234", last_success_at=now))
    endpoint = WebhookEndpoint(name="payments", url="https://pay.example/hooks",
                               secret_env="PAY_SECRET", events=["dunning.*"])  # fmt: skip
    db.session.add(endpoint)
    db.session.flush()
    for status, error in (("pending", None), ("pending", None), ("dead", "HTTP 500 oops"),
                          ("sent", None)):  # fmt: skip
        db.session.add(OutboxItem(kind="webhook", status=status, last_error=error,
                                  payload={"endpoint_id": endpoint.id, "body": {}}))  # fmt: skip
    db.session.add(InboundDelivery(source="shopify", delivery_id="d-1", topic="orders/create"))
    shop = Shop(key="nordlicht", name="Nordlicht Mode", return_notifications=True)
    db.session.add(shop)
    db.session.commit()

    page = _flashes(admin_client, "/admin/channels")
    assert "LOGIN failed" in page and "+49 30 1234" in page
    assert 'href="/admin/mailboxes"' in page
    row = re.search(r"<tr[^>]*>\s*<td>payments</td>.*?</tr>", page, re.S).group(0)
    assert '<td class="pending">2</td>' in row and '<td class="dead">1</td>' in row
    assert "HTTP 500 oops" in row
    assert "shopify" in page and "Nordlicht Mode" in page

    _post(admin_client, f"/admin/shops/{shop.id}/return-notifications", {"on": "off"},
          "/admin/channels")  # fmt: skip
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).return_notifications is False
    assert "return notifications are off" in _flashes(admin_client, "/admin/channels")
    (event,) = _events("shop.updated")
    assert event.data == {"shop": "nordlicht", "return_notifications": False}
    _post(admin_client, f"/admin/shops/{shop.id}/return-notifications", {"on": "on"},
          "/admin/channels")  # fmt: skip
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).return_notifications is True


# --- canned responses ------------------------------------------------------------------------


def _response_form(**fields) -> dict:
    form = {
        "title": "Paket unterwegs",
        "shortcut": "paket",
        "language": "de",
        "intents": ["order_status"],
        "requires": ["order"],
        "body": "Hallo {{ customer.name }}, Ihre Bestellung {{ order.number }} ist unterwegs.",
        "active": "on",
        "action": "save",
    }
    form.update(fields)
    return form


def _save(client, path="/admin/responses/new", **fields):
    token = csrf_token(client, "/admin/responses/new")
    return client.post(path, data={**_response_form(**fields), "csrf_token": token})


def test_responses_are_listed_per_language(admin_client):
    install_default_responses()
    db.session.commit()
    page = _flashes(admin_client, "/admin/responses?language=en")
    assert "Return status" in page and "Stand der Retoure" not in page
    assert "Stand der Retoure" in _flashes(admin_client, "/admin/responses")


def test_a_response_is_created_with_its_settings_and_offered(admin_client):
    response = _save(admin_client, channels=["email", "chat"])
    assert response.status_code == 302
    saved = db.session.scalar(select(CannedResponse))
    assert (saved.shortcut, saved.language, saved.intents, saved.channels, saved.requires) == (
        "paket", "de", ["order_status"], ["email", "chat"], ["order"])  # fmt: skip
    (event,) = _events("canned_response.created")
    assert event.data["shortcut"] == "paket"

    order(number="100457")
    ticket = ingest(inbound(sender="helga.brandt@example.de", text="Wo ist meine Bestellung?"),
                    classifier=Classified("order_status", order_numbers=["100457"]))  # fmt: skip
    db.session.commit()
    ticket = db.session.get(Ticket, ticket.ticket_id)
    (offered,) = [s for s in suggestions(ticket) if s.response.id == saved.id]
    assert "Bestellung 100457 ist unterwegs" in offered.text

    _post(admin_client, f"/admin/responses/{saved.id}/active", {"active": "off"},
          "/admin/responses")  # fmt: skip
    db.session.expire_all()
    assert db.session.get(CannedResponse, saved.id).active is False
    assert all(s.response.id != saved.id for s in suggestions(db.session.get(Ticket, ticket.id)))
    assert len(_events("canned_response.deactivated")) == 1


def test_a_broken_template_is_not_saved_and_the_form_keeps_the_text(admin_client):
    body = "Hallo {{ customer.name }\nIhre Bestellung {% if order %}"
    response = _save(admin_client, body=body, shortcut="Bad Shortcut", intents=["nonsense"])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "error in line 1" in page
    assert "shortcut is lower-case" in page and "Unknown intent: nonsense" in page
    assert "Hallo {{ customer.name }" in page  # what was typed is still there
    assert db.session.scalars(select(CannedResponse)).all() == []
    response = _save(admin_client, body="{{ order.number | shout }}")
    assert response.status_code == 422 and "shout" in response.get_data(as_text=True)


def test_unknown_placeholders_are_warned_about_but_saved(admin_client):
    response = _save(admin_client, body="{{ oder.number }} {{ order.nubmer }} {{ order.number }}")
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No ticket provides these placeholders: oder, order.nubmer" in page
    assert db.session.scalar(select(CannedResponse)) is not None


def test_the_shortcut_is_unique_per_language(admin_client):
    _save(admin_client)
    response = _save(admin_client, title="Noch einmal")
    assert response.status_code == 422
    assert "already used in this language" in response.get_data(as_text=True)
    assert _save(admin_client, language="en", title="Parcel").status_code == 302
    assert db.session.scalar(select(db.func.count()).select_from(CannedResponse)) == 2


def test_editing_changes_the_saved_response(admin_client):
    _save(admin_client)
    saved = db.session.scalar(select(CannedResponse))
    path = f"/admin/responses/{saved.id}"
    token = csrf_token(admin_client, path)
    response = admin_client.post(path, data={**_response_form(title="Neu"), "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CannedResponse, saved.id).title == "Neu"
    (event,) = _events("canned_response.updated")
    assert event.data["changed"] == ["title"]


def test_preview_fills_in_a_real_ticket_and_shows_errors_never_a_500(admin_client):
    order(number="100457", name="Helga Brandt")
    result = ingest(inbound(sender="helga.brandt@example.de", text="Wo ist meine Bestellung?"),
                    classifier=Classified("order_status", order_numbers=["100457"]))  # fmt: skip
    bare = ingest(inbound(sender="nobody@example.com", text="Hallo"))
    db.session.commit()
    token = csrf_token(admin_client, "/admin/responses/new")

    def preview(body: str, number) -> str:
        response = admin_client.post("/admin/responses/new", data={
            **_response_form(body=body), "action": "preview", "ticket": str(number),
            "csrf_token": token})  # fmt: skip
        assert response.status_code == 200
        return response.get_data(as_text=True)

    page = preview("Hallo {{ customer.name }}, Bestellung {{ order.number }}.", result.ticket_id)
    assert "Hallo Helga Brandt, Bestellung 100457." in page
    assert db.session.scalars(select(CannedResponse)).all() == []  # a preview saves nothing

    page = preview("Bestellung {{ order.number }}", bare.ticket_id)
    assert "preview-error" in page and "Bestellung" not in page.split("preview-error")[1][:200]
    page = preview("{{ ''.__class__.__mro__[1].__subclasses__() }}", result.ticket_id)
    assert "preview-error" in page and "subclasses" not in page.split("preview-error")[1]
    page = preview("{% for x in range(10) %}", result.ticket_id)
    assert "error in line 1" in page
    page = preview("{{ 'x' * 1000000 }}", result.ticket_id)
    assert "not allowed" in page
    page = preview("{{ order.number }}", 98765)
    assert "There is no ticket #98765" in page
    page = preview("{{ order.number }}", "abc")
    assert "Enter the number of a ticket" in page
    page = preview("{{ oder.number }}", result.ticket_id)
    assert "preview-error" in page


def test_preview_of_a_saved_response_by_ticket_number(admin_client):
    install_default_responses()
    order(number="100457", name="Helga Brandt")
    result = ingest(inbound(sender="helga.brandt@example.de", text="Wo ist meine Retoure?"),
                    classifier=Classified("return_status", order_numbers=["100457"]))  # fmt: skip
    db.session.commit()
    saved = db.session.scalar(select(CannedResponse).where(
        CannedResponse.shortcut == "return-status", CannedResponse.language == "de"))  # fmt: skip
    page = admin_client.get(f"/admin/responses/{saved.id}?ticket={result.ticket_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # The ticket has an order but no return: the response needs one, and says so.
    assert "preview-error" in text
