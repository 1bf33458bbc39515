"""The demo shop, loaded through the real services: stock, orders, invoices, returns, holds.

Returns are registered and moved with `services.returns` at the times in
`orders.py`, so each has its events, dunning hold and customer notifications as
if it had happened then. Those notifications are history: their outbox rows are
dropped, as the conversations' replies are stored without one. An order number
that exists already is skipped, so loading twice adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from channel_adapters.base import Identity
from helpdesk.demo.conversations import PERSONAS
from helpdesk.demo.orders import (
    ORDER_EMAILS,
    ORDERS,
    PRODUCTS,
    SHOP_KEY,
    SHOP_NAME,
    SHOPPERS,
    Back,
    OrderSpec,
    ReturnSpec,
    everyday_orders,
)
from helpdesk.extensions import db
from helpdesk.models import (
    Customer,
    Invoice,
    Order,
    OrderItem,
    OutboxItem,
    Shipment,
    Shop,
    Stock,
    User,
)
from helpdesk.services import dunning
from helpdesk.services.customers import resolve_customer
from helpdesk.services.returns import ReturnLine, register_return, transition

TRACKING_URLS = {
    "DHL": "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={}",
    "DPD": "https://tracking.dpd.de/status/de_DE/parcel/{}",
    "Hermes": "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation/#{}",
    "GLS": "https://gls-group.com/DE/de/paketverfolgung?match={}",
    "UPS": "https://www.ups.com/track?tracknum={}",
}
AGENT = "agent@example.com"


@dataclass(frozen=True)
class ShopSummary:
    orders: int
    returns: int

    def __str__(self) -> str:
        return f"shop {SHOP_NAME}: {self.orders} orders, {self.returns} returns"


def load_demo_shop(users: dict[str, User], now: datetime) -> ShopSummary:
    """Create the shop, its stock and every demo order not there yet. The caller commits."""
    shop = _ensure_shop()
    last_outbox_id = db.session.scalar(select(func.max(OutboxItem.id))) or 0
    present = set(db.session.scalars(select(Order.number).where(Order.shop_id == shop.id)))
    orders = returns = 0
    for spec in (*ORDERS, *everyday_orders()):
        if spec.number in present:
            continue
        order = _place(shop, spec, now)
        for return_spec in spec.returns:
            _return(order, return_spec, users, now)
            returns += 1
        if spec.hold:
            at = now - timedelta(days=spec.hold.at)
            dunning.hold_by_agent(order.invoices[0], users[spec.hold.by], spec.hold.reason, now=at)
        orders += 1
    _drop_queued_notifications(after_id=last_outbox_id)
    return ShopSummary(orders, returns)


def _ensure_shop() -> Shop:
    shop = db.session.scalar(select(Shop).where(Shop.key == SHOP_KEY))
    if shop is None:
        shop = Shop(key=SHOP_KEY, name=SHOP_NAME, currency="EUR", return_notifications=True)
        db.session.add(shop)
        db.session.flush()
    for product in PRODUCTS.values():
        for size, pieces in product.stock.items():
            if db.session.get(Stock, (shop.id, product.sku(size))) is None:
                db.session.add(
                    Stock(
                        shop_id=shop.id,
                        sku=product.sku(size),
                        product=product.name,
                        size=size or None,
                        colour=product.colour,
                        quantity=pieces,
                    )
                )
    db.session.flush()
    return shop


def _customer(key: str) -> tuple[Customer, str]:
    """The customer behind a persona or shopper, known by the e-mail address the order
    was placed with (and the phone number given at checkout); and that address."""
    persona = next((p for p in PERSONAS if p.key == key), None)
    if persona is not None:
        name, language, phone = persona.name, persona.language, persona.phone
        email = persona.email or ORDER_EMAILS[key]
    else:
        shopper = SHOPPERS[key]
        name, language, phone, email = shopper.name, shopper.language, shopper.phone, shopper.email
    identities = [Identity("email", email, name)]
    if phone:
        identities.append(Identity("phone", phone, name))
    customer = resolve_customer(identities, actor="demo")
    customer.language = customer.language or language
    return customer, email


def _place(shop: Shop, spec: OrderSpec, now: datetime) -> Order:
    customer, email = _customer(spec.customer)
    placed = now - timedelta(days=spec.placed)
    order = Order(
        shop=shop,
        number=spec.number,
        external_id=f"demo-{spec.number}",
        customer=customer,
        email=email,
        name=customer.name,
        postcode=spec.postcode,
        language=customer.language,
        currency=spec.currency,
        placed_at=placed,
        updated_at=placed,
        status="cancelled" if spec.cancelled else "open",
    )
    for number, line in enumerate(spec.lines, 1):
        product = PRODUCTS[line.product]
        price = product.price_cents if line.price_cents is None else line.price_cents
        order.items.append(
            OrderItem(
                external_id=f"demo-{spec.number}-{number}",
                sku=product.sku(line.size),
                name=product.name,
                size=line.size or None,
                colour=product.colour,
                quantity=line.quantity,
                price_cents=price,
            )
        )
    order.total_cents = sum(item.price_cents * item.quantity for item in order.items)
    for ship in spec.shipments:
        url = TRACKING_URLS.get(ship.carrier)
        order.shipments.append(
            Shipment(
                kind=ship.kind,
                carrier=ship.carrier,
                tracking_number=ship.tracking,
                tracking_url=url.format(ship.tracking) if url else None,
                status="in_transit" if ship.delivered is None else "delivered",
                shipped_at=_ago(now, ship.shipped),
                delivered_at=_ago(now, ship.delivered),
            )
        )
    if any(s.kind == "order" for s in spec.shipments):
        order.fulfillment_status = "fulfilled"
    if spec.bill is not None:
        bill = spec.bill
        order.financial_status = {"paid": "paid", "open": "pending", "cancelled": "voided"}[
            bill.status
        ]
        order.invoices.append(
            Invoice(
                number=f"RE-{spec.number}",
                currency=spec.currency,
                amount_cents=order.total_cents,
                amount_due_cents=order.total_cents if bill.status == "open" else 0,
                due_date=(placed + timedelta(days=bill.due_after)).date(),
                reminder_level=bill.reminder_level,
                last_reminder_at=_ago(now, bill.reminded),
                status=bill.status,
            )
        )
    db.session.add(order)
    db.session.flush()
    return order


def _return(order: Order, spec: ReturnSpec, users: dict[str, User], now: datetime) -> None:
    """Register the return and move it step by step, each at its own time, by whoever
    would have: the agent or the portal first, the carrier's scan, then the warehouse."""
    agent = users[AGENT] if spec.source == "agent" else None
    first_actor = {"portal": "portal", "shop": "warehouse"}.get(spec.source)
    lines = [
        ReturnLine(
            _item(order, back), back.quantity, back.reason, _exchange_sku(back), back.comment
        )
        for back in spec.items
    ]
    return_ = register_return(
        order,
        lines,
        resolution=spec.resolution,
        source=spec.source,
        user=agent,
        actor=first_actor,
        now=now - timedelta(days=spec.requested),
    )
    for step in spec.steps:
        by_carrier = step.status == "in_transit"
        transition(
            return_,
            step.status,
            user=None if by_carrier else agent,
            actor=_step_actor(step.status, spec.source),
            carrier=step.carrier,
            tracking_number=step.tracking,
            note=step.note,
            now=now - timedelta(days=step.at),
        )


def _step_actor(status: str, source: str) -> str | None:
    """Who moved a return to `status`; None: the agent who registered it."""
    if status == "in_transit":
        return "carrier"
    if source == "agent":
        return None
    return "portal" if status == "label_created" and source == "portal" else "warehouse"


def _ago(now: datetime, days: float | None) -> datetime | None:
    return None if days is None else now - timedelta(days=days)


def _item(order: Order, back: Back) -> OrderItem:
    sku = PRODUCTS[back.product].sku(back.size)
    return next(item for item in order.items if item.sku == sku)


def _exchange_sku(back: Back) -> str | None:
    if back.exchange_to is None:
        return None
    product, _, size = back.exchange_to.rpartition(":")
    return PRODUCTS[product or back.product].sku(size)


def _drop_queued_notifications(*, after_id: int) -> None:
    """The demo's return notifications went out long ago: nothing left to send."""
    db.session.flush()
    queued = db.session.scalars(
        select(OutboxItem).where(
            OutboxItem.id > after_id,
            OutboxItem.kind == "send_message",
            OutboxItem.status == "pending",
        )
    )
    for item in queued:
        if item.message is not None and item.message.details.get("automatic") == (
            "return_notification"
        ):
            db.session.delete(item)
    db.session.flush()
