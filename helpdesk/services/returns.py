"""Returns: registering one and moving it through its one state machine.

    requested -> label_created -> in_transit -> received -> refunded | exchanged | rejected

A return may skip the label (the customer used their own) or the transit scan
(handed in at the store), but never goes back and never leaves a final state.
Every step is an event on the trail, an outbound webhook, a change of the
dunning hold where money is concerned, and, at the moments customers worry
about, a notification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import (
    RESOLUTIONS,
    RETURN_REASONS,
    Order,
    OrderItem,
    Return,
    ReturnItem,
    Stock,
    Ticket,
    User,
)
from helpdesk.models.types import utcnow
from helpdesk.services import dunning, notifications, webhooks_out
from helpdesk.services.events import record_event

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "requested": ("label_created", "in_transit", "received", "rejected"),
    "label_created": ("in_transit", "received", "rejected"),
    "in_transit": ("received",),
    "received": ("refunded", "exchanged", "rejected"),
    "refunded": (),
    "exchanged": (),
    "rejected": (),
}
#: The return is over: nothing is on its way and no money is pending.
FINAL_STATUSES: tuple[str, ...] = ("refunded", "exchanged", "rejected")


class IllegalTransition(InvalidInput):
    """A step the state machine does not allow; the message says which steps it would."""


@dataclass(frozen=True)
class ReturnLine:
    """One item the customer sends back: how many, why, and for an exchange what instead."""

    order_item: OrderItem
    quantity: int
    reason: str
    exchange_sku: str | None = None
    comment: str | None = None


def returnable_quantity(item: OrderItem) -> int:
    """Pieces of `item` not yet in a return that is still open or was accepted."""
    returned = db.session.scalar(
        select(db.func.coalesce(db.func.sum(ReturnItem.quantity), 0))
        .join(Return)
        .where(ReturnItem.order_item_id == item.id, Return.status != "rejected")
    )
    return item.quantity - int(returned or 0)


def exchange_options(item: OrderItem) -> list[Stock]:
    """Other variants (sizes, colours) of the item's product that are in stock."""
    own = db.session.get(Stock, (item.order.shop_id, item.sku))
    if own is None or not own.product:
        return []
    return list(
        db.session.scalars(
            select(Stock)
            .where(
                Stock.shop_id == item.order.shop_id,
                Stock.product == own.product,
                Stock.sku != item.sku,
                Stock.quantity > 0,
            )
            .order_by(Stock.sku)
        )
    )


def register_return(
    order: Order,
    lines: Sequence[ReturnLine],
    *,
    resolution: str = "refund",
    source: str = "agent",
    user: User | None = None,
    actor: str | None = None,
    ticket: Ticket | None = None,
    external_id: str | None = None,
    now: datetime | None = None,
) -> Return:
    """Register a return of `lines` from `order`: it starts as "requested", pauses dunning
    for the returned amount and confirms to the customer. Raises `InvalidInput` with a
    message for the person who asked when a line does not fit the order."""
    now = now or utcnow()
    if resolution not in RESOLUTIONS:
        raise InvalidInput(f"resolution must be one of {', '.join(RESOLUTIONS)}")
    if not lines:
        raise InvalidInput("choose at least one item to return")
    _check_lines(order, lines, resolution)
    actor = actor or (f"user:{user.id}" if user else source)
    return_ = Return(
        order=order,
        status="requested",
        resolution=resolution,
        source=source,
        external_id=external_id,
        requested_at=now,
        status_changed_at=now,
        ticket_id=ticket.id if ticket else None,
        history=[{"status": "requested", "at": now.isoformat(), "actor": actor}],
    )
    db.session.add(return_)
    for line in lines:
        return_.items.append(
            ReturnItem(
                order_item=line.order_item,
                quantity=line.quantity,
                reason=line.reason,
                exchange_sku=line.exchange_sku if resolution == "exchange" else None,
                comment=line.comment,
            )
        )
        if resolution == "exchange":  # the replacement is set aside now, not when it ships
            stock = db.session.get(Stock, (order.shop_id, line.exchange_sku))
            stock.quantity -= line.quantity
    db.session.flush()
    record_event(
        "return.requested",
        customer=order.customer,
        ticket=ticket,
        user=user,
        actor=actor,
        **_summary(return_),
    )
    webhooks_out.emit("return.requested", _summary(return_), now=now)
    dunning.sync_hold(order, actor=actor, user=user, now=now)
    notifications.notify_return(return_, now=now)
    return return_


def _check_lines(order: Order, lines: Sequence[ReturnLine], resolution: str) -> None:
    for line in lines:
        item = line.order_item
        if item.order_id != order.id:
            raise InvalidInput(f"{item.name} is not part of order {order.number}")
        if line.reason not in RETURN_REASONS:
            raise InvalidInput(f"reason must be one of {', '.join(RETURN_REASONS)}")
        left = returnable_quantity(item)
        if not 0 < line.quantity <= left:
            raise InvalidInput(f"{item.name}: {left} of {item.quantity} can still be returned")
        if resolution == "exchange":
            offered = {stock.sku: stock for stock in exchange_options(item)}
            stock = offered.get(line.exchange_sku or "")
            if stock is None or stock.quantity < line.quantity:
                raise InvalidInput(f"{item.name}: choose a size or colour that is in stock")


def transition(
    return_: Return,
    to: str,
    *,
    user: User | None = None,
    actor: str | None = None,
    carrier: str | None = None,
    tracking_number: str | None = None,
    label_url: str | None = None,
    refund_cents: int | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Move `return_` to `to`. Returns False when it is there already (a carrier's repeated
    scan); raises `IllegalTransition` when the step is not allowed."""
    now = now or utcnow()
    if to == return_.status:
        return False
    if to not in TRANSITIONS:
        raise IllegalTransition(f"{to!r} is not a return status")
    allowed = TRANSITIONS[return_.status]
    if to not in allowed:
        next_steps = ", ".join(allowed) if allowed else "nothing: it is closed"
        raise IllegalTransition(
            f"return {return_.number} is {return_.status}; it can go to {next_steps}, not {to}"
        )
    if to == "exchanged" and return_.resolution != "exchange":
        raise IllegalTransition(f"return {return_.number} asks for a refund, not an exchange")
    actor = actor or (f"user:{user.id}" if user else "system")
    return_.carrier = carrier or return_.carrier
    return_.tracking_number = tracking_number or return_.tracking_number
    return_.label_url = label_url or return_.label_url
    if to == "refunded":
        return_.refund_cents = refund_cents if refund_cents is not None else return_.value_cents
    if note:
        return_.note = note
    return_.status = to
    return_.status_changed_at = now
    return_.history = [*return_.history, {"status": to, "at": now.isoformat(), "actor": actor}]
    order = return_.order
    record_event(
        f"return.{to}",
        customer=order.customer,
        ticket=db.session.get(Ticket, return_.ticket_id) if return_.ticket_id else None,
        user=user,
        actor=actor,
        **_summary(return_),
    )
    webhooks_out.emit(f"return.{to}", _summary(return_), now=now)
    if to == "refunded":
        dunning.settle_refund(return_, actor=actor, user=user, now=now)
    if to == "rejected" and return_.resolution == "exchange":
        _release_exchange_stock(return_)
    if to in FINAL_STATUSES or to == "received":
        dunning.sync_hold(order, actor=actor, user=user, now=now)
    notifications.notify_return(return_, now=now)
    return True


def _release_exchange_stock(return_: Return) -> None:
    for item in return_.items:
        if item.exchange_sku:
            stock = db.session.get(Stock, (return_.order.shop_id, item.exchange_sku))
            if stock is not None:
                stock.quantity += item.quantity


def _summary(return_: Return) -> dict:
    order = return_.order
    return {
        "return": return_.number,
        "external_id": return_.external_id,
        "order": order.number,
        "status": return_.status,
        "resolution": return_.resolution,
        "value_cents": return_.value_cents,
        "refund_cents": return_.refund_cents,
        "currency": order.currency,
        "tracking_number": return_.tracking_number,
        "items": [
            {
                "sku": item.order_item.sku,
                "name": item.order_item.name,
                "quantity": item.quantity,
                "reason": item.reason,
                "exchange_sku": item.exchange_sku,
            }
            for item in return_.items
        ],
    }


def open_returns(order: Order) -> list[Return]:
    """Returns of `order` that are not over yet."""
    return [r for r in order.returns if r.status not in FINAL_STATUSES]
