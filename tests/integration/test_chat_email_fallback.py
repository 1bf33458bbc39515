"""A chat reply the visitor never saw (they closed the tab) goes by e-mail once it has
waited CHAT_EMAIL_FALLBACK_MINUTES, through a real SMTP server; one the widget handed
over stays a chat message, and without an address the ticket says why it cannot reach."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import ChatSession, Message, OutboxItem, Ticket
from helpdesk.models.types import utcnow
from helpdesk.services.delivery import deliver_due
from helpdesk.services.faq import install_default_faq
from helpdesk.services.replies import add_reply
from tests.conftest import make_user
from tests.mail_servers import SmtpRecorder


@pytest.fixture
def smtp(app, monkeypatch):
    install_default_faq()
    db.session.commit()
    monkeypatch.setitem(app.config, "MAIL_FROM", "service@shop.example")
    with SmtpRecorder() as server:
        monkeypatch.setitem(app.config, "SMTP_URL", server.url())
        yield server


def chat_ticket(client, *, email: str | None) -> tuple[str, Ticket]:
    token = client.post("/chat/api/start", json={"language": "de"}).get_json()["token"]
    if email:
        client.post("/chat/api/identify", json={"name": "Kim Lee", "email": email},
                    headers={"X-Chat-Token": token})  # fmt: skip
    client.post("/chat/api/messages", json={"id": "message-1", "text": "Passt die Jacke in L?"},
                headers={"X-Chat-Token": token})  # fmt: skip
    chat = db.session.scalar(select(ChatSession))
    return token, db.session.get(Ticket, chat.ticket_id)


def answer(ticket: Ticket, text: str) -> Message:
    reply = add_reply(ticket, make_user("agent"), text)
    db.session.commit()
    assert reply.channel == "chat"
    return reply


def test_an_unread_chat_reply_goes_by_email_after_the_wait(app, client, smtp):
    _token, ticket = chat_ticket(client, email="kim.lee@example.com")
    reply = answer(ticket, "Ja, die Jacke fällt normal aus; L passt bei 1,80 m.")
    # Within the wait the worker leaves it to the widget.
    assert deliver_due(now=utcnow() + timedelta(minutes=14)).total() == 0
    assert smtp.messages == []

    assert deliver_due(now=utcnow() + timedelta(minutes=16))["sent"] == 1
    [mail] = smtp.messages
    parsed = mail.parsed()
    assert parsed["To"] == "Kim Lee <kim.lee@example.com>"
    assert parsed["From"] == "service@shop.example"
    assert f"[#{ticket.number}]" in parsed["Subject"]
    body = parsed.get_body(("plain",)).get_content()
    assert body.startswith("Sie hatten den Chat verlassen, bevor unsere Antwort ankam.")
    assert "L passt bei 1,80 m." in body
    db.session.expire_all()
    item = db.session.scalar(select(OutboxItem).where(OutboxItem.message_id == reply.id))
    assert item.status == "sent"
    stored = db.session.get(Message, reply.id)
    assert stored.details["fallback"] == "email" and stored.details["delivery"]["status"] == "sent"
    # Nothing is sent twice.
    assert deliver_due(now=utcnow() + timedelta(hours=2)).total() == 0
    assert len(smtp.messages) == 1


def test_a_reply_the_widget_handed_over_is_not_mailed(app, client, smtp):
    token, ticket = chat_ticket(client, email="kim.lee@example.com")
    reply = answer(ticket, "Gern geschehen!")
    shown = client.get("/chat/api/messages?after=0", headers={"X-Chat-Token": token})
    assert shown.get_json()["messages"][-1]["text"] == "Gern geschehen!"
    assert deliver_due(now=utcnow() + timedelta(hours=1)).total() == 0
    assert smtp.messages == []
    db.session.expire_all()
    assert db.session.get(Message, reply.id).details["delivery"]["status"] == "sent"


def test_without_an_address_the_ticket_says_why_the_reply_cannot_reach(app, client, smtp):
    _token, ticket = chat_ticket(client, email=None)
    reply = answer(ticket, "Ja, L passt.")
    assert deliver_due(now=utcnow() + timedelta(minutes=16))["failed"] == 1
    assert smtp.messages == []
    db.session.expire_all()
    delivery = db.session.get(Message, reply.id).details["delivery"]
    assert delivery["status"] == "failed"
    assert "gave no e-mail address" in delivery["error"]
    page_owner = make_user("lead")
    from tests.conftest import log_in

    log_in(client, page_owner.email)
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert "gave no e-mail address" in page
