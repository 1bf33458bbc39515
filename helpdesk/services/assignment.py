"""Who gets a ticket: round-robin within a team, fair and safe with several workers.

An agent is eligible when they are active, not away, may work the ticket's channel
(their channel access, and social media managers only social channels) and are below
their capacity: open tickets, and for chats concurrent open chats (per agent, else
`ASSIGN_MAX_OPEN_TICKETS` / `ASSIGN_MAX_CHATS`). A returning customer stays with the
agent of their latest ticket while that agent is eligible.

Whose turn it is lives in the team's `assignment_cursors` row, not in a process: the
row is updated first, which takes its lock (a row lock on PostgreSQL, the write lock on
SQLite) until the transaction ends, and only then are the counts read. Two workers
assigning in the same team therefore take turns and never hand out one turn twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.util import identity_key

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import UNSOLVED_STATUSES, AssignmentCursor, Team, Ticket, User
from helpdesk.services.ticket_actions import may_see

#: Roles that work tickets (admins configure; they are assigned only when named).
WORKING_ROLES: tuple[str, ...] = ("agent", "lead", "social")
DEFAULT_MAX_OPEN_TICKETS = 50
DEFAULT_MAX_CHATS = 3


def may_work(user: User, ticket: Ticket) -> bool:
    """Whether `user` may be given `ticket` at all: active, allowed on its channel."""
    if not may_see(user, ticket):
        return False
    return user.channels is None or ticket.channel in user.channels


def eligible(users: Sequence[User], ticket: Ticket) -> list[User]:
    """Those of `users` who are present, allowed on the channel and below capacity."""
    candidates = [u for u in users if not u.away and may_work(u, ticket)]
    if not candidates:
        return []
    loads = _loads([u.id for u in candidates], exclude=ticket.id)
    config = current_app.config
    fit = []
    for user in candidates:
        open_count, chat_count = loads.get(user.id, (0, 0))
        most = user.max_open_tickets
        if most is None:
            most = config.get("ASSIGN_MAX_OPEN_TICKETS", DEFAULT_MAX_OPEN_TICKETS)
        if open_count >= most:
            continue
        if ticket.channel == "chat":
            chats = user.max_chats
            chats = config.get("ASSIGN_MAX_CHATS", DEFAULT_MAX_CHATS) if chats is None else chats
            if chat_count >= chats:
                continue
        fit.append(user)
    return fit


# The hot statements, built once (a rule assigning on ingest runs each per message).
_LOADS = (
    select(
        Ticket.assignee_id,
        func.count(Ticket.id),
        func.count(Ticket.id).filter(Ticket.channel == "chat"),
    )
    .where(
        Ticket.assignee_id.in_(bindparam("user_ids", expanding=True)),
        Ticket.status.in_(UNSOLVED_STATUSES),
        Ticket.id != bindparam("exclude"),
    )
    .group_by(Ticket.assignee_id)
)
_LAST_AGENT = (
    select(Ticket.assignee_id)
    .where(
        Ticket.customer_id == bindparam("customer_id"),
        Ticket.id != bindparam("ticket_id"),
        Ticket.assignee_id.is_not(None),
    )
    .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
    .limit(1)
)
# On the table, not the entity: the ORM's bulk-update machinery costs more than the
# statement here; `_cursor_changed` takes care of a cursor loaded into the session.
_CURSORS = AssignmentCursor.__table__
_BUMP = (
    update(_CURSORS)
    .where(_CURSORS.c.team_id == bindparam("team"))
    .values(turns=_CURSORS.c.turns + 1)
    .returning(_CURSORS.c.last_user_id)
)
_TAKE_TURN = (
    update(_CURSORS)
    .where(_CURSORS.c.team_id == bindparam("team"))
    .values(last_user_id=bindparam("user"))
)


def _execute(statement, params: dict):
    """`statement` on the session's connection: what `db.session.execute` does for these
    plain statements (the session's pending changes first, when it flushes by itself),
    without the ORM's execution path, which cost more than the statements here."""
    session = db.session()
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, params)


def _loads(user_ids: list[int], exclude: int) -> dict[int, tuple[int, int]]:
    """Open tickets and open chats per user (one grouped query on the assignee index)."""
    rows = _execute(_LOADS, {"user_ids": user_ids, "exclude": exclude})
    return {user_id: (opened, chats) for user_id, opened, chats in rows}


def last_agent_id(ticket: Ticket) -> int | None:
    """The agent of the customer's latest other ticket that had one."""
    params = {"customer_id": ticket.customer_id, "ticket_id": ticket.id}
    return _execute(_LAST_AGENT, params).scalar()


def choose(team: Team, ticket: Ticket, *, sticky: bool = True) -> tuple[User | None, str]:
    """The agent of `team` who should get `ticket`, and why ("sticky", "round_robin", or
    "nobody available"). Takes the team's turn lock for the rest of the transaction."""
    last_turn = _lock_cursor(team.id)
    members = [u for u in team.members if u.role in WORKING_ROLES]
    available = eligible(members, ticket)
    if not available:
        return None, "nobody available"
    if sticky:
        previous = last_agent_id(ticket)
        found = next((u for u in available if u.id == previous), None)
        if found is not None:
            return found, "sticky"
    ordered = sorted(available, key=lambda u: u.id)
    after = last_turn or 0
    chosen = next((u for u in ordered if u.id > after), ordered[0])
    _execute(_TAKE_TURN, {"team": team.id, "user": chosen.id})
    _cursor_changed(team.id)
    return chosen, "round_robin"


def _lock_cursor(team_id: int) -> int | None:
    """Update the team's cursor row (creating it once), which locks it until commit, and
    return whose turn it was last (read by the same statement, under the lock)."""
    row = _execute(_BUMP, {"team": team_id}).first()
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(AssignmentCursor).values(team_id=team_id, turns=1))
        except IntegrityError:  # another worker created it first: take its lock instead
            row = _execute(_BUMP, {"team": team_id}).one()
    _cursor_changed(team_id)
    return row.last_user_id if row is not None else None


def _cursor_changed(team_id: int) -> None:
    """A cursor loaded into the session reads its row again."""
    cursor = db.session.identity_map.get(identity_key(AssignmentCursor, team_id))
    if cursor is not None:
        db.session.expire(cursor)


class AvailabilityInvalid(InvalidInput):
    """A capacity or channel list that cannot be saved."""


def set_availability(
    user: User,
    *,
    away: bool,
    max_open_tickets: str | int | None,
    max_chats: str | int | None,
    channels: list[str] | None,
    by: User | None = None,
) -> None:
    """Set whether `user` is away, their capacities (blank: the defaults) and the channels
    they may be given (None: all). Recorded as an event."""
    from channel_adapters.base import CHANNELS
    from helpdesk.services.events import record_event

    limits = {}
    for name, value in (("max_open_tickets", max_open_tickets), ("max_chats", max_chats)):
        text = str(value).strip() if value is not None else ""
        if not text:
            limits[name] = None
        elif text.isdigit() and int(text) <= 10_000:
            limits[name] = int(text)
        else:
            raise AvailabilityInvalid(f"{name}: a whole number from 0 to 10000, or blank")
    if channels is not None:
        unknown = [c for c in channels if c not in CHANNELS]
        if unknown:
            raise AvailabilityInvalid(f"unknown channel {', '.join(unknown)}")
    user.away = away
    user.max_open_tickets = limits["max_open_tickets"]
    user.max_chats = limits["max_chats"]
    user.channels = None if channels is None else list(dict.fromkeys(channels))
    record_event("user.availability_changed", user=by, actor=f"user:{by.id}" if by else "cli",
                 agent=user.id, away=away, channels=user.channels, **limits)  # fmt: skip
