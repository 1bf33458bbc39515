"""Telling customers where their return is, before they have to ask.

At registration (a confirmation) and at the three moments customers worry about
(the parcel is on its way, it arrived in the warehouse, the money is back or the
exchange has shipped) the customer gets a short message in their language, on
the channel they prefer, else the one they last wrote on. It is written on the
return's ticket (a new, solved one if there is none yet), so it shows on the
customer's timeline, an answer to it reopens the conversation, and it leaves
through the outbox like every reply. A shop can switch this off.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Customer, Message, Return, Ticket
from helpdesk.models.types import utcnow
from helpdesk.services.delivery import OUTBOUND_CHANNELS
from helpdesk.services.events import record_event
from helpdesk.services.replies import add_reply
from helpdesk.services.templating import render_text

#: The status a return reaches -> the template that tells the customer.
MOMENTS: dict[str, str] = {
    "requested": "return_registered",
    "in_transit": "return_on_its_way",
    "received": "return_arrived",
    "refunded": "return_refunded",
    "exchanged": "return_exchanged",
}
DEFAULT_LANGUAGE = "de"


def notify_return(return_: Return, *, now: datetime | None = None) -> Message | None:
    """Write and queue the notification for the status `return_` just reached, if any."""
    moment = MOMENTS.get(return_.status)
    order = return_.order
    customer = order.customer
    if moment is None or customer is None or not order.shop.return_notifications:
        return None
    now = now or utcnow()
    channel = notification_channel(customer)
    if channel is None:
        record_event("customer.not_notified", customer=customer, actor="system",
                     moment=moment, reason="no channel we can send on")  # fmt: skip
        return None
    language = order.language or customer.language or DEFAULT_LANGUAGE
    ticket = _ticket_for(return_, customer, channel, language, now)
    text = render_text(
        f"notifications/{moment}",
        language,
        customer=customer,
        order=order,
        shop=order.shop,
        items=return_.items,
        tracking_number=return_.tracking_number,
        label_url=return_.label_url,
        refund_cents=return_.refund_cents,
        exchange_shipment=next((s for s in reversed(order.shipments) if s.kind == "exchange"),
                               None),
        **{"return": return_},
    )  # fmt: skip
    message = add_reply(ticket, None, text, channel=channel, author_kind="system", at=now)
    message.details = {"automatic": "return_notification", "moment": moment}
    record_event(
        "customer.notified",
        customer=customer,
        ticket=ticket,
        message=message,
        actor="system",
        moment=moment,
        channel=channel,
        **{"return": return_.number},
    )
    return message


def notification_channel(customer: Customer) -> str | None:
    """The customer's preferred channel, else the one they last wrote on, as long as we
    can send there; else e-mail if we know their address."""
    candidates = [customer.preferred_channel, _last_used_channel(customer), "email"]
    for channel in candidates:
        if channel in OUTBOUND_CHANNELS and _reachable(customer, channel):
            return channel
    return None


def _last_used_channel(customer: Customer) -> str | None:
    return db.session.scalar(
        select(Message.channel)
        .join(Ticket)
        .where(Ticket.customer_id == customer.id, Message.direction == "inbound")
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(1)
    )


def _reachable(customer: Customer, channel: str) -> bool:
    if channel == "email":
        return customer.identity("email") is not None
    return _last_used_channel(customer) == channel or customer.preferred_channel == channel


def _ticket_for(
    return_: Return, customer: Customer, channel: str, language: str, now: datetime
) -> Ticket:
    ticket = db.session.get(Ticket, return_.ticket_id) if return_.ticket_id else None
    if ticket is not None and ticket.customer_id == customer.id:
        return ticket
    subject = (
        f"Ihre Retoure {return_.number} zur Bestellung {return_.order.number}"
        if language == "de"
        else f"Your return {return_.number} for order {return_.order.number}"
    )
    ticket = Ticket(
        subject=subject,
        channel=channel,
        customer=customer,
        status="solved",
        solved_at=now,
        language=language,
        created_at=now,
        last_activity_at=now,
        order_id=return_.order_id,
        order_link="return",
    )
    db.session.add(ticket)
    db.session.flush()
    return_.ticket_id = ticket.id
    record_event("ticket.created", ticket=ticket, customer=customer, actor="system",
                 reason="return notification", **{"return": return_.number})  # fmt: skip
    return ticket
