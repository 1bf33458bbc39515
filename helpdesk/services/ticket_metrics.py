"""Each ticket's measured times, stored in `ticket_metrics` as things happen.

The services that change a ticket (ingest, a reply, a status change, a new priority
or team) call `refresh_ticket(ticket_id)`, which reads that one ticket's messages and
status events and writes its row; the dashboard then only reads `ticket_metrics`.
`recompute_all()` (`helpdesk kpis recompute`) fills the table for old tickets.

The definitions (also in README "KPIs" and on the dashboard):

- first response: from the ticket's creation, or from the bot's hand-off to a person
  when there was one, to the first public reply by a person. Internal notes, bot
  turns and automatic replies (author kind bot/system, or auto-submitted) do not count.
- next reply: from a customer's message that waits for us (after the first response)
  to the next public reply by a person; per ticket the mean of its waits.
- first resolution: creation to the first time it was solved; full resolution:
  creation to the last time it was solved (only while it is solved or closed).
- requester wait: time in new, open and on hold; agent wait: time in pending; both
  until the ticket was last solved (NULL while unsolved).
- replies: public replies by a person; reopens: solved/closed back to an open status;
  one-touch: solved with exactly one reply and never reopened.
- SLA: met when the first response came at or before the due time; missed when it
  came later or the due time passed without one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from helpdesk.errors import HelpdeskError
from helpdesk.extensions import db
from helpdesk.models import Event, IntentTag, Message, Ticket, TicketMetrics, TicketMetricsDue
from helpdesk.models.tickets import SOLVED_STATUSES
from helpdesk.models.types import utcnow
from helpdesk.services.business_time import Calendar, calendar_for, calendars

log = logging.getLogger(__name__)

#: Event kinds that mean "the bot handed this conversation to a person" (the chatbot
#: records `chat.handed_off`); the first-response clock starts at the first of them.
HANDOFF_KINDS: tuple[str, ...] = ("chat.handed_off", "bot.handoff", "chat.handoff")
STATUS_CHANGED = "ticket.status_changed"
#: Statuses in which the customer waits for us (requester wait) and we for them.
REQUESTER_WAIT: tuple[str, ...] = ("new", "open", "on_hold")
AGENT_WAIT: tuple[str, ...] = ("pending",)


@dataclass(frozen=True)
class MessageFact:
    at: datetime
    direction: str  # inbound, outbound, note
    author_kind: str  # customer, agent, bot, system
    auto_submitted: bool = False

    @property
    def is_human_reply(self) -> bool:
        """A public reply written by a person: what the customer counts as an answer."""
        return (
            self.direction == "outbound" and self.author_kind == "agent" and not self.auto_submitted
        )

    @property
    def is_customer_message(self) -> bool:
        return (
            self.direction == "inbound"
            and self.author_kind == "customer"
            and not self.auto_submitted
        )


@dataclass(frozen=True)
class TicketFacts:
    """What the metrics are computed from: everything else is ignored."""

    created_at: datetime
    status: str
    messages: Sequence[MessageFact]
    status_changes: Sequence[tuple[datetime, str, str]]  # (at, old, new), in order
    handoff_at: datetime | None = None
    sla_due_at: datetime | None = None
    solved_at: datetime | None = None  # the ticket's own column, when events lack it


def compute(facts: TicketFacts, calendar: Calendar, now: datetime) -> dict:
    """The metrics of one ticket, as the columns of `TicketMetrics` (pure)."""

    def both(name: str, start: datetime | None, end: datetime | None) -> dict:
        if start is None or end is None:
            return {f"{name}_s": None, f"{name}_bh_s": None}
        return {
            f"{name}_s": max((end - start).total_seconds(), 0.0),
            f"{name}_bh_s": calendar.seconds_between(start, end),
        }

    messages = sorted(facts.messages, key=lambda m: m.at)
    clock = facts.handoff_at or facts.created_at
    first = next((m.at for m in messages if m.is_human_reply and m.at >= clock), None)
    replies = sum(1 for m in messages if m.is_human_reply)

    waits = _next_reply_waits(messages, first)
    next_reply = {
        "next_reply_s": _mean([(e - s).total_seconds() for s, e in waits]),
        "next_reply_bh_s": _mean([calendar.seconds_between(s, e) for s, e in waits]),
    }

    solves, reopens = _solves_and_reopens(facts)
    solved = facts.status in SOLVED_STATUSES
    last_solve = solves[-1] if solved and solves else None
    requester, agent = _time_in_status(facts, last_solve, calendar)

    if facts.sla_due_at is None:
        sla_met = None
    elif first is not None:
        sla_met = first <= facts.sla_due_at
    else:
        sla_met = False if now > facts.sla_due_at else None

    return {
        "clock_started_at": clock,
        "first_response_at": first,
        **both("first_response", clock, first),
        **next_reply,
        **both("first_resolution", facts.created_at, solves[0] if solves else None),
        **both("full_resolution", facts.created_at, last_solve),
        **requester,
        **agent,
        "replies": replies,
        "reopens": reopens,
        "solved_at": last_solve,
        "one_touch": bool(solved and replies == 1 and reopens == 0),
        "sla_due_at": facts.sla_due_at,
        "sla_met": sla_met,
    }


def _next_reply_waits(
    messages: Sequence[MessageFact], first: datetime | None
) -> list[tuple[datetime, datetime]]:
    """(customer wrote, person answered) pairs after the first response."""
    if first is None:
        return []
    waits = []
    waiting_since = None
    for message in messages:
        if message.at <= first:
            continue
        if message.is_customer_message and waiting_since is None:
            waiting_since = message.at
        elif message.is_human_reply and waiting_since is not None:
            waits.append((waiting_since, message.at))
            waiting_since = None
    return waits


def _solves_and_reopens(facts: TicketFacts) -> tuple[list[datetime], int]:
    solves: list[datetime] = []
    reopens = 0
    for at, old, new in facts.status_changes:
        if new in SOLVED_STATUSES and old not in SOLVED_STATUSES:
            solves.append(at)
        elif old in SOLVED_STATUSES and new not in SOLVED_STATUSES:
            reopens += 1
    if facts.status in SOLVED_STATUSES and not solves and facts.solved_at is not None:
        solves.append(facts.solved_at)  # solved without a recorded change (imports)
    return solves, reopens


def _time_in_status(
    facts: TicketFacts, until: datetime | None, calendar: Calendar
) -> tuple[dict, dict]:
    """Requester and agent wait up to the last solve; NULL while the ticket is unsolved."""
    if until is None:
        return (
            {"requester_wait_s": None, "requester_wait_bh_s": None},
            {"agent_wait_s": None, "agent_wait_bh_s": None},
        )
    spans: list[tuple[str, datetime, datetime]] = []
    status, since = "new", facts.created_at
    for at, _old, new in facts.status_changes:
        if at > until:
            break
        spans.append((status, since, at))
        status, since = new, at
    spans.append((status, since, until))
    totals = {}
    for name, statuses in (("requester_wait", REQUESTER_WAIT), ("agent_wait", AGENT_WAIT)):
        mine = [(s, e) for st, s, e in spans if st in statuses and e > s]
        totals[name] = {
            f"{name}_s": sum((e - s).total_seconds() for s, e in mine),
            f"{name}_bh_s": sum(calendar.seconds_between(s, e) for s, e in mine),
        }
    return totals["requester_wait"], totals["agent_wait"]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


# -- storing -------------------------------------------------------------------------


def facts_for(ticket: Ticket) -> TicketFacts:
    """Read one ticket's facts from the store."""
    messages = [
        MessageFact(*row)
        for row in db.session.execute(
            select(Message.created_at, Message.direction, Message.author_kind,
                   Message.auto_submitted)
            .where(Message.ticket_id == ticket.id)
            .order_by(Message.created_at, Message.id)
        )
    ]  # fmt: skip
    changes: list[tuple[datetime, str, str]] = []
    handoff_at = None
    for at, kind, data in db.session.execute(
        select(Event.created_at, Event.kind, Event.data)
        .where(Event.ticket_id == ticket.id, Event.kind.in_((STATUS_CHANGED, *HANDOFF_KINDS)))
        .order_by(Event.created_at, Event.id)
    ):
        if kind == STATUS_CHANGED:
            changes.append((at, (data or {}).get("old"), (data or {}).get("new")))
        elif handoff_at is None:
            handoff_at = at
    return TicketFacts(
        created_at=ticket.created_at,
        status=ticket.status,
        messages=messages,
        status_changes=changes,
        handoff_at=handoff_at,
        sla_due_at=None,
        solved_at=ticket.solved_at,
    )


def primary_intent(ticket_id: int) -> str | None:
    """The ticket's first intent still on it (the reason the customer wrote)."""
    latest: dict[str, tuple[int, bool]] = {}
    first_seen: dict[str, int] = {}
    for tag_id, intent, rejected in db.session.execute(
        select(IntentTag.id, IntentTag.intent, IntentTag.rejected)
        .where(IntentTag.ticket_id == ticket_id)
        .order_by(IntentTag.id)
    ):
        latest[intent] = (tag_id, rejected)
        first_seen.setdefault(intent, tag_id)
    present = [i for i, (_, rejected) in latest.items() if not rejected]
    return min(present, key=lambda i: first_seen[i]) if present else None


def refresh_ticket(
    ticket: Ticket | int,
    *,
    now: datetime | None = None,
    known_calendars: dict[int | None, Calendar] | None = None,
) -> TicketMetrics | None:
    """Compute and store one ticket's metrics (a Ticket or its id), and set its SLA due
    time. The caller commits. Called by the services after they changed the ticket.

    A configuration the metrics cannot work with (business hours without any open time,
    a country the holiday library does not know) is logged and leaves the metrics as
    they were: the message or reply that triggered the refresh must never be lost for
    it; `helpdesk kpis recompute` catches up once the configuration is fixed."""
    db.session.flush()
    try:
        with db.session.begin_nested():
            return _refresh(ticket, now=now, known_calendars=known_calendars)
    except HelpdeskError:
        log.exception("metrics of ticket %s not refreshed", getattr(ticket, "id", ticket))
        return None


def _refresh(
    ticket: Ticket | int,
    *,
    now: datetime | None,
    known_calendars: dict[int | None, Calendar] | None,
) -> TicketMetrics | None:
    from helpdesk.services.sla import apply_policy  # sla imports this module

    if isinstance(ticket, int):
        ticket = db.session.get(Ticket, ticket)
    if ticket is None:
        return None
    now = now or utcnow()
    calendar = calendar_for(ticket.team_id, known_calendars)
    facts = facts_for(ticket)
    intent = primary_intent(ticket.id)
    row = db.session.get(TicketMetrics, ticket.id)
    due = apply_policy(ticket, intent, facts, calendar, row)
    values = compute(_with_due(facts, due), calendar, now)
    if row is None:
        row = TicketMetrics(ticket_id=ticket.id)
        db.session.add(row)
    row.created_at = ticket.created_at
    row.channel = ticket.channel
    row.priority = ticket.priority
    row.intent = intent
    row.team_id = ticket.team_id
    row.assignee_id = ticket.assignee_id
    row.status = ticket.status
    row.updated_at = now
    for name, value in values.items():
        setattr(row, name, value)
    if row.sla_breached_at is not None:
        row.sla_met = False  # a breach stands, whatever the priority became later
    return row


def _with_due(facts: TicketFacts, due: datetime | None) -> TicketFacts:
    return TicketFacts(
        created_at=facts.created_at,
        status=facts.status,
        messages=facts.messages,
        status_changes=facts.status_changes,
        handoff_at=facts.handoff_at,
        sla_due_at=due,
        solved_at=facts.solved_at,
    )


#: Built once per dialect: ingest notes a ticket for every message.
_NOTE = {
    "postgresql": postgresql_insert(TicketMetricsDue).on_conflict_do_nothing(),
    "sqlite": sqlite_insert(TicketMetricsDue).on_conflict_do_nothing(),
}


def refresh_later(ticket_id: int) -> None:
    """Note the ticket for the worker's refresh-metrics job (`refresh_due`): what ingest
    does instead of `refresh_ticket`, which cost three quarters of its time."""
    conn = db.session.connection()
    conn.execute(_NOTE[conn.dialect.name], {"ticket_id": ticket_id, "since": utcnow()})


def refresh_due(*, batch: int = 200, now: datetime | None = None) -> int:
    """Refresh the metrics (and SLA due times) of the tickets ingest noted; the caller
    commits. Returns how many were refreshed."""
    ids = db.session.scalars(
        select(TicketMetricsDue.ticket_id).order_by(TicketMetricsDue.since).limit(batch)
    ).all()
    if not ids:
        return 0
    known = calendars()
    for ticket_id in ids:
        refresh_ticket(ticket_id, now=now, known_calendars=known)
    db.session.execute(delete(TicketMetricsDue).where(TicketMetricsDue.ticket_id.in_(ids)))
    return len(ids)


def refresh_all_due(*, now: datetime | None = None) -> int:
    """`refresh_due` until nothing waits (the worker's job; demo data and tests)."""
    done = 0
    while refreshed := refresh_due(now=now):
        done += refreshed
    return done


def recompute_all(*, batch: int = 500, now: datetime | None = None) -> int:
    """Refresh every ticket's metrics (backfill after an upgrade or a definition change);
    commits per batch so a long run keeps its progress. Returns the number of tickets."""
    known = calendars()
    done = 0
    last_id = 0
    while True:
        ids = db.session.scalars(
            select(Ticket.id).where(Ticket.id > last_id).order_by(Ticket.id).limit(batch)
        ).all()
        if not ids:
            return done
        for ticket_id in ids:
            refresh_ticket(ticket_id, now=now, known_calendars=known)
        db.session.commit()
        done += len(ids)
        last_id = ids[-1]
