"""A customer's data on request (GDPR Art. 15 and 20) and its erasure (Art. 17).

The export is everything we hold about the person: their identities, every ticket
with its messages and attachments' names, their orders with items, shipments,
invoices and returns, and the trail of what happened. Erasure deletes the
customer (and customers merged into them), their tickets with messages,
attachments, raw mail and events. Orders stay, because the shop must keep
accounting records for years, but lose the link to the person and the name,
e-mail and postcode we copied from the shop. One event without personal data
says that it happened.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update

from helpdesk.errors import NotFound
from helpdesk.extensions import db
from helpdesk.models import (
    ChatSession,
    Customer,
    CustomerIdentity,
    Event,
    Message,
    Order,
    RawSource,
    Ticket,
)
from helpdesk.services.events import record_event


def find_customer(reference: str) -> Customer:
    """A customer by id or by any identity (e-mail address, phone number, platform id)."""
    customer = None
    if reference.isdigit():
        customer = db.session.get(Customer, int(reference))
    if customer is None:
        identity = db.session.scalar(
            select(CustomerIdentity).where(CustomerIdentity.value == reference.strip().lower())
        ) or db.session.scalar(
            select(CustomerIdentity).where(CustomerIdentity.value == reference.strip())
        )
        customer = identity.customer if identity else None
    if customer is None:
        raise NotFound(f"no customer {reference!r} (give an id, e-mail address or phone number)")
    while customer.merged_into_id is not None:
        customer = db.session.get(Customer, customer.merged_into_id)
    return customer


def _with_merged(customer: Customer) -> list[int]:
    ids, frontier = [customer.id], [customer.id]
    while frontier:
        frontier = list(
            db.session.scalars(select(Customer.id).where(Customer.merged_into_id.in_(frontier)))
        )
        ids.extend(frontier)
    return ids


def _chats(identities) -> list[ChatSession]:
    """The live chat conversations of these identities (the name and e-mail given there)."""
    visitors = [i.value for i in identities if i.kind == "chat_visitor"]
    if not visitors:
        return []
    return list(
        db.session.scalars(
            select(ChatSession).where(ChatSession.visitor.in_(visitors)).order_by(ChatSession.id)
        )
    )


def export_customer(customer: Customer) -> dict[str, Any]:
    ids = _with_merged(customer)
    tickets = db.session.scalars(
        select(Ticket).where(Ticket.customer_id.in_(ids)).order_by(Ticket.id)
    ).all()
    orders = db.session.scalars(
        select(Order).where(Order.customer_id.in_(ids)).order_by(Order.id)
    ).all()
    events = db.session.scalars(
        select(Event).where(Event.customer_id.in_(ids)).order_by(Event.id)
    ).all()
    identities = db.session.scalars(
        select(CustomerIdentity).where(CustomerIdentity.customer_id.in_(ids))
    ).all()
    return {
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "language": customer.language,
            "preferred_channel": customer.preferred_channel,
            "created_at": customer.created_at.isoformat(),
        },  # fmt: skip
        "identities": [
            {"kind": i.kind, "value": i.value, "name": i.display_name} for i in identities
        ],
        "tickets": [
            {
                "number": t.number,
                "subject": t.subject,
                "status": t.status,
                "channel": t.channel,
                "created_at": t.created_at.isoformat(),
                "messages": [
                    {
                        "direction": m.direction,
                        "channel": m.channel,
                        "author": m.author_kind,
                        "sent_at": m.sent_at.isoformat(),
                        "subject": m.subject,
                        "text": m.text,
                        "attachments": [a.filename for a in m.attachments],
                    }
                    for m in t.messages
                    if m.direction != "note"
                ],
            }
            for t in tickets
        ],  # fmt: skip
        "orders": [
            {
                "number": o.number,
                "placed_at": o.placed_at.isoformat(),
                "email": o.email,
                "name": o.name,
                "postcode": o.postcode,
                "total_cents": o.total_cents,
                "currency": o.currency,
                "items": [
                    {
                        "sku": i.sku,
                        "name": i.name,
                        "size": i.size,
                        "quantity": i.quantity,
                        "price_cents": i.price_cents,
                    }
                    for i in o.items
                ],
                "shipments": [
                    {"carrier": s.carrier, "tracking_number": s.tracking_number, "status": s.status}
                    for s in o.shipments
                ],
                "invoices": [
                    {
                        "number": i.number,
                        "amount_cents": i.amount_cents,
                        "amount_due_cents": i.amount_due_cents,
                        "reminder_level": i.reminder_level,
                    }
                    for i in o.invoices
                ],
                "returns": [
                    {"number": r.number, "status": r.status, "history": r.history}
                    for r in o.returns
                ],
            }
            for o in orders
        ],  # fmt: skip
        "chats": [
            {
                "visitor": c.visitor,
                "name": c.name,
                "email": c.email,
                "language": c.language,
                "page": c.page,
                "started_at": c.created_at.isoformat(),
            }
            for c in _chats(identities)
        ],  # fmt: skip
        "events": [{"kind": e.kind, "at": e.created_at.isoformat()} for e in events],
    }


def erase_customer(customer: Customer, *, actor: str) -> dict[str, int]:
    """Delete the customer and everything about them; returns what was removed."""
    ids = _with_merged(customer)
    ticket_ids = list(db.session.scalars(select(Ticket.id).where(Ticket.customer_id.in_(ids))))
    raw_ids = [
        i
        for i in db.session.scalars(
            select(Message.raw_source_id).where(Message.ticket_id.in_(ticket_ids))
        )
        if i is not None
    ]
    # Other customers' tickets may point at these (escalation, follow-up, merge): let go.
    for pointer in (Ticket.escalated_to_id, Ticket.follow_up_of_id, Ticket.merged_into_id):
        db.session.execute(update(Ticket).where(pointer.in_(ticket_ids)).values({pointer: None}))
    messages = db.session.scalar(
        select(db.func.count()).select_from(Message).where(Message.ticket_id.in_(ticket_ids))
    )
    # Live chat keeps the name and e-mail address a visitor gave beside the conversation.
    visitors = select(CustomerIdentity.value).where(
        CustomerIdentity.customer_id.in_(ids), CustomerIdentity.kind == "chat_visitor"
    )
    db.session.execute(
        delete(ChatSession).where(
            or_(ChatSession.ticket_id.in_(ticket_ids), ChatSession.visitor.in_(visitors))
        )
    )
    db.session.execute(delete(Ticket).where(Ticket.id.in_(ticket_ids)))
    db.session.execute(delete(RawSource).where(RawSource.id.in_(raw_ids)))
    orders = db.session.execute(
        update(Order)
        .where(or_(Order.customer_id.in_(ids)))
        .values(customer_id=None, email=None, name=None, postcode=None)
    ).rowcount
    db.session.execute(update(Customer).where(Customer.id.in_(ids)).values(merged_into_id=None))
    db.session.execute(delete(Customer).where(Customer.id.in_(ids)))
    db.session.expire_all()
    removed = {"customers": len(ids), "tickets": len(ticket_ids), "messages": messages or 0,
               "orders_anonymised": orders}  # fmt: skip
    record_event("customer.erased", actor=actor, **removed)
    return removed
