"""Running the rules: on ingest, on the ticket events others record, and as a dry run.

Rules run in order inside the caller's transaction, each in its own savepoint: a rule
that fails is rolled back alone and logged on the ticket ("rule.failed"), and the
others and the ingest go on. Events written by rules (actor "rule:<id>") never start
another run, so rules cannot loop through each other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from helpdesk.extensions import db
from helpdesk.models import UNSOLVED_STATUSES, Event, Order, Rule, Ticket
from helpdesk.services.events import events_written_together, record_event
from helpdesk.services.rules import actions as rule_actions
from helpdesk.services.rules.conditions import cost, describe, holds
from helpdesk.services.rules.context import RuleContext

log = logging.getLogger(__name__)

#: Recorded event kinds -> the rule events they are. ticket.status_changed is handled apart.
_TRIGGERS = {
    "ticket.created": "ticket.created",
    "message.received": "message.received",
    "ticket.priority_changed": "ticket.updated",
    "ticket.assigned": "ticket.updated",
    "ticket.team_changed": "ticket.updated",
    "ticket.tag_added": "ticket.updated",
    "ticket.tag_removed": "ticket.updated",
    "ticket.escalation_received": "ticket.updated",  # a social DM handed over to care
    "sla.warning": "sla.warning",
    "sla.breached": "sla.breached",
}
#: The actions that change a ticket's tags: the one value decided before the run that a
#: rule can change for the rules after it.
_TAG_ACTIONS = frozenset({"add_tags", "remove_tags"})
_PENDING = "rules_pending"
_PENDING_ORDERS = "rules_pending_orders"
_RUNNING = "rules_running"


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    stop: bool
    events: frozenset[str]
    all: tuple[dict, ...]  # cheapest first
    any: tuple[dict, ...]
    actions: tuple[dict, ...]

    @property
    def ref(self) -> rule_actions.RuleRef:
        return rule_actions.RuleRef(self.id, self.name)

    def matches(self, context: RuleContext) -> bool:
        if not all(holds(c, context) for c in self.all):
            return False
        return not self.any or any(holds(c, context) for c in self.any)

    def asks_for(self, field: str) -> bool:
        """Whether any of the rule's conditions is about `field`."""
        return any(c["field"] == field for c in (*self.all, *self.any))

    @property
    def changes_tags(self) -> bool:
        return any(a["type"] in _TAG_ACTIONS for a in self.actions)

    def decide(self, context: RuleContext) -> bool | None:
        """Whether the rule matches by the values `context` was seeded with alone, or None
        when that needs the store.

        Conditions are tested in the order `matches` tests them, stopping where it would
        read the store, so the answer is the one `matches` would give without a query
        (and without a failure); anything undecided is left to it.
        """
        try:
            for condition in self.all:
                if condition["field"] not in context.seed:
                    return None
                if not holds(condition, context):
                    return False
            if not self.any:
                return True
            for condition in self.any:
                if condition["field"] not in context.seed:
                    return None
                if holds(condition, context):
                    return True
        except Exception:  # let the run fail it properly, on the ticket
            return None
        return False


_compiled: dict[tuple[int, datetime], CompiledRule] = {}
_ENABLED = (
    select(Rule.id, Rule.updated_at).where(Rule.enabled.is_(True)).order_by(Rule.position, Rule.id)
)
_DEFINITIONS = select(
    Rule.id, Rule.name, Rule.stop, Rule.events, Rule.conditions, Rule.actions, Rule.updated_at
).where(Rule.id.in_(bindparam("ids", expanding=True)))


def enabled_rules() -> list[CompiledRule]:
    """The enabled rules in order. The table is read on every run (ids and change times
    only: a rule edited in one process counts at once in all), and a rule's definition
    is read and parsed again only when its change time moved."""
    conn = db.session.connection()
    keys = [(row.id, row.updated_at) for row in conn.execute(_ENABLED)]
    missing = [rule_id for rule_id, changed in keys if (rule_id, changed) not in _compiled]
    if missing:
        if len(_compiled) > 1000:
            _compiled.clear()
        for row in conn.execute(_DEFINITIONS, {"ids": missing}):
            _compiled[(row.id, row.updated_at)] = compile_rule(
                row.id, row.name, row.stop, row.events, row.conditions, row.actions
            )
    return [_compiled[key] for key in keys if key in _compiled]


def compile_rule(rule_id, name, stop, events, conditions, actions) -> CompiledRule:
    conditions = conditions or {}
    return CompiledRule(
        id=rule_id,
        name=name,
        stop=stop,
        events=frozenset(events or ()),
        all=tuple(sorted(conditions.get("all", []), key=cost)),
        any=tuple(sorted(conditions.get("any", []), key=cost)),
        actions=tuple(actions or ()),
    )


@dataclass
class RunReport:
    """Which rules matched, which failed (with the error), which were skipped by a stop."""

    matched: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def run_rules(
    events: Iterable[str],
    ticket_id: int,
    *,
    message_id: int | None = None,
    seed: dict[str, Any] | None = None,
    rules: list[CompiledRule] | None = None,
) -> RunReport:
    """Apply the enabled rules listening to any of `events` to the ticket, in order."""
    happened = frozenset(events)
    report = RunReport()
    wanted = [r for r in (enabled_rules() if rules is None else rules) if r.events & happened]
    if not wanted:
        return report
    context = RuleContext(ticket_id, happened, message_id=message_id, seed=seed)
    session = db.session
    session.flush()  # the caller's events are collected before ours start
    session.info[_RUNNING] = session.info.get(_RUNNING, 0) + 1
    try:
        for rule in wanted:
            try:
                # Conditions only read; the savepoint is paid for by rules that act.
                if not rule.matches(context):
                    continue
                # One flush per rule, not one before every query an action makes, and
                # the rule's events written together after it.
                with session.begin_nested(), session.no_autoflush:
                    with events_written_together():
                        for action in rule.actions:
                            rule_actions.ACTIONS[action["type"]](context, action, rule.ref)
                        rule_actions.write_ticket_changes(context)
                    session.flush()
            except Exception as error:  # any failure is the rule's, not ours
                context.changes.clear()
                _reread_ticket(ticket_id)  # it may show what the savepoint took back
                _failed(context, rule, error, report)
                continue
            report.matched.append(rule.name)
            if rule.stop:
                break
    finally:
        session.info[_RUNNING] -= 1
    return report


def _reread_ticket(ticket_id: int) -> None:
    """The loaded ticket reads its row again: after a rolled-back savepoint it may still
    show values the actions set as its committed state (`actions.change_ticket`)."""
    ticket = db.session.identity_map.get(identity_key(Ticket, ticket_id))
    if ticket is not None:
        db.session.expire(ticket)


def _failed(context: RuleContext, rule: CompiledRule, error: Exception, report) -> None:
    why = f"{type(error).__name__}: {error}"[:500]
    log.warning("rule %s (%s) failed on ticket %s: %s", rule.name, rule.id,
                context.ticket_id, why)  # fmt: skip
    report.failed.append((rule.name, why))
    record_event("rule.failed", ticket=db.session.get(Ticket, context.ticket_id),
                 actor=rule.ref.actor, rule=rule.name, error=why)  # fmt: skip


# --- on ingest ---------------------------------------------------------------------------

#: What the order's fields are for a ticket without one (see RuleContext).
_WITHOUT_ORDER: dict[str, Any] = {
    "order": None,
    "shipment.status": None,
    "shipment.tracking": None,
    "invoice": frozenset(),
    "return": None,
}


#: What a reply's rules most often ask that ingest does not know, read before they run
#: when an undecided rule asks for it: one indexed read each on the connection.
_READ_UP_FRONT = ("intent", "ticket.tags")


def after_ingest(result, inbound) -> None:
    """Run the rules for a message ingest has just stored (never for a redelivery).

    Whatever happens in here, the message stays stored: every rule that acts has its own
    savepoint, and conditions that read the store run inside one more. Most messages
    interest no rule, and what ingest already knows (channel, the message's text, a new
    ticket's intents, tags and order, whether a reply's ticket has an order) or a reply's
    intents and tags, read first, usually decide that, and decide the rules that do
    match: then there is no savepoint but those of the rules that act. (Those reads
    stand outside, like the statements ingest itself makes after this.)
    """
    if result.duplicate:
        return
    rules = enabled_rules()
    happened = {"message.received", *(["ticket.created"] if result.created_ticket else [])}
    rules = [r for r in rules if r.events & happened]
    if not rules:
        return
    seed: dict[str, Any] = {
        "channel": inbound.channel,
        "mailbox": inbound.recipient.lower() if inbound.recipient else None,
        "message.auto_submitted": bool(inbound.auto_submitted),
        "message.text": f"{inbound.subject}\n{inbound.text}",  # as stored
    }
    if result.created_ticket:
        # A new ticket's intents are the ones just recorded with its first message, and
        # it has no tags yet.
        seed["intent"] = {intent: 1.0 if score is None else score
                          for intent, score in result.intents}  # fmt: skip
        seed["ticket.tags"] = frozenset()
    if result.has_order is False:  # known under the ticket's row lock (see ingest)
        seed.update(_WITHOUT_ORDER)
    known = RuleContext(result.ticket_id, frozenset(happened), seed=seed)
    decided = [(r, r.decide(known)) for r in rules]
    for name in _READ_UP_FRONT:
        if name not in seed and any(d is None and r.asks_for(name) for r, d in decided):
            # A reply: its ticket's intents (no action changes them) and tags (the
            # actions that change them keep the seed current) decide most rules.
            seed[name] = known.seed[name] = known.value(name)
            decided = [(r, r.decide(known)) for r, _ in decided]
    decided = _after_tag_changes(decided)
    rules = [r for r, matches in decided if matches is not False]
    if not rules:
        return
    run = partial(run_rules, happened, result.ticket_id, message_id=result.message_id,
                  seed=seed, rules=rules)  # fmt: skip
    try:
        if all(matches for _, matches in decided if matches is not False):
            run()  # nothing to read before the rules' own savepoints
        else:
            with db.session.begin_nested():  # conditions read the store: guard those reads
                run()
    except Exception:  # the message must not be lost over a rule
        log.exception("rules on ticket %s could not run", result.ticket_id)
        _reread_ticket(result.ticket_id)


def _after_tag_changes(decided: list) -> list:
    """`decided` with the rules the tags ruled out left to the run (None) where an earlier
    rule that may act could change the tags: the run tests them with the tags as they
    are by then."""
    changing = False
    result = []
    for rule, matches in decided:
        if matches is False and changing and rule.asks_for("ticket.tags"):
            matches = None
        result.append((rule, matches))
        changing = changing or (matches is not False and rule.changes_tags)
    return result


# --- on events others record -------------------------------------------------------------


def _return_without_ticket(item: Event) -> bool:
    return (
        item.kind.startswith("return.")
        and item.ticket_id is None
        and item.ticket is None
        and (item.customer_id is not None or item.customer is not None)
        and bool((item.data or {}).get("order"))
    )


def _tickets_about_orders(session: Session, pending: dict) -> None:
    """Add "return.transition" for the open ticket about each (customer, order) collected."""
    for customer_id, number in session.info.pop(_PENDING_ORDERS, ()):
        ticket_id = session.scalar(
            select(Ticket.id)
            .join(Order, Order.id == Ticket.order_id)
            .where(
                Ticket.customer_id == customer_id,
                Order.number == number,
                Ticket.status.in_(UNSOLVED_STATUSES),
            )
            .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
            .limit(1)
        )
        if ticket_id is not None:
            pending.setdefault(ticket_id, set()).add("return.transition")


def _rule_event(item: Event) -> str | None:
    if item.ticket_id is None and item.ticket is None:
        return None
    if (item.actor or "").startswith("rule:"):
        return None
    if item.kind == "ticket.status_changed":
        return "ticket.solved" if (item.data or {}).get("new") == "solved" else "ticket.updated"
    if item.kind.startswith("return."):
        return "return.transition"
    return _TRIGGERS.get(item.kind)


def _is_app_session(session: Session) -> bool:
    """Only the application's own session runs rules (not a script's or a tool's)."""
    try:
        return session is db.session()
    except RuntimeError:  # no application context
        return False


def _collect(session: Session, flush_context) -> None:
    """After a flush (ids are known; `session.new` still lists what was inserted)."""
    if session.info.get(_RUNNING) or not _is_app_session(session):
        return  # events written while rules run are the rules' own
    for item in session.new:
        if isinstance(item, Event) and _return_without_ticket(item):
            # The return's ticket is the customer's open ticket about its order.
            orders = session.info.setdefault(_PENDING_ORDERS, set())
            orders.add((item.customer_id or item.customer.id, item.data["order"]))
        elif isinstance(item, Event):
            kind = _rule_event(item)
            if kind is not None:
                pending = session.info.setdefault(_PENDING, {})
                ticket_id = item.ticket_id or item.ticket.id
                if ticket_id is None:
                    continue
                pending.setdefault(ticket_id, set()).add(kind)


def _run_pending(session: Session) -> None:
    """Before a commit, run the rules for the ticket events recorded in the transaction."""
    if session.info.get(_RUNNING) or session.in_nested_transaction():
        return  # a savepoint's release is no commit: the rules run once, at the real one
    if not (
        session.info.get(_PENDING)
        or session.info.get(_PENDING_ORDERS)
        or session.new
        or session.dirty
        or session.deleted
    ):
        return  # nothing recorded in this transaction that could start a rule
    if not _is_app_session(session):
        return
    for _round in range(3):  # events recorded by the runs themselves are rules' own
        session.flush()
        pending = session.info.pop(_PENDING, None) or {}
        if session.info.get(_PENDING_ORDERS):
            _tickets_about_orders(session, pending)
        if not pending:
            return
        try:
            rules = enabled_rules()
        except Exception:  # e.g. a database older than the rules table
            log.exception("rules could not be read")
            return
        for ticket_id, kinds in pending.items():
            try:
                with session.begin_nested():
                    run_rules(kinds, ticket_id, rules=rules)
            except Exception:  # the caller's change must still commit
                log.exception("rules on ticket %s could not run", ticket_id)
                _reread_ticket(ticket_id)


def _forget(session: Session, *args) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_PENDING_ORDERS, None)


def install_listeners() -> None:
    """Watch the session for ticket events (once per process)."""
    if not event.contains(Session, "after_flush", _collect):
        event.listen(Session, "after_flush", _collect)
        event.listen(Session, "before_commit", _run_pending)
        event.listen(Session, "after_rollback", _forget)


# --- dry run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DryRunMatch:
    ticket_id: int
    subject: str
    would: list[str]


def dry_run(rule: CompiledRule, *, limit: int = 500) -> tuple[int, list[DryRunMatch]]:
    """Which of the last `limit` tickets `rule` would have matched, and what it would
    have done to each. Reads only; the savepoint is rolled back all the same."""
    matches = []
    ids = db.session.scalars(select(Ticket.id).order_by(Ticket.id.desc()).limit(limit)).all()
    savepoint = db.session.begin_nested()
    try:
        for ticket_id in ids:
            context = RuleContext(ticket_id, rule.events)
            try:
                if not rule.matches(context):
                    continue
                would = [rule_actions.describe(context, action) for action in rule.actions]
            except Exception as error:  # shown, like a failure at run time
                would = [f"would fail: {type(error).__name__}: {error}"]
            matches.append(DryRunMatch(ticket_id, context.ticket.subject, would))
    finally:
        savepoint.rollback()
    return len(ids), matches


def describe_conditions(rule: CompiledRule) -> list[str]:
    return [describe(c) for c in rule.all] + [f"any: {describe(c)}" for c in rule.any]
