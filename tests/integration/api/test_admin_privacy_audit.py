"""GDPR export and erasure in the admin UI, and the audit log of admin actions."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Customer, Event, Ticket
from tests import factories
from tests.conftest import csrf_token, signed_in_client


def _customer() -> int:
    message = factories.inbound(
        text="Bitte löschen Sie meine Daten.", sender="erika@example.de", display_name="Erika"
    )
    found = ingest(message)
    db.session.commit()
    return found.ticket.customer_id


def test_export_downloads_everything_and_is_audited(app, admin_client):
    number = _customer()
    response = admin_client.get(f"/admin/customers/{number}/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert "Bitte löschen Sie meine Daten." in response.get_data(as_text=True)
    audit = admin_client.get("/admin/audit?area=customer").get_data(as_text=True)
    assert "customer.exported" in audit


def test_erase_needs_the_number_and_a_reason(app, admin_client):
    number = _customer()
    page = f"/admin/customers/{number}/privacy"
    token = csrf_token(admin_client, page)
    url = f"/admin/customers/{number}/erase"
    wrong = admin_client.post(url, data={"csrf_token": token, "confirm": "0", "reason": "Art. 17"})
    assert wrong.status_code == 422 and "confirm" in wrong.get_data(as_text=True)
    no_reason = admin_client.post(url, data={"csrf_token": token, "confirm": str(number),
                                             "reason": " "})  # fmt: skip
    assert no_reason.status_code == 422
    assert db.session.get(Customer, number) is not None
    done = admin_client.post(url, data={"csrf_token": token, "confirm": str(number),
                                        "reason": "Request by e-mail, Art. 17"})  # fmt: skip
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Customer, number) is None
    assert db.session.scalar(select(Ticket.id)) is None
    event = db.session.scalar(select(Event).where(Event.kind == "customer.erasure_requested"))
    assert event.data["reason"] == "Request by e-mail, Art. 17"
    assert event.data["customer_number"] == number and event.user_id is not None
    assert "erika" not in str(event.data).lower()


def test_only_admins_reach_privacy_and_audit(app):
    number = _customer()
    lead = signed_in_client(app, "lead")
    for url in (f"/admin/customers/{number}/export", "/admin/audit", "/admin/webhooks"):
        assert lead.get(url).status_code == 403


def test_audit_filters_by_area_user_and_date(app, admin_client):
    token = csrf_token(admin_client, "/admin/teams")
    admin_client.post("/admin/teams", data={"csrf_token": token, "name": "Retouren"})
    everything = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "team.created" in everything and "Retouren" in everything
    assert "team.created" not in admin_client.get("/admin/audit?area=user").get_data(as_text=True)
    assert "team.created" not in admin_client.get("/admin/audit?since=2999-01-01").get_data(
        as_text=True
    )
    assert admin_client.get("/admin/audit?since=yesterday").status_code == 400
    assert admin_client.get("/admin/audit?area=nope").status_code == 400
