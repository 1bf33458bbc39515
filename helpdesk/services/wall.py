"""The wall of pain and the wall of ideas.

Agents write an entry (a pain point customers or agents keep running into, or an idea
that would help) and pin tickets to it as evidence; everyone votes once per entry.
Leads see the entries ranked by votes or by pinned tickets and move them from new to
planned to done. Every change is an event.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from helpdesk.errors import InvalidInput, NotFound, PermissionDenied
from helpdesk.extensions import db
from helpdesk.models import WALL_KINDS, WALL_STATUSES, Ticket, User, WallEntry, WallTicket, WallVote
from helpdesk.services.events import record_event
from helpdesk.services.ticket_actions import may_see

SORTS = ("votes", "tickets")


@dataclass(frozen=True)
class RankedEntry:
    entry: WallEntry
    votes: int
    tickets: int
    voted: bool  # by the user looking


def _entry(entry_id: int) -> WallEntry:
    entry = db.session.get(WallEntry, entry_id)
    if entry is None:
        raise NotFound(_("There is no wall entry %(id)s.", id=entry_id))
    return entry


def create_entry(kind: str, title: str, body: str, author: User,
                 ticket_number: int | None = None) -> WallEntry:  # fmt: skip
    if kind not in WALL_KINDS:
        raise InvalidInput(_("Choose a pain point or an idea."))
    title = title.strip()
    if not title or len(title) > 200:
        raise InvalidInput(_("A title needs 1 to 200 characters."))
    entry = WallEntry(kind=kind, title=title, body=body.strip()[:5000], author=author)
    db.session.add(entry)
    db.session.flush()
    record_event("wall.created", user=author, entry=entry.id, entry_kind=kind)
    if ticket_number is not None:
        pin_ticket(entry.id, ticket_number, author)
    return entry


def pin_ticket(entry_id: int, ticket_number: int, user: User) -> WallEntry:
    entry = _entry(entry_id)
    ticket = db.session.get(Ticket, ticket_number)
    if ticket is None or not may_see(user, ticket):
        raise InvalidInput(_("There is no ticket #%(number)s you can see.", number=ticket_number))
    if db.session.get(WallTicket, (entry.id, ticket.id)) is None:
        db.session.add(WallTicket(entry_id=entry.id, ticket_id=ticket.id, pinned_by_id=user.id))
        record_event("wall.ticket_pinned", ticket=ticket, user=user, entry=entry.id)
    return entry


def toggle_vote(entry_id: int, user: User) -> bool:
    """Vote, or take the vote back; whether the user now votes for it."""
    entry = _entry(entry_id)
    existing = db.session.get(WallVote, (entry.id, user.id))
    if existing is not None:
        db.session.delete(existing)
        return False
    db.session.add(WallVote(entry_id=entry.id, user_id=user.id))
    return True


def set_status(entry_id: int, status: str, user: User) -> WallEntry:
    if not user.has_role("lead"):
        raise PermissionDenied(_("Only team leads change the status of an entry."))
    if status not in WALL_STATUSES:
        raise InvalidInput(_("Choose new, planned or done."))
    entry = _entry(entry_id)
    if entry.status != status:
        record_event("wall.status_changed", user=user, entry=entry.id, old=entry.status,
                     new=status)  # fmt: skip
        entry.status = status
    return entry


def ranked(user: User, *, kind: str | None = None, sort: str = "votes") -> list[RankedEntry]:
    """The entries, most votes (or most pinned tickets) first, then the oldest."""
    votes = (
        select(WallVote.entry_id, func.count().label("n")).group_by(WallVote.entry_id).subquery()
    )
    pinned = (
        select(WallTicket.entry_id, func.count().label("n"))
        .group_by(WallTicket.entry_id)
        .subquery()
    )
    mine = set(db.session.scalars(select(WallVote.entry_id).where(WallVote.user_id == user.id)))
    query = (
        select(WallEntry, func.coalesce(votes.c.n, 0), func.coalesce(pinned.c.n, 0))
        .outerjoin(votes, votes.c.entry_id == WallEntry.id)
        .outerjoin(pinned, pinned.c.entry_id == WallEntry.id)
    )
    if kind in WALL_KINDS:
        query = query.where(WallEntry.kind == kind)
    first, second = (votes.c.n, pinned.c.n) if sort != "tickets" else (pinned.c.n, votes.c.n)
    query = query.order_by(
        func.coalesce(first, 0).desc(), func.coalesce(second, 0).desc(), WallEntry.id
    )
    return [RankedEntry(e, v, t, e.id in mine) for e, v, t in db.session.execute(query)]


def pinned_tickets(entry_ids: list[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    if entry_ids:
        for entry_id, ticket_id in db.session.execute(
            select(WallTicket.entry_id, WallTicket.ticket_id)
            .where(WallTicket.entry_id.in_(entry_ids))
            .order_by(WallTicket.ticket_id)
        ):
            found.setdefault(entry_id, []).append(ticket_id)
    return found


def open_entries() -> list[WallEntry]:
    """Entries not done yet, pain points first, newest first: what a ticket can be pinned to."""
    return list(
        db.session.scalars(
            select(WallEntry)
            .where(WallEntry.status != "done")
            .order_by(WallEntry.kind.desc(), WallEntry.id.desc())
        )
    )


def entries_of(ticket_id: int) -> list[WallEntry]:
    """The entries `ticket_id` is pinned to."""
    return list(
        db.session.scalars(
            select(WallEntry)
            .join(WallTicket, WallTicket.entry_id == WallEntry.id)
            .where(WallTicket.ticket_id == ticket_id)
            .order_by(WallEntry.id)
        )
    )
