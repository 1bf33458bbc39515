"""The event trail read as a live feed: what happened on tickets since a browser last looked.

The trail is append-only with increasing ids, so "what is new" is an indexed range
read (`id > highest id read`), and any web worker can serve any browser: nothing lives
in one process's memory but the reader's own position.

Ids are handed out when a row is inserted, not when its transaction commits. On
PostgreSQL a slow transaction (an ingest that classifies) can commit id 100 after a
quick one committed id 101; a reader that only asked for "id > 101" would never see
100. So ids skipped over are remembered as *pending* and looked up again on every
poll, until they arrive or `GRACE` has passed (a rolled-back insert leaves a hole that
never fills). The position a browser may resume from (`watermark`) stays below the
oldest pending id. SQLite serialises writers, so there holes come only from deletions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from helpdesk.models import Event, Ticket
from helpdesk.services.inbox import SOCIAL_CHANNELS

#: How long an id skipped over may still arrive (the longest transaction we wait for).
GRACE_SECONDS = 15.0
#: Rows read per poll; a reader far behind catches up over several polls.
BATCH = 500
#: At most this many skipped ids are waited for; older ones in a huge hole are given up.
MAX_PENDING = 1000
#: Events that carry a new message for the timeline.
MESSAGE_KINDS = frozenset({"message.received", "message.sent", "note.added"})


@dataclass(frozen=True, slots=True)
class Audience:
    """Who reads the feed, and about what: one ticket, or every ticket they may see."""

    user_id: int
    role: str
    ticket_id: int | None = None

    def may_see(self, ticket_id: int | None, channel: str | None) -> bool:
        if ticket_id is None or channel is None:  # not about a ticket, or the ticket is gone
            return False
        if self.ticket_id is not None and ticket_id != self.ticket_id:
            return False
        # The same rule as the inbox: social media managers see social tickets only.
        return self.role != "social" or channel in SOCIAL_CHANNELS


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One event as the browser gets it: enough to decide what to fetch, no content."""

    id: int
    kind: str
    ticket: int
    message: int | None
    by_me: bool
    by_person: bool  # a user did it (not ingest, the worker or a rule)

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "ticket": self.ticket,
            "message": self.message if self.kind in MESSAGE_KINDS else None,
            "new_ticket": self.kind == "ticket.created",
            "by_me": self.by_me,
            "by_person": self.by_person,
        }


def latest_event_id(session: Session) -> int:
    """The highest id in the trail now (0 when empty): where a new reader starts."""
    return session.scalar(latest_event_query()) or 0


def latest_event_query() -> Select:
    return select(func.coalesce(func.max(Event.id), 0))


@dataclass
class EventFeed:
    """One reader's position in the trail. Not shared between requests or threads."""

    audience: Audience
    high: int  # the highest id read so far
    grace: float = GRACE_SECONDS
    clock: Callable[[], float] = time.monotonic
    pending: dict[int, float] = field(default_factory=dict)  # id skipped -> when noticed

    @property
    def watermark(self) -> int:
        """Every id up to here was read or given up: a safe place to resume from."""
        return min(self.pending) - 1 if self.pending else self.high

    def poll(self, session: Session) -> list[LiveEvent]:
        """The events the audience may see that arrived since the last poll, by id."""
        now = self.clock()
        rows = self._read(session, Event.id > self.high, limit=BATCH)
        if self.pending:
            rows += self._read(session, Event.id.in_(sorted(self.pending)))
        fresh = []
        for row in sorted(rows, key=lambda r: r.id):
            if row.id > self.high:
                self._note_skipped(range(self.high + 1, row.id), now)
                self.high = row.id
            self.pending.pop(row.id, None)
            if self.audience.may_see(row.ticket_id, row.channel):
                fresh.append(
                    LiveEvent(
                        id=row.id,
                        kind=row.kind,
                        ticket=row.ticket_id,
                        message=row.message_id,
                        by_me=row.user_id == self.audience.user_id,
                        by_person=row.user_id is not None,
                    )
                )
        self.pending = {i: t for i, t in self.pending.items() if now - t < self.grace}
        return fresh

    def _note_skipped(self, ids: range, now: float) -> None:
        for missing in ids[-MAX_PENDING:]:
            self.pending[missing] = now
        if len(self.pending) > MAX_PENDING:
            for oldest in sorted(self.pending)[: len(self.pending) - MAX_PENDING]:
                del self.pending[oldest]

    @staticmethod
    def _read(session: Session, condition, limit: int | None = None) -> list:
        columns = (Event.id, Event.kind, Event.ticket_id, Event.message_id, Event.user_id)
        query = (
            select(*columns, Ticket.channel)
            .outerjoin(Ticket, Ticket.id == Event.ticket_id)
            .where(condition)
            .order_by(Event.id)
        )
        if limit is not None:
            query = query.limit(limit)
        return list(session.execute(query).all())
