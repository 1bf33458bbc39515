"""Agents log calls from the ticket page and from the customer page."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Customer, CustomerIdentity, Event, Message, Ticket
from tests.conftest import log_in, make_user
from tests.factories import inbound


def signed_in(app, role: str):
    client = app.test_client()
    user = make_user(role)
    assert log_in(client, user.email).status_code == 302
    return client, user


def post(client, page: str, path: str, data: dict):
    shown = client.get(page).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', shown).group(1)
    return client.post(path, data={**data, "csrf_token": token})


def text_of(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(page)).replace("\u00a0", " ")


def mail_ticket(sender="jana.krueger@example.de") -> Ticket:
    result = ingest(inbound("email", sender, "Wo bleibt meine Erstattung?", subject="Erstattung",
                            display_name="Jana Krüger"))  # fmt: skip
    db.session.commit()
    return result.ticket


def test_a_call_logged_on_the_ticket_is_a_phone_message_with_its_facts(app):
    client, agent = signed_in(app, "agent")
    ticket = mail_ticket()
    page = f"/tickets/{ticket.id}"
    note = "Erstattung kommt am Freitag, Kundin informiert."
    form = {"number": "0171 1234567", "direction": "out", "duration": "3:20",
            "outcome": "answered", "note": note}  # fmt: skip
    answer = post(client, page, f"{page}/calls", form)
    assert answer.status_code == 302 and "#message-" in answer.location
    call = db.session.scalar(select(Message).where(Message.channel == "phone"))
    assert call.ticket_id == ticket.id and call.direction == "outbound"
    assert call.author_id == agent.id and call.text.startswith("Erstattung kommt")
    assert call.details["call"] == {"number": "+491711234567", "direction": "out",
                                    "duration_seconds": 200, "outcome": "answered",
                                    "note": form["note"], "logged_by": agent.id}  # fmt: skip
    phone = db.session.scalar(select(CustomerIdentity).where(CustomerIdentity.kind == "phone"))
    assert phone.customer_id == ticket.customer_id and phone.value == "+491711234567"
    event = db.session.scalar(select(Event).where(Event.kind == "call.logged"))
    assert event.data["outcome"] == "answered" and "note" not in event.data
    shown = text_of(client.get(page))
    assert "Erstattung kommt am Freitag" in shown and "Call logged: +491711234567" in shown
    assert "+491711234567 · outgoing · 3:20 · answered" in shown


def test_a_wrong_number_is_refused_and_nothing_is_stored(app):
    client, _agent = signed_in(app, "agent")
    ticket = mail_ticket()
    page = f"/tickets/{ticket.id}"
    answer = post(client, page, f"{page}/calls",
                  {"number": "ruft an", "direction": "in", "outcome": "answered"})  # fmt: skip
    assert answer.status_code == 302
    assert "not a phone number" in text_of(client.get(answer.location))
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1
    assert db.session.scalar(select(func.count()).select_from(CustomerIdentity)) == 1


def test_a_missed_call_logged_from_the_customer_opens_a_callback_ticket(app):
    client, _agent = signed_in(app, "agent")
    customer_id = mail_ticket().customer_id
    page = f"/customers/{customer_id}"
    form = {"number": "+49 30 609876543", "direction": "in", "outcome": "missed", "note": ""}
    answer = post(client, page, f"{page}/calls", form)
    assert answer.status_code == 302
    call = db.session.scalar(select(Message).where(Message.channel == "phone"))
    assert call.ticket.channel == "phone" and call.ticket.customer_id == customer_id
    assert "callback" in {t.name for t in call.ticket.tags}
    assert call.details["call"]["outcome"] == "missed"
    # The same caller again continues that ticket.
    post(client, page, f"{page}/calls", {**form, "outcome": "voicemail"})
    calls = db.session.scalars(select(Message).where(Message.channel == "phone")).all()
    assert len(calls) == 2 and calls[0].ticket_id == calls[1].ticket_id
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 1


def test_a_call_out_from_the_customer_page_lands_on_their_open_ticket(app):
    client, _agent = signed_in(app, "agent")
    ticket = mail_ticket()
    page = f"/customers/{ticket.customer_id}"
    post(client, page, f"{page}/calls",
         {"number": "030 609876543", "direction": "out", "outcome": "answered"})  # fmt: skip
    call = db.session.scalar(select(Message).where(Message.channel == "phone"))
    assert call.ticket_id == ticket.id and call.direction == "outbound"


def test_a_number_another_customer_has_joins_the_two(app):
    client, agent = signed_in(app, "agent")
    caller = ingest(inbound("whatsapp", "491711234567", "Hallo?", display_name="J. Krüger"))
    ticket = mail_ticket()
    page = f"/tickets/{ticket.id}"
    post(client, page, f"{page}/calls",
         {"number": "01711234567", "direction": "in", "outcome": "answered"})  # fmt: skip
    db.session.expire_all()
    survivors = db.session.scalars(select(Customer).where(Customer.merged_into_id.is_(None))).all()
    assert len(survivors) == 1
    owners = {db.session.get(Ticket, n).customer_id for n in (caller.ticket_id, ticket.id)}
    assert owners == {survivors[0].id}


def test_social_media_managers_do_not_log_calls(app):
    client, _social = signed_in(app, "social")
    ticket = mail_ticket()
    answer = client.post(f"/tickets/{ticket.id}/calls", data={"number": "030 1234567"})
    assert answer.status_code in (400, 403)
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1
