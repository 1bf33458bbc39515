"""Finding the customer behind a message, across every channel they use."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select, update

from channel_adapters.base import Identity
from helpdesk.extensions import db
from helpdesk.models import Customer, CustomerIdentity, Ticket, User
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
    """Move `other`'s identities and tickets to `keep`; `other` remains as a pointer."""
    db.session.flush()
    db.session.execute(
        update(CustomerIdentity)
        .where(CustomerIdentity.customer_id == other.id)
        .values(customer_id=keep.id)
    )
    db.session.execute(
        update(Ticket).where(Ticket.customer_id == other.id).values(customer_id=keep.id)
    )
    other.merged_into_id = keep.id
    keep.name = keep.name or other.name
    keep.language = keep.language or other.language
    db.session.expire(keep, ["identities"])
    record_event(
        "customer.merged", customer=keep, user=user, actor=actor, merged_customer_id=other.id
    )
    log.debug("merged customer %s into %s", other.id, keep.id)


def _surviving(customer: Customer) -> Customer:
    while customer.merged_into_id is not None:
        customer = db.session.get(Customer, customer.merged_into_id)
    return customer
