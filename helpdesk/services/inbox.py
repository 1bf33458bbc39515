"""Reading the ticket store for the agents' inbox: views, filters, sorts, keyset pages.

A list is (what the user may see) AND (the view) AND (the filters), in one of three
sorts, paged by keyset: the cursor holds the sort key and id of the last ticket shown,
so page 500 costs what page 1 costs. A sort is a list of phases (SLA: tickets with a
due time, then those without; priority: urgent, high, normal, low), each one range scan
on a partial index over the unsolved or the solved tickets (see the indexes of
`Ticket`). The status conditions are literal SQL because neither SQLite nor PostgreSQL
uses a partial index for a condition with bound parameters. The rows of a page are
built in `inbox_rows`, the counts beside the list in `inbox_counts`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    exists,
    false,
    literal_column,
    select,
    text,
    true,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.orm.interfaces import ORMOption

from channel_adapters.base import CHANNEL_FAMILIES, CHANNELS
from classifiers.base import INTENTS
from helpdesk.errors import InvalidInput, NotFound, PermissionDenied
from helpdesk.extensions import db
from helpdesk.models import (
    PRIORITIES,
    TICKET_STATUSES,
    Ticket,
    TicketTag,
    User,
)
from helpdesk.models.tickets import SOLVED_STATUSES, UNSOLVED_STATUSES
from helpdesk.models.types import utcnow
from helpdesk.services.inbox_intents import carries
from helpdesk.services.inbox_rows import COLUMNS, Row, build_rows

SOCIAL_CHANNELS = tuple(c for c, family in CHANNEL_FAMILIES.items() if family == "social")

#: The views, in the order the sidebar shows them.
VIEWS: tuple[str, ...] = (
    "unassigned",
    "mine",
    "open",
    "new",
    "pending",
    "on_hold",
    "due_soon",
    "escalated",
    "solved",
)
SORTS: tuple[str, ...] = ("activity", "sla", "priority")
#: "SLA due soon": due within this time, or overdue.
DUE_SOON = timedelta(hours=2)
#: A ticket tagged so counts as escalated from social, like one a social ticket points at.
ESCALATED_TAG = "escalated"


_ID = re.compile(r"[0-9]{1,9}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,4})?")


class InvalidQuery(InvalidInput):
    """A broken inbox address: unknown view, sort or filter value, or a changed cursor."""

    status_code = 400


# --- what a list shows ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    """The filters of the inbox, all optional and combined with AND; kept in the URL.

    `assignee` is "me", "none" or a user id; `team` is "none" or a team id.
    """

    channel: str | None = None
    intent: str | None = None
    status: str | None = None
    assignee: str | None = None
    team: str | None = None
    language: str | None = None
    tag: str | None = None

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> Filters:
        """The filters from request arguments; empty values mean "any"."""
        values = {f.name: (args.get(f.name) or "").strip() or None for f in fields(cls)}
        if values["tag"]:
            values["tag"] = _tag_name(values["tag"])
        found = cls(**values)
        found._check()
        return found

    def _check(self) -> None:
        _one_of("channel", self.channel, CHANNELS)
        _one_of("intent", self.intent, INTENTS)
        _one_of("status", self.status, TICKET_STATUSES)
        if self.assignee not in (None, "me", "none") and not _ID.fullmatch(self.assignee):
            raise InvalidQuery(_("The assignee filter takes me, none or a user's number."))
        if self.team not in (None, "none") and not _ID.fullmatch(self.team):
            raise InvalidQuery(_("The team filter takes none or a team's number."))
        if self.language is not None and not _LANGUAGE.fullmatch(self.language):
            raise InvalidQuery(_("The language filter takes a language code such as de or en."))

    def as_args(self) -> dict[str, str]:
        """The filters that are set, for building URLs."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def conditions(self, user: User) -> list[ColumnElement[bool]]:
        """All but the status, which `view_conditions` folds into the view's statuses."""
        found: list[ColumnElement[bool]] = []
        if self.channel:
            found.append(Ticket.channel == self.channel)
        if self.intent:
            found.append(carrying(self.intent))
        if self.assignee == "none":
            found.append(Ticket.assignee_id.is_(None))
        elif self.assignee:
            assignee = user.id if self.assignee == "me" else int(self.assignee)
            found.append(Ticket.assignee_id == assignee)
        if self.team == "none":
            found.append(Ticket.team_id.is_(None))
        elif self.team:
            found.append(Ticket.team_id == int(self.team))
        if self.language:
            found.append(Ticket.language == self.language)
        if self.tag:
            found.append(tagged(self.tag))
        return found


def _tag_name(raw: str) -> str:
    """A tag as the ticket page writes it ("Eilig Retoure" -> "eilig-retoure")."""
    from helpdesk.services.ticket_actions import normalise_tag  # it imports this module

    try:
        return normalise_tag(raw)
    except InvalidInput as error:
        raise InvalidQuery(str(error)) from None


def _one_of(name: str, value: str | None, allowed: Sequence[str]) -> None:
    if value is not None and value not in allowed:
        message = _("Unknown %(name)s “%(value)s”; use one of: %(allowed)s.",
                    name=name, value=value, allowed=", ".join(allowed))  # fmt: skip
        raise InvalidQuery(message)


def default_sort(view: str) -> str:
    return "sla" if view == "due_soon" else "activity"


def checked_sort(view: str, sort: str | None) -> str:
    """The sort to use for `view`; InvalidQuery for an unknown view or sort."""
    _one_of("view", view, VIEWS)
    sort = sort or default_sort(view)
    _one_of("sort", sort, SORTS)
    return sort


# --- queries ----------------------------------------------------------------------------


def visibility(user: User) -> list[ColumnElement[bool]]:
    """What limits the tickets `user` may see: social media managers see social ones only."""
    return role_visibility(user.role)


def role_visibility(role: str) -> list[ColumnElement[bool]]:
    """`visibility` for anyone with `role` (statements built once per role use it)."""
    return [Ticket.channel.in_(SOCIAL_CHANNELS)] if role == "social" else []


def visible_tickets(user: User) -> Select:
    """Tickets `user` may see."""
    return select(Ticket).where(*visibility(user))


def may_see(user: User, ticket: Ticket) -> bool:
    return user.role != "social" or ticket.channel in SOCIAL_CHANNELS


def in_statuses(statuses: Sequence[str]) -> ColumnElement[bool]:
    """`status IN (...)` with the values written into the SQL, as the partial indexes say."""
    return Ticket.status.in_([literal_column(f"'{status}'") for status in statuses])


def carrying(intent: str) -> ColumnElement[bool]:
    """The ticket carries `intent` (its latest tag for it is not a rejection): a bit of
    `tickets.intent_bits`, checked on the row instead of looking up its tags."""
    return carries(Ticket.intent_bits, intent) == 1


def tagged(tag: str) -> ColumnElement[bool]:
    return exists().where(TicketTag.ticket_id == Ticket.id, TicketTag.name == tag).correlate(Ticket)


def escalated(*, for_counting: bool = False) -> ColumnElement[bool]:
    """Handed over from social: another ticket's escalation points here, or it is tagged so.

    The grouped count checks each backlog ticket against the set, which needs no
    duplicates removed (UNION ALL, 30 % faster); for the list PostgreSQL plans a hash
    join from a UNION, but PK look-ups of every id from a UNION ALL (4 times slower).
    """
    source = aliased(Ticket)
    combine = union_all if for_counting else union
    return Ticket.id.in_(
        combine(
            select(source.escalated_to_id).where(source.escalated_to_id.is_not(None)),
            select(TicketTag.ticket_id).where(TicketTag.name == ESCALATED_TAG),
        )
    )


#: The statuses each view shows.
VIEW_STATUSES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("unassigned", "mine", "open", "due_soon", "escalated"), UNSOLVED_STATUSES),
    "new": ("new",),
    "pending": ("pending",),
    "on_hold": ("on_hold",),
    "solved": SOLVED_STATUSES,
}


def view_conditions(
    view: str, user: User, now: datetime, status: str | None = None
) -> list[ColumnElement[bool]]:
    """What `view` selects (narrowed to `status`, the status filter, when given).

    The statuses are one condition written as the partial indexes' are: beside a second
    condition on the status, PostgreSQL multiplies the two selectivities, expects a
    handful of rows and picks a plan for a handful (23 ms instead of 1 for "pending").
    A subset like `status IN ('pending')` it still proves to be covered by the indexes.
    """
    statuses = VIEW_STATUSES[view]
    if status is not None:
        statuses = tuple(s for s in statuses if s == status)
    if not statuses:
        return [false()]
    found = [in_statuses(statuses)]
    if view == "unassigned":
        found.append(Ticket.assignee_id.is_(None))
    elif view == "mine":
        found.append(Ticket.assignee_id == user.id)
    elif view == "due_soon":
        found.append(Ticket.sla_due_at <= now + DUE_SOON)
    elif view == "escalated":
        found.append(escalated())
    return found


# --- sorting and keyset paging ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phase:
    """One stretch of a sort: the rows matching `condition`, in `order`; `keys` (a suffix
    of the order, all in one direction) is what the cursor keeps."""

    condition: ColumnElement[bool]
    order: tuple[InstrumentedAttribute, ...]
    keys: tuple[InstrumentedAttribute, ...]
    descending: bool

    def ordering(self) -> list[Any]:
        return [c.desc() if self.descending else c.asc() for c in self.order]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows after the one whose keys are `values`, as one row-value comparison that
        both databases turn into an index range."""
        params = [bindparam(None, v, type_=k.type) for k, v in zip(self.keys, values, strict=True)]
        if len(self.keys) == 1:
            key, param = self.keys[0], params[0]
            return key < param if self.descending else key > param
        left, right = tuple_(*self.keys), tuple_(*params)
        return left < right if self.descending else left > right


_ACTIVITY = (Ticket.last_activity_at, Ticket.id)
SORT_PHASES: dict[str, tuple[Phase, ...]] = {
    "activity": (Phase(true(), _ACTIVITY, _ACTIVITY, descending=True),),
    # Due soonest (or most overdue) first; tickets without a due time after all others.
    "sla": (
        Phase(
            Ticket.sla_due_at.is_not(None),
            (Ticket.sla_due_at, Ticket.id),
            (Ticket.sla_due_at, Ticket.id),
            descending=False,
        ),
        Phase(
            Ticket.sla_due_at.is_(None),
            (Ticket.sla_due_at, Ticket.id),
            (Ticket.id,),
            descending=False,
        ),
    ),
    # Urgent first, then high, normal, low; within a priority the latest activity first.
    "priority": tuple(
        Phase(Ticket.priority == priority, (Ticket.priority, *_ACTIVITY), _ACTIVITY, True)
        for priority in reversed(PRIORITIES)
    ),
}


@dataclass(frozen=True, slots=True)
class Page:
    tickets: list[Row]
    next_cursor: str | None
    sort: str = "activity"
    filters: Filters = field(default_factory=Filters)


def list_tickets(
    user: User,
    *,
    view: str = "open",
    filters: Filters | None = None,
    sort: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> Page:
    """One page of `view` with `filters` in `sort` order, after `cursor` when given."""
    filters = filters or Filters()
    sort = checked_sort(view, sort)
    base = select(*COLUMNS).where(
        *visibility(user),
        *view_conditions(view, user, now or utcnow(), filters.status),
        *filters.conditions(user),
    )
    phases = SORT_PHASES[sort]
    first, after = decode_cursor(cursor, sort) if cursor else (0, None)
    if db.session.get_bind().dialect.name == "postgresql":
        # A page is 50 rows read in index order. PostgreSQL cannot estimate the filters on
        # intent bits, plans for many rows and starts parallel workers, which costs more
        # (about 10 ms) than they save on a page.
        db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    found: list[tuple[Any, int]] = []
    for number in range(first, len(phases)):
        phase = phases[number]
        query = base.where(phase.condition)
        if after is not None and number == first:
            query = query.where(phase.after(after))
        rows = db.session.execute(
            query.order_by(*phase.ordering()).limit(limit + 1 - len(found))
        ).all()
        found += [(row, number) for row in rows]
        if len(found) > limit:
            break
    shown = found[:limit]
    next_cursor = encode_cursor(sort, *shown[-1]) if len(found) > limit else None
    return Page(build_rows([row for row, _ in shown]), next_cursor, sort, filters)


def encode_cursor(sort: str, row: Any, phase: int) -> str:
    """The cursor after `row` (anything with the sort's key attributes)."""
    keys = SORT_PHASES[sort][phase].keys
    values = [_plain(getattr(row, key.key)) for key in keys]
    raw = json.dumps({"s": sort, "p": phase, "k": values}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[int, list[Any]]:
    """The phase and key values a cursor of `sort` holds; InvalidQuery if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        phase = data["p"]
        if data["s"] != sort or type(phase) is not int or not 0 <= phase < len(SORT_PHASES[sort]):
            raise ValueError("a cursor of another sort")
        keys = SORT_PHASES[sort][phase].keys
        if len(data["k"]) != len(keys):
            raise ValueError("a cursor of another phase")
        return phase, [_typed(key, value) for key, value in zip(keys, data["k"], strict=True)]
    except (ValueError, TypeError, KeyError, IndexError, binascii.Error, UnicodeDecodeError):
        raise InvalidQuery(
            _("This page link is broken or was changed; start again from the first page.")
        ) from None


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _typed(key: InstrumentedAttribute, value: Any) -> Any:
    """A key value back from JSON: the id is an int, every other key a time with a zone."""
    if key.key == "id":
        if type(value) is not int:
            raise ValueError("not an id")
        return value
    stamp = datetime.fromisoformat(value)
    if stamp.tzinfo is None:
        raise ValueError("naive time in cursor")
    return stamp


# --- one ticket -------------------------------------------------------------------------


def get_ticket(user: User, number: int, options: Sequence[ORMOption] = ()) -> Ticket:
    """`options`: loader options for what the caller reads of the ticket (one statement)."""
    ticket = db.session.get(Ticket, number, options=options)
    if ticket is None:
        raise NotFound(_("Ticket %(number)s does not exist.", number=number))
    if not may_see(user, ticket):
        raise PermissionDenied(_("Social media managers see social tickets only."))
    return ticket
