"""The social demo DMs: real webhook bodies through the parsers, loaded once, and showing
the window and a failed delivery as an agent would meet them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpdesk.demo.social import DEMO_DMS, load_social_demo
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import Message, Ticket
from helpdesk.models.types import utcnow
from helpdesk.services.social_send import check_reply
from tests.conftest import make_user


def test_the_demo_dms_load_once_in_both_languages(app):
    users = {"social@example.com": make_user("social", "social@example.com")}
    assert load_social_demo(users, utcnow()) == len(DEMO_DMS)
    db.session.commit()
    messages = db.session.scalar(select(func.count()).select_from(Message))
    assert load_social_demo(users, utcnow()) == 0
    assert db.session.scalar(select(func.count()).select_from(Message)) == messages
    tickets = db.session.scalars(select(Ticket)).all()
    assert {t.channel for t in tickets} == {"instagram", "messenger", "whatsapp"}
    texts = " ".join(db.session.scalars(select(Message.text)))
    assert "Größe 38" in texts and "Do you ship to the UK?" in texts  # German and English
    story = db.session.scalar(select(Message).where(Message.external_id == "m_demo-story-0"))
    assert story.details["story"]["kind"] == "reply"
    assert story.ticket.customer.name == "Lena Vogt"
    failed = db.session.scalar(select(Message).where(Message.external_id == "m_demo-failed-99"))
    assert failed is None  # WhatsApp ids are wamids
    failed = db.session.scalar(select(Message).where(Message.external_id == "wamid.demo-failed-99"))
    assert failed.details["delivery"]["status"] == "failed"


def test_the_closed_window_and_the_human_agent_tag_in_the_demo(app):
    users = {"social@example.com": make_user("social", "social@example.com")}
    now = utcnow()
    load_social_demo(users, now)
    db.session.commit()

    def ticket_of(mid: str) -> Ticket:
        return db.session.scalar(select(Message).where(Message.external_id == mid)).ticket

    closed = ticket_of("wamid.demo-closed-0")
    tagged = ticket_of("m_demo-tag-0")
    with app.test_request_context():  # the refusal is worded in the agent's language
        with pytest.raises(InvalidInput, match="outside the 24-hour window"):
            check_reply(closed, "whatsapp", "Nächste Woche!", now=now)
        check_reply(tagged, "messenger", "Gern geschehen!", now=now)  # HUMAN_AGENT: 3 days
        check_reply(tagged, "messenger", "Noch da?", now=now + timedelta(days=3))  # 6 days
        with pytest.raises(InvalidInput, match="within 7 days"):
            check_reply(tagged, "messenger", "Hallo?", now=now + timedelta(days=5))
