"""The phone and escalation demo data: loading it twice adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from helpdesk.demo.phone import load_phone_demo
from helpdesk.extensions import db
from helpdesk.models import Message, Ticket, User
from helpdesk.models.types import utcnow
from tests.conftest import make_user


def test_demo_calls_and_escalation_load_once(app):
    users = {
        f"{role}@example.com": make_user(role, f"{role}@example.com")
        for role in ("agent", "social")
    }
    load_phone_demo(users, utcnow())
    db.session.commit()
    messages = db.session.scalar(select(func.count()).select_from(Message))
    phone = db.session.scalars(select(Message).where(Message.channel == "phone")).all()
    assert {m.details["call"]["outcome"] for m in phone} == {"answered", "missed"}
    escalated = db.session.scalar(select(Ticket).where(Ticket.escalated_to_id.is_not(None)))
    assert escalated.channel == "instagram"
    care = db.session.get(Ticket, escalated.escalated_to_id)
    assert care.channel == "email" and care.priority == "high"

    load_phone_demo(users, utcnow())
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Message)) == messages
    assert db.session.scalar(select(func.count()).select_from(User)) == 2
