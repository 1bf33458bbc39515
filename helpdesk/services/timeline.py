"""One ticket's story in order: messages on every channel, notes, calls, bot turns, and
what happened around them (status, assignee, tags, merges, splits, order links, the
linked order's return steps and dunning holds, notifications sent to the customer)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import defer, joinedload

from helpdesk.extensions import db
from helpdesk.models import Attachment, Event, Message, Team, Ticket, User

#: Events the timeline does not show: the message itself says it, or its delivery badge.
HIDDEN_EVENTS = frozenset(
    {
        "message.received",
        "message.sent",
        "message.delivered",
        "message.delivery_failed",
        "message.bounced",
        "note.added",
        "note.mentioned",
    }
)
#: Events about the ticket's order, recorded on the customer rather than on this ticket.
ORDER_EVENT_PREFIXES = ("return.", "dunning.", "invoice.", "shipment.")
#: At most this many order events, the latest: a long-standing order must not slow the page.
ORDER_EVENT_LIMIT = 100


def message_kind(message: Message) -> str:
    """ "message", "note", "call" (phone channel) or "bot" (a bot's turn)."""
    if message.direction == "note":
        return "note"
    if message.author_kind == "bot":
        return "bot"
    if message.channel == "phone":
        return "call"
    return "message"


@dataclass(frozen=True)
class Entry:
    at: datetime
    message: Message | None = None
    event: Event | None = None


@dataclass(frozen=True)
class Timeline:
    entries: list[Entry]
    users: dict[int, str]  # id -> name, for the ids events name
    teams: dict[int, str]

    @property
    def messages(self) -> list[Message]:
        return [e.message for e in self.entries if e.message is not None]

    @property
    def splittable(self) -> bool:
        """Whether a message could be split off: something else must stay behind."""
        return sum(1 for m in self.messages if m.direction != "note") > 1

    @property
    def latest_message_id(self) -> int:
        return max((m.id for m in self.messages), default=0)


def messages_of(ticket: Ticket) -> list[Message]:
    """The ticket's messages with attachment metadata (not their bytes). Authors load as
    they are read: from the session when the caller loaded the users (`build_timeline`)."""
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.ticket_id == ticket.id)
            # Joined, not a second statement: most messages have none.
            .options(joinedload(Message.attachments).options(defer(Attachment.data)))
            .order_by(Message.created_at, Message.id)
        ).unique()
    )


def build_timeline(ticket: Ticket, users: Sequence[User], teams: Sequence[Team]) -> Timeline:
    """`users` and `teams`: all of them, which the page loads anyway for its choices; the
    messages' authors and the events' names are found among them without a query."""
    entries = [Entry(m.created_at, message=m) for m in messages_of(ticket)]
    events = [e for e in _events(ticket) if _shown(e)]
    entries += [Entry(e.created_at, event=e) for e in events]
    # Equal times: the message first, then what was done with it.
    entries.sort(key=lambda e: (e.at, e.message is None, (e.message or e.event).id))
    return Timeline(
        entries,
        _names(users, _user_ids(events)),
        _names(teams, _team_ids(events)),
    )


def _events(ticket: Ticket) -> list[Event]:
    # Hidden kinds stay in the database: a message's own events are half of a long trail.
    query = select(Event).where(Event.kind.not_in(HIDDEN_EVENTS))
    own = list(db.session.scalars(query.where(Event.ticket_id == ticket.id)))
    if ticket.order is None:
        return own
    order_number = ticket.order.number
    others = db.session.scalars(
        query.where(
            Event.customer_id == ticket.customer_id,
            or_(Event.ticket_id.is_(None), Event.ticket_id != ticket.id),
            or_(*(Event.kind.startswith(prefix) for prefix in ORDER_EVENT_PREFIXES)),
        )
        .order_by(Event.created_at.desc(), Event.id.desc())
        .limit(ORDER_EVENT_LIMIT)
    )
    return own + [e for e in others if (e.data or {}).get("order") == order_number]


def _shown(event: Event) -> bool:
    if event.kind in HIDDEN_EVENTS:
        return False
    # Ingest's "created" says nothing the first message does not; a split's or a
    # notification's does.
    return event.kind != "ticket.created" or bool((event.data or {}).get("reason"))


def _user_ids(events: list[Event]) -> set[int]:
    ids = set()
    for event in events:
        if event.kind == "ticket.assigned":
            ids |= {event.data.get("old"), event.data.get("new")}
    return {i for i in ids if isinstance(i, int)}


def _team_ids(events: list[Event]) -> set[int]:
    ids = set()
    for event in events:
        if event.kind == "ticket.team_changed":
            ids |= {event.data.get("old"), event.data.get("new")}
    return {i for i in ids if isinstance(i, int)}


def _names(loaded: Sequence[User] | Sequence[Team], ids: set[int]) -> dict[int, str]:
    return {row.id: row.name for row in loaded if row.id in ids}
