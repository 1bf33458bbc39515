"""The counts beside the inbox: per view, per channel and per intent of the backlog.

Whatever the number of views, one grouped query over the unsolved tickets (read from
one covering index) answers all but two: the solved tickets are counted up to a cap,
and the intents, the dearest (they need every backlog ticket's tags), are kept in
`InboxCounts` with a fingerprint of what they were counted from and counted again only
when that changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, any_, case, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from channel_adapters.base import CHANNELS
from classifiers.base import INTENTS
from helpdesk.extensions import db
from helpdesk.models import InboxCounts, IntentTag, Ticket, User
from helpdesk.models.tickets import SOLVED_STATUSES, UNSOLVED_STATUSES
from helpdesk.models.types import utcnow
from helpdesk.services.inbox import (
    DUE_SOON,
    VIEWS,
    escalated,
    in_statuses,
    visibility,
)

#: Solved tickets pile up for years; their count stops here ("1,000+").
SOLVED_COUNT_CAP = 1_000


@dataclass(frozen=True, slots=True)
class Counts:
    """How many tickets each view, channel and intent (of the unsolved) holds for a user.
    A view in `capped` holds at least its count."""

    views: dict[str, int]
    channels: dict[str, int]
    intents: dict[str, int]
    capped: frozenset[str] = frozenset()


def count_views(user: User, now: datetime | None = None) -> Counts:
    """Counts without filters, whatever the number of views: one grouped query over the
    unsolved tickets (from one index), one for the solved that stops at SOLVED_COUNT_CAP,
    and the intents, counted again only when the backlog or the tags changed (see
    `InboxCounts`; the caller commits, so a renewed count is kept)."""
    soon = (now or utcnow()) + DUE_SOON
    unsolved = [*visibility(user), in_statuses(UNSOLVED_STATUSES)]
    columns = (
        Ticket.status,
        Ticket.channel,
        Ticket.assignee_id.is_(None),
        func.coalesce(Ticket.assignee_id == user.id, False),
        func.coalesce(Ticket.sla_due_at <= soon, False),
        escalated(for_counting=True),
    )
    checksums = (func.sum(Ticket.id), func.sum((Ticket.id % 9973) * (Ticket.id % 7919)))
    latest_tag = select(func.max(IntentTag.id)).scalar_subquery()
    grouped = (
        select(*columns, func.count(), *checksums, latest_tag).where(*unsolved).group_by(*columns)
    )
    views = dict.fromkeys(VIEWS, 0)
    channels = dict.fromkeys(CHANNELS, 0)
    sums, tag = [0, 0], None
    for status, channel, unassigned, mine, due, handed_over, count, *rest in db.session.execute(
        grouped
    ):
        views["open"] += count
        if status in ("new", "pending", "on_hold"):
            views[status] += count
        channels[channel] += count
        views["unassigned"] += count if unassigned else 0
        views["mine"] += count if mine else 0
        views["due_soon"] += count if due else 0
        views["escalated"] += count if handed_over else 0
        sums[0], sums[1], tag = sums[0] + rest[0], sums[1] + rest[1], rest[2]
    solved = (
        select(Ticket.id)
        .where(*visibility(user), in_statuses(SOLVED_STATUSES))
        .limit(SOLVED_COUNT_CAP + 1)
    )
    views["solved"] = db.session.scalar(select(func.count()).select_from(solved.subquery()))
    capped = frozenset({"solved"} if views["solved"] > SOLVED_COUNT_CAP else ())
    views["solved"] = min(views["solved"], SOLVED_COUNT_CAP)
    fingerprint = f"{views['open']}:{sums[0]}:{sums[1]}:{tag}"
    scope = "social" if user.role == "social" else "all"
    return Counts(views, channels, _kept_intent_counts(scope, fingerprint, unsolved), capped)


def _kept_intent_counts(
    scope: str, fingerprint: str, unsolved: list[ColumnElement[bool]]
) -> dict[str, int]:
    """The intent counts kept for `scope` if they were counted from the same backlog and
    tags, else counted now and kept (an upsert: two workers may race, both are right)."""
    kept = db.session.get(InboxCounts, scope)
    if kept is not None and kept.fingerprint == fingerprint:
        return {**dict.fromkeys(INTENTS, 0), **kept.counts}
    counts = _count_intents(unsolved)
    dialect = db.session.get_bind().dialect.name
    upsert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(InboxCounts)
    values = {"scope": scope, "fingerprint": fingerprint, "counts": counts, "computed_at": utcnow()}
    db.session.execute(
        upsert.values(**values).on_conflict_do_update(index_elements=["scope"], set_=values)
    )
    return counts


def _count_intents(unsolved: list[ColumnElement[bool]]) -> dict[str, int]:
    """Per intent, the unsolved tickets that carry it: per (ticket, intent) the latest tag
    must not be a rejection. Read from the covering index of intent_tags, driven by the
    unsolved tickets' ids (on PostgreSQL as one array, which keeps the planner from
    scanning the whole table)."""
    ids = select(Ticket.id).where(*unsolved)
    if db.session.get_bind().dialect.name == "postgresql":
        wanted = IntentTag.ticket_id == any_(func.array(ids.scalar_subquery()))
    else:
        wanted = IntentTag.ticket_id.in_(ids)
    latest_kept = func.max(case((IntentTag.rejected.is_(False), IntentTag.id)))
    carried = (
        select(IntentTag.intent)
        .where(wanted)
        .group_by(IntentTag.ticket_id, IntentTag.intent)
        .having(func.max(IntentTag.id) == latest_kept)
        .subquery()
    )
    query = select(carried.c.intent, func.count()).group_by(carried.c.intent)
    counts = dict.fromkeys(INTENTS, 0)
    counts.update({intent: count for intent, count in db.session.execute(query)})
    return counts
