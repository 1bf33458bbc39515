"""Collision detection: who else has a ticket open, and who is typing a reply on it.

Browsers send a beat every few seconds while a ticket page is open ("viewing") and
while the composer has focus and input ("typing"). A beat upserts one row per ticket
and user; a row without a beat for `EXPIRY` is gone, and "typing" without a fresh
beat for `TYPING_EXPIRY` falls back to "viewing" (the agent paused or closed the tab
without a goodbye). The caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import PRESENCE_STATES, Presence, Ticket, User
from helpdesk.models.presence import GONE
from helpdesk.models.types import utcnow

#: Without a beat for this long, a person no longer counts as on the ticket.
EXPIRY = timedelta(seconds=30)
#: "Typing" without a fresh typing beat for this long is shown as "viewing".
TYPING_EXPIRY = timedelta(seconds=8)
TAB_LENGTH = Presence.tab.type.length


@dataclass(frozen=True, slots=True)
class Present:
    """Someone on a ticket, as colleagues see them."""

    user_id: int
    name: str
    state: str  # "viewing" or "typing"


def beat(
    ticket: Ticket, user: User, state: str, *, tab: str = "", at: datetime | None = None
) -> None:
    """Record that `user` is on `ticket` in `state`, from browser tab `tab`; the same
    person again updates the row.

    An upsert in one statement, so two workers handling beats of the same person
    race harmlessly. Rows expired everywhere are swept on the way.
    """
    if state not in PRESENCE_STATES:
        raise InvalidInput(f"unknown presence state {state!r}; use one of viewing, typing")
    if len(tab) > TAB_LENGTH:
        raise InvalidInput(f"a tab id has at most {TAB_LENGTH} characters")
    at = at or utcnow()
    # A tab that said goodbye stays gone: its last beat can arrive after it.
    _upsert(ticket, user, state, tab, at, keep=lambda row: and_(row.state == GONE, row.tab == tab))
    sweep(at=at)


def leave(ticket: Ticket, user: User, *, tab: str = "", at: datetime | None = None) -> None:
    """`user` closed the ticket page in `tab`: colleagues stop seeing them at once, unless
    another page of theirs on the ticket has beaten since (it owns the row now).

    The row stays as the tab's goodbye until it expires, so a beat the page sent just
    before it went, arriving later, cannot bring them back."""
    at = at or utcnow()
    # Another tab's row stays unless it is a goodbye too.
    _upsert(ticket, user, GONE, tab, at, keep=lambda row: and_(row.tab != tab, row.state != GONE))


def _upsert(ticket: Ticket, user: User, state: str, tab: str, at: datetime, *, keep) -> None:
    """The person's row on the ticket as (`state`, `tab`, `at`) in one statement, unless
    `keep(Presence)` holds for the row there."""
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(Presence).values(ticket_id=ticket.id, user_id=user.id, state=state,
                                        tab=tab, updated_at=at)  # fmt: skip
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[Presence.ticket_id, Presence.user_id],
            set_={"state": state, "tab": tab, "updated_at": at},
            where=~keep(Presence),
        )
    )


def sweep(*, at: datetime | None = None) -> int:
    """Delete rows whose last beat is older than `EXPIRY`; returns how many."""
    cutoff = (at or utcnow()) - EXPIRY
    result = db.session.execute(delete(Presence).where(Presence.updated_at < cutoff))
    return result.rowcount or 0


def present_on(
    session: Session, ticket_id: int, *, excluding: int | None = None, at: datetime | None = None
) -> list[Present]:
    """Who is on the ticket now (not `excluding`, the asking user), by name.

    Takes the session to read with, so the live stream can use a short one of its own.
    """
    now = at or utcnow()
    typing_since = now - TYPING_EXPIRY
    rows = session.execute(
        select(Presence.user_id, User.name, Presence.state, Presence.updated_at)
        .join(User, User.id == Presence.user_id)
        .where(Presence.ticket_id == ticket_id, Presence.updated_at >= now - EXPIRY)
        .where(Presence.state != GONE)
        .where(User.active.is_(True))
        .order_by(User.name, Presence.user_id)
    ).all()
    return [
        Present(
            user_id=user_id,
            name=name,
            state="typing" if state == "typing" and updated_at >= typing_since else "viewing",
        )
        for user_id, name, state, updated_at in rows
        if user_id != excluding
    ]
