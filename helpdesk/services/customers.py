"""Finding the customer behind a message, across every channel they use."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select

from channel_adapters.base import Identity
from helpdesk.extensions import db
from helpdesk.models import Customer, CustomerIdentity, User
from helpdesk.services.events import record_event

log = logging.getLogger(__name__)


def resolve_customer(identities: Sequence[Identity], *, actor: str = "ingest") -> Customer:
    """Return the one customer these identities belong to, creating or merging as needed.

    The first identity is the sender's; the others came with the same message
    (a chat visitor who typed an e-mail address, a WhatsApp number that also
    called). An identity nobody has yet is added to the customer. When the
    identities belong to different customers, the message is the evidence that
    they are one person: the younger customers are merged into the oldest.
    """
    if not identities:
        raise ValueError("a customer needs at least one identity")
    known = db.session.scalars(
        select(CustomerIdentity).where(
            or_(
                *(
                    and_(CustomerIdentity.kind == i.kind, CustomerIdentity.value == i.value)
                    for i in identities
                )
            )
        )
    ).all()
    customers = {_surviving(row.customer).id: _surviving(row.customer) for row in known}

    if not customers:
        customer = Customer(name=next((i.display_name for i in identities if i.display_name), None))
        db.session.add(customer)
        record_event(
            "customer.created",
            customer=customer,
            actor=actor,
            identities=[f"{i.kind}:{i.value}" for i in identities],
        )
    else:
        customer, *others = sorted(customers.values(), key=lambda c: c.id)
        for other in others:
            merge_customers(customer, other, actor=actor)

    have = {(row.kind, row.value) for row in known}
    for identity in identities:
        if (identity.kind, identity.value) in have:
            continue
        have.add((identity.kind, identity.value))
        customer.identities.append(
            CustomerIdentity(
                kind=identity.kind, value=identity.value, display_name=identity.display_name
            )
        )
        if customers:
            record_event(
                "customer.identity_added",
                customer=customer,
                actor=actor,
                identity=f"{identity.kind}:{identity.value}",
            )
    if not customer.name:
        customer.name = next((i.display_name for i in identities if i.display_name), None)
    return customer


def add_identity(
    customer: Customer, identity: Identity, *, user: User | None = None, at: datetime | None = None
) -> Customer:
    """Record that `customer` is also known by `identity`, e.g. after an agent asked.

    If another customer holds that identity already, the two are one person and
    are merged (into the older); the surviving customer is returned.
    """
    actor = "system"
    owner = db.session.scalar(
        select(CustomerIdentity).where(
            CustomerIdentity.kind == identity.kind, CustomerIdentity.value == identity.value
        )
    )
    customer = _surviving(customer)
    if owner is None:
        customer.identities.append(
            CustomerIdentity(
                kind=identity.kind, value=identity.value, display_name=identity.display_name
            )
        )
        event = record_event(
            "customer.identity_added",
            customer=customer,
            user=user,
            actor=actor,
            identity=f"{identity.kind}:{identity.value}",
        )
        if at is not None:
            event.created_at = at
        return customer
    other = _surviving(owner.customer)
    if other.id == customer.id:
        return customer
    keep, gone = sorted((customer, other), key=lambda c: c.id)
    merge_customers(keep, gone, actor=actor, user=user)
    return keep


def merge_customers(
    keep: Customer, other: Customer, *, actor: str, user: User | None = None
) -> None:
    """Move `other`'s identities and tickets to `keep`, recorded so it can be undone."""
    from helpdesk.services.customer_merge import merge_customers as merge

    merge(keep, other, actor=actor, user=user)


def _surviving(customer: Customer) -> Customer:
    while customer.merged_into_id is not None:
        customer = db.session.get(Customer, customer.merged_into_id)
    return customer


def customer_tickets(customer: Customer) -> list:
    """All of the customer's tickets, the latest activity first."""
    from helpdesk.models import Ticket

    return list(
        db.session.scalars(
            select(Ticket)
            .where(Ticket.customer_id == customer.id)
            .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
        )
    )


def customer_timeline(customer: Customer, tickets: Sequence, *, limit: int = 200) -> list:
    """The customer's messages on every channel and ticket in one list, the newest first
    (internal notes aside: they belong to their ticket's page)."""
    from sqlalchemy.orm import selectinload

    from helpdesk.models import Message

    ids = [t.id for t in tickets]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.ticket_id.in_(ids), Message.direction != "note")
            .options(selectinload(Message.author), selectinload(Message.ticket))
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(limit)
        )
    )
