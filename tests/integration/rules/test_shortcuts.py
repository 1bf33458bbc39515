"""The shortcuts that keep rules cheap on ingest decide as the full run would: a reply
still sees the intents of the ticket's earlier messages, a rule's events are written
together but in order and pointing at their rows, and the outbound-webhook
subscriptions read once per transaction still follow every change made to them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Event, Message, OutboxItem, Team, Ticket
from helpdesk.services.events import events_written_together, record_event
from helpdesk.services.rules.store import save_rule
from helpdesk.services.webhooks_out import add_endpoint, emit
from tests.factories import Classified, inbound


def rule(name: str, *, all=(), any=(), actions=None) -> None:
    save_rule({
        "name": name,
        "events": ["message.received"],
        "conditions": {"all": list(all), "any": list(any)},
        "actions": actions or [{"type": "add_tags", "tags": [name]}],
    })  # fmt: skip
    db.session.commit()


def tags(ticket_id: int) -> set[str]:
    ticket = db.session.get(Ticket, ticket_id)
    db.session.refresh(ticket)
    return {t.name for t in ticket.tags}


def queued() -> list[str]:
    items = db.session.scalars(select(OutboxItem).where(OutboxItem.kind == "webhook")
                               .order_by(OutboxItem.id))  # fmt: skip
    return [item.payload["body"]["type"] for item in items]


# --- conditions decided before the run ---------------------------------------------------


def test_a_reply_is_judged_by_the_intents_of_the_whole_ticket(app):
    first = ingest(inbound(sender="a@example.com", text="Mahnung", thread_key="t-1"),
                   classifier=Classified("payment_reminder"))  # fmt: skip
    db.session.commit()
    rule("reminder", all=[{"field": "intent", "op": "has", "value": "payment_reminder"}])
    rule("damaged", all=[{"field": "intent", "op": "has", "value": "damaged_or_wrong"}])
    reply = ingest(inbound(sender="a@example.com", text="Und nun?", thread_key="t-1"),
                   classifier=Classified())  # fmt: skip
    db.session.commit()
    assert reply.ticket_id == first.ticket_id and not reply.created_ticket
    assert tags(reply.ticket_id) == {"reminder"}


def test_a_new_ticket_is_judged_by_the_intents_of_its_first_message(app):
    rule("reminder", all=[{"field": "intent", "op": "has", "value": "payment_reminder",
                           "min_confidence": 0.5}])  # fmt: skip
    rule("sure", any=[{"field": "intent", "op": "has", "value": "order_status",
                       "min_confidence": 0.95}])  # fmt: skip
    result = ingest(inbound(sender="b@example.com"),
                    classifier=Classified("payment_reminder", "order_status"))  # fmt: skip
    db.session.commit()
    assert tags(result.ticket_id) == {"reminder"}  # 0.9 is not sure enough for "sure"


# --- a rule's events, written together ---------------------------------------------------


def test_a_rules_events_are_written_in_order_and_name_their_rows(app):
    rule("both", actions=[
        {"type": "set_priority", "priority": "high"},
        {"type": "add_note", "text": "Bitte prüfen."},
        {"type": "add_tags", "tags": ["eins", "zwei"]},
    ])  # fmt: skip
    result = ingest(inbound(sender="c@example.com"))
    db.session.commit()
    events = db.session.scalars(
        select(Event).where(Event.actor.like("rule:%")).order_by(Event.id)
    ).all()
    assert [e.kind for e in events] == [
        "ticket.priority_changed",
        "note.added",
        "ticket.tag_added",
        "ticket.tag_added",
    ]
    note = db.session.scalar(select(Message).where(Message.direction == "note"))
    assert events[1].message_id == note.id
    assert all(e.ticket_id == result.ticket_id and e.created_at is not None for e in events)
    assert tags(result.ticket_id) == {"eins", "zwei"}


def test_a_failing_rule_writes_none_of_its_events(app):
    rule("broken", actions=[
        {"type": "set_priority", "priority": "high"},
        {"type": "assign", "to": "round_robin"},  # no team: fails
    ])  # fmt: skip
    result = ingest(inbound(sender="d@example.com"))
    db.session.commit()
    kinds = db.session.scalars(select(Event.kind).where(Event.ticket_id == result.ticket_id))
    assert "ticket.priority_changed" not in set(kinds)
    assert db.session.get(Ticket, result.ticket_id).priority == "normal"


def test_events_written_together_are_there_for_whoever_reads_after_a_flush(app):
    ticket = db.session.get(Ticket, ingest(inbound(sender="i@example.com")).ticket_id)
    mine = select(Event.kind).where(Event.actor == "test").order_by(Event.id)
    with events_written_together():
        record_event("ticket.priority_changed", ticket=ticket, actor="test", new="high")
        ticket.priority = "high"
        db.session.flush()
        seen = db.session.scalars(mine).all()
        record_event("ticket.tag_added", ticket=ticket, actor="test", tag="a")
    with pytest.raises(RuntimeError), events_written_together():
        record_event("ticket.tag_added", ticket=ticket, actor="test", tag="b")
        raise RuntimeError("the block fails")
    db.session.commit()
    assert seen == ["ticket.priority_changed"]
    assert db.session.scalars(mine).all() == ["ticket.priority_changed", "ticket.tag_added"]


# --- webhook subscriptions, read once per transaction --------------------------------------


def test_an_endpoint_created_in_the_transaction_hears_the_next_event(app):
    ticket = db.session.get(Ticket, ingest(inbound(sender="e@example.com")).ticket_id)
    record_event("ticket.priority_changed", ticket=ticket, old="normal", new="high")
    add_endpoint("crm", "http://127.0.0.1:9/hook", "CRM_SECRET", ["ticket.*"])
    db.session.flush()
    record_event("ticket.priority_changed", ticket=ticket, old="high", new="urgent")
    db.session.commit()
    assert queued() == ["ticket.updated"]


def test_an_endpoint_switched_off_in_the_transaction_hears_nothing_more(app):
    endpoint = add_endpoint("crm", "http://127.0.0.1:9/hook", "CRM_SECRET", ["ticket.*"])
    db.session.commit()
    ticket = db.session.get(Ticket, ingest(inbound(sender="f@example.com")).ticket_id)
    record_event("ticket.priority_changed", ticket=ticket, old="normal", new="high")
    endpoint.active = False
    db.session.flush()
    record_event("ticket.priority_changed", ticket=ticket, old="high", new="urgent")
    emit("ticket.updated", {"by": "test"})
    db.session.commit()
    assert queued() == ["ticket.created", "ticket.updated"]


def test_an_endpoint_added_but_not_flushed_counts_where_a_query_would_flush(app):
    ticket = db.session.get(Ticket, ingest(inbound(sender="g@example.com")).ticket_id)
    record_event("ticket.priority_changed", ticket=ticket, old="normal", new="high")
    add_endpoint("payments", "http://127.0.0.1:9/hook", "PAY_SECRET", ["dunning.*"])
    emit("dunning.hold", {"invoice": "R-1"})  # flushes first, as it always did
    db.session.commit()
    assert queued() == ["dunning.hold"]


def test_an_endpoint_rolled_back_with_its_savepoint_is_forgotten(app):
    ticket = db.session.get(Ticket, ingest(inbound(sender="h@example.com")).ticket_id)
    savepoint = db.session.begin_nested()
    add_endpoint("crm", "http://127.0.0.1:9/hook", "CRM_SECRET", ["ticket.*"])
    db.session.flush()
    record_event("ticket.priority_changed", ticket=ticket, old="normal", new="high")
    savepoint.rollback()
    record_event("ticket.priority_changed", ticket=ticket, old="high", new="urgent")
    db.session.commit()
    assert queued() == []


# --- tags, orders and ticket fields known before or during the run -------------------------


def test_a_rule_sees_the_tags_an_earlier_rule_added_or_removed_in_the_same_run(app):
    rule("first", actions=[{"type": "add_tags", "tags": ["geprüft", "offen"]}])
    rule("second", all=[{"field": "ticket.tags", "op": "has", "value": "geprüft"}])
    rule("third", actions=[{"type": "remove_tags", "tags": ["offen"]}])
    rule("fourth", all=[{"field": "ticket.tags", "op": "has_not", "value": "offen"}])
    result = ingest(inbound(sender="t@example.com"), classifier=Classified())
    db.session.commit()
    assert tags(result.ticket_id) == {"geprüft", "second", "fourth"}


def test_a_once_per_ticket_rule_acts_on_the_first_message_only(app):
    """The shipped reminder rule's guard: the tag it sets, read before a reply's run."""
    rule("once", all=[{"field": "ticket.tags", "op": "has_not", "value": "once"}],
         actions=[{"type": "add_tags", "tags": ["once"]},
                  {"type": "add_note", "text": "einmal"}])  # fmt: skip
    first = ingest(inbound(sender="o@example.com", thread_key="t-once"), classifier=Classified())
    db.session.commit()
    for text in ("Und?", "Hallo?"):
        reply = ingest(inbound(sender="o@example.com", text=text, thread_key="t-once"),
                       classifier=Classified())  # fmt: skip
        db.session.commit()
        assert reply.ticket_id == first.ticket_id
    notes = select(Message).where(Message.direction == "note")
    assert len(db.session.scalars(notes).all()) == 1
    assert tags(first.ticket_id) == {"once"}


def test_a_reply_sees_an_order_linked_after_the_ticket_was_opened(app):
    from datetime import timedelta

    from helpdesk.models.types import utcnow
    from tests.factories import order

    rule("about an order", all=[{"field": "order", "op": "present"}],
         actions=[{"type": "add_note", "text": "Bestellung da"}])  # fmt: skip
    notes = select(Message).where(Message.direction == "note")
    first = ingest(inbound(sender="helga.brandt@example.de", thread_key="t-order"),
                   classifier=Classified())  # fmt: skip
    db.session.commit()
    assert db.session.scalars(notes).all() == []
    order(placed_at=utcnow() - timedelta(days=2))  # the customer's, placed with her address
    for text in ("Und jetzt?", "Noch einmal"):  # linked with the first reply, kept after
        ingest(inbound(sender="helga.brandt@example.de", text=text, thread_key="t-order"),
               classifier=Classified())  # fmt: skip
        db.session.commit()
    assert db.session.get(Ticket, first.ticket_id).order is not None
    assert len(db.session.scalars(notes).all()) == 2


def test_a_failing_rule_leaves_the_loaded_ticket_as_the_store_has_it(app):
    """The actions show their changes on the loaded ticket before they are written; when
    the rule fails, the ticket in the session must not keep them."""
    gone = Team(name="Aufgelöst")
    db.session.add_all([Team(name="Retouren"), gone])
    db.session.commit()
    rule("broken", actions=[
        {"type": "set_team", "team": "Retouren"},
        {"type": "set_priority", "priority": "urgent"},
        {"type": "assign", "to": "round_robin", "team": "Aufgelöst"},
    ])  # fmt: skip
    db.session.delete(gone)  # after the rule was saved: its last action fails
    db.session.commit()
    result = ingest(inbound(sender="f@example.com"), classifier=Classified())
    ticket = db.session.get(Ticket, result.ticket_id)  # the one the rule changed
    assert (ticket.priority, ticket.team_id, ticket.team) == ("normal", None, None)
    db.session.commit()
    failed = db.session.scalars(select(Event.kind).where(Event.kind == "rule.failed")).all()
    assert failed == ["rule.failed"]


def test_a_rules_changes_are_in_the_store_and_on_the_loaded_ticket(app):
    team = Team(name="Retouren")
    db.session.add(team)
    db.session.commit()
    rule("route", actions=[
        {"type": "set_team", "team": "Retouren"},
        {"type": "set_priority", "priority": "high"},
        {"type": "set_status", "status": "solved"},
        {"type": "set_language", "language": "en"},
    ])  # fmt: skip
    result = ingest(inbound(sender="r@example.com"), classifier=Classified())
    loaded = db.session.get(Ticket, result.ticket_id)
    assert (loaded.team, loaded.team_id, loaded.priority, loaded.status, loaded.language) == (
        team, team.id, "high", "solved", "en")  # fmt: skip
    assert loaded.solved_at is not None
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Ticket, result.ticket_id)
    assert (stored.team_id, stored.priority, stored.status, stored.language) == (
        team.id, "high", "solved", "en")  # fmt: skip
    assert stored.solved_at is not None
