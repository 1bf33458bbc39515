"""Reading the ticket store for the agents' inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from channel_adapters.base import CHANNEL_FAMILIES
from helpdesk.errors import InvalidInput, NotFound, PermissionDenied
from helpdesk.extensions import db
from helpdesk.models import UNSOLVED_STATUSES, IntentTag, Ticket, User

#: The views of the plain inbox: name -> statuses shown.
VIEWS: dict[str, tuple[str, ...]] = {
    "open": UNSOLVED_STATUSES,
    "new": ("new",),
    "pending": ("pending",),
    "on_hold": ("on_hold",),
    "solved": ("solved", "closed"),
}
SOCIAL_CHANNELS = tuple(c for c, family in CHANNEL_FAMILIES.items() if family == "social")


@dataclass(frozen=True, slots=True)
class Page:
    tickets: list[Ticket]
    next_cursor: str | None


def visible_tickets(user: User) -> Select:
    """Tickets `user` may see: social media managers see the social channels only."""
    query = select(Ticket)
    if user.role == "social":
        query = query.where(Ticket.channel.in_(SOCIAL_CHANNELS))
    return query


def list_tickets(
    user: User,
    *,
    view: str = "open",
    channel: str | None = None,
    intent: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """One page of a view, newest activity first, paged by keyset (stays fast when deep)."""
    if view not in VIEWS:
        raise InvalidInput(f"unknown view {view!r}")
    query = visible_tickets(user).where(Ticket.status.in_(VIEWS[view]))
    if channel:
        query = query.where(Ticket.channel == channel)
    if intent:
        query = query.where(Ticket.id.in_(_carrying(intent)))
    if cursor:
        last_activity, last_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                Ticket.last_activity_at < last_activity,
                and_(Ticket.last_activity_at == last_activity, Ticket.id < last_id),
            )
        )
    rows = db.session.scalars(
        query.options(
            selectinload(Ticket.customer),
            selectinload(Ticket.intent_tags),
            selectinload(Ticket.assignee),
        )
        .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
        .limit(limit + 1)
    ).all()
    tickets = list(rows[:limit])
    next_cursor = _encode_cursor(tickets[-1]) if len(rows) > limit else None
    return Page(tickets, next_cursor)


def _carrying(intent: str) -> Select:
    """Tickets whose latest tag for `intent` is not a rejection."""
    latest = (
        select(IntentTag.ticket_id, func.max(IntentTag.id).label("id"))
        .where(IntentTag.intent == intent)
        .group_by(IntentTag.ticket_id)
        .subquery()
    )
    return (
        select(IntentTag.ticket_id)
        .join(latest, latest.c.id == IntentTag.id)
        .where(IntentTag.rejected.is_(False))
    )


def count_views(user: User) -> dict[str, int]:
    counts = dict(
        db.session.execute(
            visible_tickets(user)
            .with_only_columns(Ticket.status, func.count())
            .group_by(Ticket.status)
        ).all()
    )
    return {view: sum(counts.get(s, 0) for s in statuses) for view, statuses in VIEWS.items()}


def get_ticket(user: User, number: int) -> Ticket:
    ticket = db.session.get(Ticket, number)
    if ticket is None:
        raise NotFound(f"ticket {number} does not exist")
    if user.role == "social" and ticket.channel not in SOCIAL_CHANNELS:
        raise PermissionDenied("social media managers see social tickets only")
    return ticket


def _encode_cursor(ticket: Ticket) -> str:
    return f"{ticket.last_activity_at.isoformat()}_{ticket.id}"


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, _, ticket_id = cursor.rpartition("_")
        return datetime.fromisoformat(stamp), int(ticket_id)
    except ValueError:
        raise InvalidInput("this page link is broken; start again from the first page") from None
