"""Changing many tickets at once from the inbox: assign, set status, add a tag, merge.

All or nothing: a request naming a ticket the user may not touch changes none of them.
Every change is an event on its ticket (the ticket page's actions in
`helpdesk.services.ticket_actions` do the work); a change that changes nothing is
not recorded. The caller commits, or rolls back on an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from helpdesk.errors import InvalidInput, NotFound, PermissionDenied
from helpdesk.extensions import db
from helpdesk.models import Ticket, User
from helpdesk.services import ticket_actions
from helpdesk.services.inbox import may_see
from helpdesk.services.replies import set_status

BULK_ACTIONS: tuple[str, ...] = ("assign", "status", "tag", "merge")
#: Statuses an agent sets by hand; "new" and "closed" are the system's.
BULK_STATUSES: tuple[str, ...] = ("open", "pending", "on_hold", "solved")
#: More than one page of the inbox is not a selection but a mistake.
MAX_TICKETS = 500


@dataclass(frozen=True, slots=True)
class BulkChange:
    """What the form asked for: the action and its one argument."""

    action: str
    assignee: str | None = None  # "me", "none" or a user id
    status: str | None = None
    tag: str | None = None
    target: int | None = None  # merge: the ticket the others go into


def bulk_update(user: User, ticket_ids: Sequence[int], change: BulkChange) -> int:
    """Apply `change` to the tickets as `user`; returns how many tickets changed.

    Raises InvalidInput for a bad request, NotFound for a missing ticket and
    PermissionDenied when `user` may not touch one of them (social media managers:
    social tickets only), before anything is changed.
    """
    if change.action not in BULK_ACTIONS:
        raise InvalidInput(_("Unknown action “%(action)s”.", action=change.action))
    tickets = _tickets(user, ticket_ids)
    if change.action == "assign":
        return assign(user, tickets, _assignee(user, change.assignee))
    if change.action == "status":
        return set_statuses(user, tickets, change.status or "")
    if change.action == "tag":
        return add_tag(user, tickets, change.tag or "")
    return merge(user, tickets, change.target)


def _tickets(user: User, ticket_ids: Sequence[int]) -> list[Ticket]:
    wanted = sorted(set(ticket_ids))
    if not wanted:
        raise InvalidInput(_("Select at least one ticket."))
    if len(wanted) > MAX_TICKETS:
        raise InvalidInput(_("At most %(count)s tickets at once.", count=MAX_TICKETS))
    tickets = list(db.session.scalars(select(Ticket).where(Ticket.id.in_(wanted))))
    missing = set(wanted) - {t.id for t in tickets}
    if missing:
        numbers = ", ".join(f"#{n}" for n in sorted(missing))
        raise NotFound(_("There is no ticket %(numbers)s.", numbers=numbers))
    if not all(may_see(user, t) for t in tickets):
        raise PermissionDenied(_("Social media managers may change social tickets only."))
    return sorted(tickets, key=lambda t: t.id)


def _assignee(user: User, value: str | None) -> User | None:
    if value in (None, "", "none"):
        return None
    if value == "me":
        return user
    assignee = db.session.get(User, int(value)) if value.isdigit() and len(value) < 10 else None
    if assignee is None or not assignee.active:
        raise InvalidInput(_("Choose an active colleague to assign to."))
    return assignee


def assign(user: User, tickets: list[Ticket], assignee: User | None) -> int:
    """Give the tickets to `assignee` (None: nobody)."""
    changed = 0
    for ticket in tickets:
        before = ticket.assignee_id
        ticket_actions.assign(ticket, assignee, user=user)
        after = ticket.assignee.id if ticket.assignee is not None else None
        changed += after != before
    return changed


def set_statuses(user: User, tickets: list[Ticket], status: str) -> int:
    if status not in BULK_STATUSES:
        raise InvalidInput(_("Choose one of the statuses offered."))
    changed = 0
    for ticket in tickets:
        if ticket.status != status:
            set_status(ticket, status, user=user)
            changed += 1
    return changed


def add_tag(user: User, tickets: list[Ticket], name: str) -> int:
    tag = ticket_actions.normalise_tag(name)
    changed = 0
    for ticket in tickets:
        if tag not in {t.name for t in ticket.tags}:
            ticket_actions.add_tag(ticket, tag, user=user)
            changed += 1
    return changed


def merge(user: User, tickets: list[Ticket], target_id: int | None) -> int:
    """Merge the selected tickets into the one numbered `target_id`, which must be one
    of them (default: the oldest). Returns how many were merged into it."""
    if len(tickets) < 2:
        raise InvalidInput(_("Select at least two tickets to merge."))
    by_id = {ticket.id: ticket for ticket in tickets}
    target = by_id.get(target_id if target_id is not None else min(by_id))
    if target is None:
        raise InvalidInput(_("#%(number)s is not one of the selected tickets.", number=target_id))
    sources = [ticket for ticket in tickets if ticket is not target]
    ticket_actions.merge_tickets(target, sources, user)
    return len(sources)
