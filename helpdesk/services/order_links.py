"""Which order a ticket is about: linked on ingest, changed by agents.

On ingest the order a message names (the classifier's `order_number` entities)
wins, but only one of the ticket's customer (or, for an order without a known
customer, one placed with the customer's e-mail address): order numbers can be
guessed, so a stranger naming one must not see that order beside their ticket.
A ticket without a link gets the customer's most recent order. What an agent
chose ("agent", also "no order") is never overwritten automatically.

The ingest half speaks SQLAlchemy Core on ingest's connection (it runs for every
message); the agent half uses the ORM like every other service.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, exists, func, or_, select, update

from classifiers.base import Entity
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import Customer, CustomerIdentity, Order, Ticket, User
from helpdesk.services.events import record_event

#: How a ticket got its order: named in a message, the customer's latest, an agent's choice.
ENTITY, RECENT, AGENT = "entity", "recent", "agent"
#: Only an order this recent is "the one they probably mean" when no number is named.
RECENT_DAYS = 90

# "#1001", "SW-100234", "BE 100234", "Nr. 100234": what is left when the decoration goes.
_DECORATION = re.compile(r"^[#\s]*(?:[A-Za-z]{1,6}\.?[-\s]?)?#?\s*(?=\d)")


@dataclass(frozen=True, slots=True)
class OrderLink:
    """A link ingest just made, for the event trail."""

    order_id: int
    how: str
    number: str | None = None

    def event_data(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "link": self.how, "order": self.number}


def bare_number(number: str) -> str:
    """The digits customers quote: without a leading "#" or a shop's letter prefix."""
    number = number.strip()
    return _DECORATION.sub("", number, count=1)


def number_variants(number: str) -> list[str]:
    """The spellings one order number may be stored under, for an indexed `IN`."""
    bare = bare_number(number)
    return sorted({number.strip(), bare, f"#{bare}"} - {"", "#"})


# --- on ingest ---------------------------------------------------------------------------
# Statements are built once, as in helpdesk.ingest; each message only binds values.

_THEIR_EMAILS = select(func.lower(CustomerIdentity.value)).where(
    CustomerIdentity.customer_id == bindparam("of_customer"), CustomerIdentity.kind == "email"
)
_NAMED_COLUMNS = select(
    Order.id,
    Order.number,
    Order.placed_at,
    Order.customer_id,
    Customer.merged_into_id.label("owner_merged_into"),
    func.lower(Order.email).in_(_THEIR_EMAILS).label("their_email"),
).outerjoin(Customer, Customer.id == Order.customer_id)
_LINK_NAMED = (
    update(Ticket)
    .where(
        Ticket.id == bindparam("ticket_id"),
        Ticket.order_link.is_distinct_from(AGENT),
        or_(
            Ticket.order_id.is_distinct_from(bindparam("named_id")),
            Ticket.order_link.is_distinct_from(ENTITY),
        ),
    )
    .values(order_id=bindparam("named_id"), order_link=ENTITY)
)
_LATEST_ORDER = (
    select(Order.id)
    .where(
        Order.customer_id == bindparam("of_customer"),
        Order.placed_at >= bindparam("since"),
        Order.placed_at <= bindparam("at"),  # an import of old mail must not see later orders
    )
    .order_by(Order.placed_at.desc(), Order.id.desc())
    .limit(1)
)
# One statement: the ticket by primary key, the customer's orders by (customer, date).
_LINK_RECENT = (
    update(Ticket)
    .where(
        Ticket.id == bindparam("ticket_id"),
        Ticket.order_id.is_(None),
        Ticket.order_link.is_distinct_from(AGENT),
        exists(_LATEST_ORDER),
    )
    .values(order_id=_LATEST_ORDER.scalar_subquery(), order_link=RECENT)
    .returning(Ticket.order_id)
)


@cache
def _named_orders(suffixes: int) -> Select:
    """Orders stored under one of the quoted numbers' spellings, and the customer's own
    orders whose number ends in one of `suffixes` quoted numbers after a shop's prefix
    ("SW-100234" quoted as "100234")."""
    return _NAMED_COLUMNS.where(
        or_(
            Order.number.in_(bindparam("variants", expanding=True)),
            and_(
                Order.customer_id == bindparam("of_customer"),
                or_(*(Order.number.like(bindparam(f"suffix{i}"), escape="/")
                      for i in range(suffixes))),
            ),
        )
    )  # fmt: skip


def link_on_ingest(
    conn: Connection,
    *,
    ticket_id: int,
    customer_id: int,
    entities: Sequence[Entity],
    at: datetime,
    recent: bool = True,
) -> OrderLink | None:
    """Link the ticket to the order the message names, else (if it has none) to the
    customer's most recent one. Returns the new link, or None when nothing changed.

    `recent=False`: the caller knows the ticket has an order or the customer has none,
    so the look-up for the most recent one is left out.
    """
    numbers = _quoted_numbers(entities)
    if numbers:
        found = _named_order(conn, customer_id, numbers)
        if found is not None:
            order_id, number = found
            params = {"ticket_id": ticket_id, "named_id": order_id}
            changed = conn.execute(_LINK_NAMED, params).rowcount
            return OrderLink(order_id, ENTITY, number) if changed else None
    if not recent:
        return None
    since = at - timedelta(days=RECENT_DAYS)
    params = {"ticket_id": ticket_id, "of_customer": customer_id, "since": since, "at": at}
    row = conn.execute(_LINK_RECENT, params).first()
    return None if row is None else OrderLink(row.order_id, RECENT)


def _quoted_numbers(entities: Iterable[Entity]) -> list[str]:
    """Order numbers in the order the message names them, each once."""
    seen: dict[str, None] = {}
    for entity in entities:
        if entity.kind == "order_number" and bare_number(entity.value):
            seen.setdefault(entity.value.strip(), None)
    return list(seen)


def _named_order(conn: Connection, customer_id: int, numbers: list[str]) -> tuple[int, str] | None:
    """The best order among those `numbers` name that the customer may see, in one query:
    their own first, then one placed with their e-mail address; the first named wins."""
    position: dict[str, int] = {}
    for number in numbers:
        position.setdefault(bare_number(number), len(position))
    params: dict[str, Any] = {
        "of_customer": customer_id,
        "variants": sorted({v for n in numbers for v in number_variants(n)}),
    }
    for i, bare in enumerate(position):
        params[f"suffix{i}"] = "%" + re.sub(r"([/%_])", r"/\1", bare)
    ranked = []
    for row in conn.execute(_named_orders(len(position)), params):
        bare = bare_number(row.number)
        if bare not in position:
            continue  # "SW-1100234" ends with "100234" but is another order
        own = row.customer_id == customer_id
        # An order of a customer since merged into another is nobody's own any more.
        unowned = row.customer_id is None or row.owner_merged_into is not None
        if not own and not (row.their_email and unowned):
            continue  # another customer's order: never beside this ticket
        ranked.append((not own, position[bare], -row.placed_at.timestamp(), row.id, row.number))
    if not ranked:
        return None
    *_, order_id, number = min(ranked)
    return order_id, number


# --- by an agent -------------------------------------------------------------------------


def find_order(ticket: Ticket, number: str) -> Order:
    """The order an agent means by `number`: one of the ticket's customer (also without
    "#" or prefix), else any order with exactly that number."""
    number = number.strip()
    bare = bare_number(number)
    if not bare:
        raise InvalidInput("enter an order number")
    own = db.session.scalars(
        select(Order)
        .where(
            Order.customer_id == ticket.customer_id,
            or_(
                Order.number.in_(number_variants(number)),
                Order.number.endswith(bare, autoescape=True),
            ),
        )
        .order_by(Order.placed_at.desc(), Order.id.desc())
    ).all()
    own = [order for order in own if bare_number(order.number) == bare]
    if own:
        return own[0]
    exact = db.session.scalars(select(Order).where(Order.number == number)).all()
    if len(exact) == 1:
        return exact[0]
    if exact:
        shops = ", ".join(sorted(order.shop.name for order in exact))
        raise InvalidInput(f"{len(exact)} shops have an order {number} ({shops}); none of them "
                           "is this customer's")  # fmt: skip
    raise InvalidInput(f"there is no order {number}")


def link_by_agent(ticket: Ticket, user: User, number: str) -> Order | None:
    """Link `ticket` to the order `number` names, or to none when it is empty. The choice
    is the agent's from now on: ingest never changes it."""
    order = find_order(ticket, number) if number.strip() else None
    previous = ticket.order
    if ticket.order_link == AGENT and previous is order:
        return order
    ticket.order = order
    ticket.order_link = AGENT
    record_event(
        "ticket.order_linked" if order is not None else "ticket.order_unlinked",
        ticket=ticket,
        customer=ticket.customer,
        user=user,
        link=AGENT,
        order=order.number if order is not None else None,
        order_id=order.id if order is not None else None,
        previous=previous.number if previous is not None else None,
    )
    return order
