"""`tickets.intent_bits` holds what the tags say, whichever way the tags change."""

from __future__ import annotations

from sqlalchemy import delete, select, text

from classifiers.base import INTENTS
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import IntentTag, Message, Ticket
from helpdesk.services.inbox_intents import INTENT_BITS, refresh_all_sql
from tests.factories import Classified, inbound


def carried(ticket_id: int) -> set[str]:
    db.session.expire_all()
    bits = db.session.scalar(select(Ticket.intent_bits).where(Ticket.id == ticket_id))
    return {intent for intent, bit in INTENT_BITS.items() if bits & bit}


def new_ticket(*intents: str) -> Ticket:
    result = ingest(inbound(text="Hallo"), classifier=Classified(*intents))
    db.session.commit()
    return result.ticket


def tag(ticket: Ticket, intent: str, *, rejected: bool = False) -> None:
    db.session.add(IntentTag(ticket_id=ticket.id, intent=intent, source="agent", rejected=rejected))
    db.session.commit()


def test_every_intent_has_its_own_bit():
    assert set(INTENT_BITS) == set(INTENTS)
    assert len(set(INTENT_BITS.values())) == len(INTENT_BITS)
    assert all(bit & (bit - 1) == 0 for bit in INTENT_BITS.values())


def test_the_bits_follow_the_latest_tag_of_each_intent(app):
    ticket = new_ticket("return_status", "payment_reminder")
    assert carried(ticket.id) == {"return_status", "payment_reminder"}
    tag(ticket, "payment_reminder", rejected=True)
    assert carried(ticket.id) == {"return_status"}
    tag(ticket, "payment_reminder")  # the agent changed their mind
    tag(ticket, "refund_status")
    assert carried(ticket.id) == {"return_status", "payment_reminder", "refund_status"}
    other = new_ticket("order_status")
    assert carried(other.id) == {"order_status"}  # one ticket's tags leave others alone


def test_tags_that_go_with_their_message_take_their_bits_along(app):
    ticket = new_ticket("exchange_request")
    message_id = db.session.scalar(select(Message.id).where(Message.ticket_id == ticket.id))
    db.session.execute(delete(Message).where(Message.id == message_id))
    db.session.commit()
    assert carried(ticket.id) == set()


def test_tags_moved_to_another_ticket_move_their_bits(app):
    first, second = new_ticket("damaged_or_wrong"), new_ticket("order_status")
    db.session.execute(
        text("UPDATE intent_tags SET ticket_id = :to WHERE ticket_id = :from"),
        {"to": second.id, "from": first.id},
    )
    db.session.commit()
    assert carried(first.id) == set()
    assert carried(second.id) == {"damaged_or_wrong", "order_status"}


def test_a_bulk_refresh_sets_what_the_triggers_would(app):
    ticket = new_ticket("return_request", "other")
    tag(ticket, "other", rejected=True)
    db.session.execute(text("UPDATE tickets SET intent_bits = 0"))
    db.session.execute(text(refresh_all_sql()))
    db.session.commit()
    assert carried(ticket.id) == {"return_request"}


def test_the_migration_fills_the_bits_of_existing_tickets(app):
    from flask_migrate import downgrade, upgrade

    ticket = new_ticket("refund_status", "order_status")
    tag(ticket, "order_status", rejected=True)
    ticket_id = ticket.id
    db.session.remove()
    downgrade(revision="b7a1c0de0010")
    try:
        upgrade()
    finally:
        upgrade()  # leave the schema complete for the tests that follow
        # An upgrade with nothing to do leaves its pooled SQLite connection with foreign
        # keys off (helpdesk/migrations/env.py turns them on inside an open transaction);
        # later tests on this worker must not get it.
        db.engine.dispose()
    assert carried(ticket_id) == {"refund_status"}
