"""The counts beside the inbox: per view, per channel and per intent of the backlog.

Whatever the number of views, one grouped query over the unsolved tickets (read from
one covering index) answers all but the solved view, which is counted up to a cap. The
intents come from the same scan: each ticket carries its current intents as bits
(`tickets.intent_bits`, see helpdesk/services/inbox_intents.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, func, select

from channel_adapters.base import CHANNELS
from classifiers.base import INTENTS
from helpdesk.extensions import db
from helpdesk.models import Ticket, User
from helpdesk.models.tickets import SOLVED_STATUSES, UNSOLVED_STATUSES
from helpdesk.models.types import utcnow
from helpdesk.services.inbox import (
    DUE_SOON,
    VIEWS,
    escalated,
    in_statuses,
    role_visibility,
)
from helpdesk.services.inbox_intents import carries

#: Per intent, how many tickets of a group carry it (built once: SQLAlchemy takes longer
#: to build these eleven expressions than PostgreSQL takes to compute them).
_PER_INTENT = [func.sum(carries(Ticket.intent_bits, intent)) for intent in INTENTS]

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
    unsolved tickets (from one index, intents included) with the solved count, which stops
    at SOLVED_COUNT_CAP, beside them."""
    grouped, solved = _statements(user.role)
    given = {"user_id": user.id, "soon": (now or utcnow()) + DUE_SOON}
    views = dict.fromkeys(VIEWS, 0)
    channels = dict.fromkeys(CHANNELS, 0)
    intents = dict.fromkeys(INTENTS, 0)
    views["solved"] = None
    for row in db.session.execute(grouped, given):
        status, channel, unassigned, mine, due, handed_over, count, solved_count, *carried = row
        views["solved"] = solved_count
        views["open"] += count
        if status in ("new", "pending", "on_hold"):
            views[status] += count
        channels[channel] += count
        views["unassigned"] += count if unassigned else 0
        views["mine"] += count if mine else 0
        views["due_soon"] += count if due else 0
        views["escalated"] += count if handed_over else 0
        for intent, tickets in zip(INTENTS, carried, strict=True):
            intents[intent] += tickets
    if views["solved"] is None:  # nothing unsolved: no row carried it
        views["solved"] = db.session.scalar(solved)
    capped = frozenset({"solved"} if views["solved"] > SOLVED_COUNT_CAP else ())
    views["solved"] = min(views["solved"], SOLVED_COUNT_CAP)
    return Counts(views, channels, intents, capped)


@functools.cache
def _statements(role: str) -> tuple[Select, Select]:
    """The grouped and the solved count, built once per kind of user (the user and the
    time are parameters): building them took longer than PostgreSQL takes to run them
    on a small inbox."""
    visible = role_visibility(role)
    columns = (
        Ticket.status,
        Ticket.channel,
        Ticket.assignee_id.is_(None),
        func.coalesce(Ticket.assignee_id == bindparam("user_id"), False),
        func.coalesce(Ticket.sla_due_at <= bindparam("soon"), False),
        escalated(for_counting=True),
    )
    solved = (
        select(Ticket.id).where(*visible, in_statuses(SOLVED_STATUSES)).limit(SOLVED_COUNT_CAP + 1)
    )
    solved = select(func.count()).select_from(solved.subquery())
    # The solved count rides along as an uncorrelated subquery (computed once, on every
    # row): a statement of its own cost the page more than the count.
    grouped = (
        select(*columns, func.count(), solved.scalar_subquery(), *_PER_INTENT)
        .where(*visible, in_statuses(UNSOLVED_STATUSES))
        .group_by(*columns)
    )
    return grouped, solved
