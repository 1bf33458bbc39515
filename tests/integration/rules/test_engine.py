"""The rules engine: each condition, each action, order and stop, failures, safeguards of
automatic answers, and the events that start a run besides ingest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from classifiers.base import Classification
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Draft, Event, Message, OutboxItem, Ticket, WebhookEndpoint
from helpdesk.models.types import utcnow
from helpdesk.services.canned import install_default_responses
from helpdesk.services.events import record_event
from helpdesk.services.replies import set_status
from helpdesk.services.rules.conditions import holds
from helpdesk.services.rules.context import RuleContext
from helpdesk.services.rules.store import save_rule
from tests.factories import Classified, inbound
from tests.integration.rules.helpers import returned_order, shipped_order, team_with


class Scored(Classified):
    """Says `scores` (intent -> confidence) for any text."""

    def __init__(self, scores: dict[str, float], language: str = "de") -> None:
        super().__init__(*scores, language=language)
        self.scores = scores

    def classify(self, text: str, *, subject: str = ""):
        found = super().classify(text, subject=subject)
        return Classification(found.intents, self.scores, found.language, found.entities, "t")


def rule(name="r", *, events=("message.received",), all=(), any=(), actions=None, **fields):
    data = {
        "name": name,
        "events": list(events),
        "conditions": {"all": list(all), "any": list(any)},
        "actions": actions or [{"type": "add_tags", "tags": [name]}],
        **fields,
    }
    saved = save_rule(data)
    db.session.commit()
    return saved


def tags(ticket_id: int) -> set[str]:
    ticket = db.session.get(Ticket, ticket_id)
    db.session.refresh(ticket)
    return {t.name for t in ticket.tags}


def context_for(result, **seed) -> RuleContext:
    return RuleContext(result.ticket_id, frozenset({"message.received"}),
                       message_id=result.message_id, seed=seed)  # fmt: skip


# --- conditions --------------------------------------------------------------------------


def test_message_and_ticket_conditions(app):
    result = ingest(
        inbound(sender="a@example.com", text="Meine Retoure und eine Mahnung", subject="Mahnung",
                recipient="Returns@Shop.test"),
        classifier=Scored({"payment_reminder": 0.7, "return_status": 0.4}),
    )  # fmt: skip
    db.session.commit()
    context = context_for(result)
    cases = [
        ({"field": "channel", "op": "is", "value": "email"}, True),
        ({"field": "channel", "op": "in", "value": ["chat", "whatsapp"]}, False),
        ({"field": "mailbox", "op": "is", "value": "returns@shop.test"}, True),
        ({"field": "mailbox", "op": "contains", "value": "service@"}, False),
        ({"field": "language", "op": "is", "value": "de"}, True),
        ({"field": "intent", "op": "has", "value": "payment_reminder"}, True),
        ({"field": "intent", "op": "has", "value": "return_status", "min_confidence": 0.5}, False),
        ({"field": "intent", "op": "has_not", "value": "order_status"}, True),
        ({"field": "intent", "op": "has_any", "value": ["order_status", "return_status"]}, True),
        ({"field": "entity", "op": "has", "value": "order_number"}, False),
        ({"field": "message.text", "op": "contains", "value": ["RETOURE"]}, True),
        ({"field": "message.auto_submitted", "op": "is", "value": False}, True),
        ({"field": "ticket.status", "op": "is", "value": "new"}, True),
        ({"field": "ticket.priority", "op": "is_not", "value": "normal"}, False),
        ({"field": "ticket.team", "op": "absent"}, True),
        ({"field": "ticket.assignee", "op": "present"}, False),
        ({"field": "ticket.tags", "op": "has", "value": "vip"}, False),
        ({"field": "ticket.subject", "op": "contains", "value": "mahnung"}, True),
        ({"field": "ticket.escalated", "op": "is", "value": False}, True),
        ({"field": "customer", "op": "is", "value": "new"}, True),
        ({"field": "customer.open_tickets", "op": "eq", "value": 0}, True),
        ({"field": "order", "op": "absent"}, True),
        ({"field": "return", "op": "present"}, False),
        ({"field": "invoice", "op": "has", "value": "in_dunning"}, False),
        ({"field": "shipment.tracking", "op": "present"}, False),
    ]
    for condition, expected in cases:
        assert holds(condition, context) is expected, condition


def test_customer_order_invoice_return_and_shipment_conditions(app):
    returned_order()
    first = ingest(inbound(sender="helga.brandt@example.de", text="Mahnung?"))
    second = ingest(inbound(sender="helga.brandt@example.de", text="Noch eine Frage"))
    db.session.commit()
    context = context_for(second)
    assert holds({"field": "customer", "op": "is", "value": "returning"}, context)
    assert holds({"field": "customer.open_tickets", "op": "gte", "value": 1}, context)
    assert holds({"field": "order", "op": "present"}, context)
    assert holds({"field": "return", "op": "is", "value": "received"}, context)
    assert holds({"field": "invoice", "op": "has", "value": "in_dunning"}, context)
    assert holds({"field": "invoice", "op": "has_not", "value": "on_hold"}, context)
    assert holds({"field": "shipment.status", "op": "absent"}, context)
    assert first.ticket_id != second.ticket_id

    shipped_order()
    wismo = ingest(inbound(sender="sam.taylor@example.com", text="Where is it?"))
    db.session.commit()
    context = context_for(wismo)
    assert holds({"field": "shipment.status", "op": "in", "value": ["in_transit"]}, context)
    assert holds({"field": "shipment.tracking", "op": "present"}, context)
    assert holds({"field": "customer", "op": "is", "value": "new"}, context)


def test_business_hours_condition_follows_the_clock(app):
    result = ingest(inbound())
    db.session.commit()
    monday_ten = utcnow().replace(year=2026, month=12, day=7, hour=9, minute=0)  # 10:00 Berlin
    sunday = monday_ten - timedelta(days=1)
    condition = {"field": "business_hours", "op": "is", "value": True}
    assert holds(condition, RuleContext(result.ticket_id, frozenset(), now=monday_ten))
    assert not holds(condition, RuleContext(result.ticket_id, frozenset(), now=sunday))


def test_business_hours_are_the_tickets_team_calendar_else_the_shops(app):
    """The calendars of Admin → SLA decide, as for the KPIs: the weekend team works on
    Sunday, the shop's default (stored without a team) not on Christmas Eve."""
    from helpdesk.models import BusinessHours

    weekend = team_with("Weekend", "wendy@shop.example")
    db.session.add(BusinessHours(team_id=weekend.id, weekly={"6": [["10:00", "16:00"]]},
                                 holiday_country=None))  # fmt: skip
    db.session.add(BusinessHours(team_id=None, closed_days=["2026-12-24"]))
    plain = ingest(inbound(sender="a@example.de")).ticket_id
    weekend_ticket = ingest(inbound(sender="b@example.de")).ticket_id
    db.session.get(Ticket, weekend_ticket).team_id = weekend.id
    db.session.commit()
    condition = {"field": "business_hours", "op": "is", "value": True}
    sunday_eleven = utcnow().replace(year=2026, month=12, day=6, hour=10, minute=0)  # Berlin
    christmas_eve = utcnow().replace(year=2026, month=12, day=24, hour=10, minute=0)  # Thu
    assert holds(condition, RuleContext(weekend_ticket, frozenset(), now=sunday_eleven))
    assert not holds(condition, RuleContext(plain, frozenset(), now=sunday_eleven))
    assert not holds(condition, RuleContext(plain, frozenset(), now=christmas_eve))
    assert holds(condition, RuleContext(plain, frozenset(), now=christmas_eve - timedelta(days=1)))


# --- actions -----------------------------------------------------------------------------


def test_field_actions_each_leave_an_event_naming_the_rule(app):
    team_with("Returns", "jana@shop.example")
    saved = rule(
        "everything",
        actions=[
            {"type": "set_team", "team": "Returns"},
            {"type": "set_priority", "priority": "urgent"},
            {"type": "set_status", "status": "open"},
            {"type": "add_tags", "tags": ["Eilig", "retoure"]},
            {"type": "remove_tags", "tags": ["retoure"]},
            {"type": "set_language", "language": "en"},
            {"type": "add_note", "text": "Bitte zuerst das Lager fragen."},
            {"type": "assign", "to": "jana@shop.example"},
        ],
    )
    result = ingest(inbound())
    db.session.commit()
    ticket = db.session.get(Ticket, result.ticket_id)
    assert (ticket.team.name, ticket.priority, ticket.status, ticket.language) == (
        "Returns", "urgent", "open", "en")  # fmt: skip
    assert tags(ticket.id) == {"eilig"}
    assert ticket.assignee.email == "jana@shop.example"
    note = db.session.scalar(select(Message).where(Message.direction == "note"))
    assert note.text == "Bitte zuerst das Lager fragen." and note.author_kind == "system"
    events = db.session.scalars(select(Event).where(Event.actor == f"rule:{saved.id}")).all()
    assert {e.kind for e in events} == {
        "ticket.team_changed", "ticket.priority_changed", "ticket.status_changed",
        "ticket.tag_added", "ticket.tag_removed", "ticket.language_changed", "note.added",
        "ticket.assigned",
    }  # fmt: skip
    assert all(e.data["rule"] == "everything" and e.ticket_id == ticket.id for e in events)


def test_escalate_webhook_and_acknowledge_actions(app):
    team_with("Care", "carl@shop.example")
    hook = WebhookEndpoint(
        name="crm", url="http://127.0.0.1:9/hook", secret_env="UNUSED", events=["rule.*"]
    )
    db.session.add(hook)
    db.session.commit()
    rule(
        "escalate",
        actions=[
            {"type": "escalate", "team": "Care", "note": "Presse!"},
            {"type": "webhook", "event": "rule.press"},
            {"type": "acknowledge"},
        ],
    )
    result = ingest(inbound(sender="press@example.com"))
    db.session.commit()
    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket.priority == "urgent" and ticket.team.name == "Care"
    hook = db.session.scalar(select(OutboxItem).where(OutboxItem.kind == "webhook"))
    assert hook.payload["body"]["type"] == "rule.press"
    assert hook.payload["body"]["data"]["ticket"] == ticket.id
    ack = db.session.scalar(select(Message).where(Message.direction == "outbound"))
    assert ack.details["automatic"] == "acknowledgement" and ack.counterpart == "press@example.com"
    assert db.session.scalar(select(Event).where(Event.kind == "ticket.escalated")).data[
        "rule"] == "escalate"  # fmt: skip


def test_dunning_hold_action_sets_the_hold_of_a_returned_order(app):
    order, _return = returned_order()
    rule("hold", actions=[{"type": "dunning_hold", "mode": "set"}])
    ingest(inbound(sender="helga.brandt@example.de", text="Mahnung trotz Retoure"))
    db.session.commit()
    db.session.refresh(order.invoices[0])
    assert order.invoices[0].on_hold
    checked = db.session.scalar(select(Event).where(Event.kind == "rule.hold_checked"))
    assert checked.data["held"] == [order.invoices[0].number]


def test_dunning_hold_without_a_return_says_why_nothing_was_set(app):
    from tests import factories

    order = factories.order(reminder_level=1)
    rule("hold", actions=[{"type": "dunning_hold", "mode": "set"}])
    ingest(inbound(sender="helga.brandt@example.de", text="Mahnung?"))
    db.session.commit()
    db.session.refresh(order.invoices[0])
    assert not order.invoices[0].on_hold
    checked = db.session.scalar(select(Event).where(Event.kind == "rule.hold_checked"))
    assert checked.data["reason"] == "no open return"


# --- order, stop, failures, other events --------------------------------------------------


def test_rules_run_in_order_and_stop_ends_the_run(app):
    rule("second", position=20, stop=True)
    rule("first", position=10)
    rule("third", position=30)
    rule("disabled", position=5, enabled=False)
    result = ingest(inbound())
    db.session.commit()
    assert tags(result.ticket_id) == {"first", "second"}
    added = db.session.scalars(
        select(Event.data).where(Event.kind == "ticket.tag_added").order_by(Event.id)
    ).all()
    assert [d["tag"] for d in added] == ["first", "second"]


def test_a_failing_rule_is_logged_on_the_ticket_and_the_others_and_the_message_go_on(app):
    team_with("Returns")
    broken = rule("broken", position=10,
                  actions=[{"type": "add_tags", "tags": ["half"]},
                           {"type": "set_team", "team": "Returns"}])  # fmt: skip
    rule("fine", position=20)
    db.session.delete(_team("Returns"))  # the team goes after the rule was saved
    db.session.commit()

    result = ingest(inbound(text="Hallo"))
    db.session.commit()
    assert db.session.get(Message, result.message_id) is not None
    assert tags(result.ticket_id) == {"fine"}  # "half" was rolled back with its rule
    failed = db.session.scalar(select(Event).where(Event.kind == "rule.failed"))
    assert failed.ticket_id == result.ticket_id and failed.actor == f"rule:{broken.id}"
    assert "no team 'Returns'" in failed.data["error"]


def _team(name):
    from helpdesk.models import Team

    return db.session.scalar(select(Team).where(Team.name == name))


def test_rules_run_on_ticket_updates_solves_and_sla_events(app):
    rule("on solve", events=["ticket.solved"], actions=[{"type": "add_tags", "tags": ["csat"]}])
    rule("on sla", events=["sla.warning"], actions=[{"type": "set_priority", "priority": "high"}])
    rule("on update", events=["ticket.updated"],
         all=[{"field": "ticket.status", "op": "is", "value": "pending"}],
         actions=[{"type": "add_tags", "tags": ["waiting"]}])  # fmt: skip
    result = ingest(inbound())
    db.session.commit()
    assert tags(result.ticket_id) == set()

    ticket = db.session.get(Ticket, result.ticket_id)
    set_status(ticket, "pending")
    db.session.commit()
    assert tags(ticket.id) == {"waiting"}

    record_event("sla.warning", ticket=ticket, actor="worker", due_in_minutes=30)
    db.session.commit()
    assert db.session.get(Ticket, ticket.id).priority == "high"

    set_status(ticket, "solved")
    db.session.commit()
    assert tags(ticket.id) == {"waiting", "csat"}


def test_a_return_without_a_ticket_runs_the_rules_of_the_ticket_about_its_order(app):
    order, return_ = returned_order()
    result = ingest(inbound(sender="helga.brandt@example.de", text="Wo ist mein Geld?"))
    db.session.commit()
    assert db.session.get(Ticket, result.ticket_id).order_id == order.id
    return_.ticket_id = None  # e.g. a return the shop registered
    order.shop.return_notifications = False
    db.session.commit()
    rule("refunded", events=["return.transition"],
         all=[{"field": "return", "op": "is", "value": "refunded"}],
         actions=[{"type": "add_tags", "tags": ["erstattet"]}])  # fmt: skip
    from helpdesk.services.returns import transition

    transition(return_, "refunded", actor="tests")
    db.session.commit()
    assert tags(result.ticket_id) == {"erstattet"}


def test_rules_run_when_a_return_moves(app):
    order, return_ = returned_order()
    result = ingest(inbound(sender="helga.brandt@example.de", text="Wo ist mein Geld?"))
    db.session.commit()
    return_.ticket_id = result.ticket_id
    db.session.commit()
    rule("refunded", events=["return.transition"],
         all=[{"field": "return", "op": "is", "value": "refunded"}],
         actions=[{"type": "set_status", "status": "solved"}])  # fmt: skip
    from helpdesk.services.returns import transition

    transition(return_, "refunded", actor="tests")
    db.session.commit()
    assert db.session.get(Ticket, result.ticket_id).status == "solved"


# --- automatic answers and their safeguards ----------------------------------------------


@pytest.fixture
def wismo_rule(app):
    install_default_responses()
    shipped_order()
    return rule(
        "wismo",
        all=[{"field": "intent", "op": "has", "value": "order_status"}],
        actions=[{"type": "canned_response", "response": "order-status", "mode": "send",
                  "min_confidence": 0.8, "requires": ["tracking"]}],
    )  # fmt: skip


def _answers() -> list[Message]:
    return db.session.scalars(select(Message).where(Message.direction == "outbound")).all()


def _draft_reason() -> str | None:
    draft = db.session.scalar(select(Draft).order_by(Draft.id.desc()))
    return draft.reason if draft else None


def test_automatic_answer_when_every_safeguard_passes(wismo_rule):
    ingest(inbound(sender="sam.taylor@example.com", text="where is my order?"),
           classifier=Scored({"order_status": 0.93}, "en"))  # fmt: skip
    db.session.commit()
    (answer,) = _answers()
    assert answer.details == {"automatic": "rule", "rule": wismo_rule.id,
                              "canned_response": "order-status"}  # fmt: skip
    assert "JJD000390007788123" in answer.text


def test_low_confidence_prepares_a_draft_instead(wismo_rule):
    ingest(inbound(sender="sam.taylor@example.com", text="order?"),
           classifier=Scored({"order_status": 0.55}, "en"))  # fmt: skip
    db.session.commit()
    assert _answers() == []
    assert _draft_reason() == "intent confidence 0.55 is below 0.8"


def test_missing_tracking_prepares_no_answer(wismo_rule):
    from tests import factories

    factories.order("300100", "no.tracking@example.com", language="en")
    ingest(inbound(sender="no.tracking@example.com", text="where is my order?"),
           classifier=Scored({"order_status": 0.95}, "en"))  # fmt: skip
    db.session.commit()
    assert _answers() == []
    event = db.session.scalar(select(Event).where(Event.kind == "rule.no_draft"))
    assert event.data["reason"] == "missing facts: shipment, tracking"


def test_no_automatic_answer_to_an_automatic_reply(wismo_rule):
    ingest(inbound(sender="sam.taylor@example.com", text="I am out of office",
                   auto_submitted=True),
           classifier=Scored({"order_status": 0.95}, "en"))  # fmt: skip
    db.session.commit()
    assert _answers() == []
    assert _draft_reason() == "the message is itself an automatic reply"


def test_one_automatic_answer_per_customer_in_the_window(wismo_rule):
    for text in ("where is my order?", "hello?? where is my order"):
        ingest(inbound(sender="sam.taylor@example.com", text=text, thread_key=None),
               classifier=Scored({"order_status": 0.95}, "en"))  # fmt: skip
        db.session.commit()
    assert len(_answers()) == 1
    assert _draft_reason() == "the customer had an automatic answer in the last 12 hours"
    assert db.session.scalar(select(func.count(Draft.id))) == 1
