"""What the shop knows: orders and their items, shipments, invoices, returns and stock.

Money is stored in cents (integers): exact on SQLite and PostgreSQL alike, and
no float ever decides whether an invoice is paid. Orders come from the shop
(import, API, Shopify webhooks); returns are also registered here, by the
customer in the portal or by an agent, and move through one state machine
(`helpdesk.services.returns`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.customers import Customer
from helpdesk.models.types import JSONType, UTCDateTime, one_of, utcnow

#: The return's life: requested -> label_created -> in_transit -> received -> refunded,
#: exchanged or rejected. Which step may follow which lives in services/returns.py.
RETURN_STATUSES: tuple[str, ...] = (
    "requested",
    "label_created",
    "in_transit",
    "received",
    "refunded",
    "exchanged",
    "rejected",
)
RETURN_REASONS: tuple[str, ...] = (
    "too_small",
    "too_big",
    "changed_mind",
    "style",
    "not_as_described",
    "defective",
    "other",
)
RESOLUTIONS: tuple[str, ...] = ("refund", "exchange")
INVOICE_STATUSES: tuple[str, ...] = ("open", "paid", "cancelled")
SHIPMENT_KINDS: tuple[str, ...] = ("order", "exchange")
SHIPMENT_STATUSES: tuple[str, ...] = (
    "label_created",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "exception",
)


class Shop(db.Model):
    """One shop (brand, storefront); orders and notification settings belong to it."""

    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)  # e.g. a Shopify shop domain
    name: Mapped[str] = mapped_column(String(200))
    # Tell customers proactively as their return moves (on its way, arrived, money back).
    return_notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "number"),
        UniqueConstraint("shop_id", "external_id"),
        Index("ix_orders_customer_placed", "customer_id", "placed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    number: Mapped[str] = mapped_column(String(40), index=True)  # what the customer quotes
    external_id: Mapped[str | None] = mapped_column(String(64))  # the shop system's id
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    # open, cancelled; payment and fulfilment as the shop reports them (paid, partially_...)
    status: Mapped[str] = mapped_column(String(20), default="open")
    financial_status: Mapped[str | None] = mapped_column(String(30))
    fulfillment_status: Mapped[str | None] = mapped_column(String(30))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    shop: Mapped[Shop] = relationship()
    customer: Mapped[Customer | None] = relationship()
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    shipments: Mapped[list[Shipment]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Shipment.id"
    )
    invoices: Mapped[list[Invoice]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Invoice.id"
    )
    returns: Mapped[list[Return]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Return.id"
    )


class OrderItem(db.Model):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(300))
    size: Mapped[str | None] = mapped_column(String(20))
    colour: Mapped[str | None] = mapped_column(String(60))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    price_cents: Mapped[int] = mapped_column(Integer, default=0)  # per piece

    order: Mapped[Order] = relationship(back_populates="items")


class Shipment(db.Model):
    __tablename__ = "shipments"
    __table_args__ = (
        CheckConstraint(one_of("kind", SHIPMENT_KINDS), name="kind"),
        CheckConstraint(one_of("status", SHIPMENT_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10), default="order")
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(64), index=True)
    tracking_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="in_transit")
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="shipments")


class Invoice(db.Model):
    """What the customer owes for an order, and whether reminders may go out.

    A dunning hold (`hold_since` set) tells the payment provider to pause
    reminders, for `hold_cents` of the amount, while a return is on its way.
    """

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("number"),
        CheckConstraint(one_of("status", INVOICE_STATUSES), name="status"),
        CheckConstraint("reminder_level >= 0", name="reminder_level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    amount_cents: Mapped[int] = mapped_column(Integer, default=0)
    amount_due_cents: Mapped[int] = mapped_column(Integer, default=0)
    due_date: Mapped[date | None] = mapped_column(Date)
    reminder_level: Mapped[int] = mapped_column(Integer, default=0)
    last_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="open")
    hold_cents: Mapped[int | None] = mapped_column(Integer)
    hold_reason: Mapped[str | None] = mapped_column(String(300))
    hold_source: Mapped[str | None] = mapped_column(String(10))  # "return" or "agent"
    hold_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="invoices")

    @property
    def on_hold(self) -> bool:
        return self.hold_since is not None


class Return(db.Model):
    __tablename__ = "returns"
    __table_args__ = (
        CheckConstraint(one_of("status", RETURN_STATUSES), name="status"),
        CheckConstraint(one_of("resolution", RESOLUTIONS), name="resolution"),
        UniqueConstraint("external_id"),
        Index("ix_returns_status_changed", "status", "status_changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64))  # e.g. Shopify's return id
    status: Mapped[str] = mapped_column(String(20), default="requested")
    resolution: Mapped[str] = mapped_column(String(10), default="refund")
    source: Mapped[str] = mapped_column(String(20), default="agent")  # portal, agent, api, shop
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(64), index=True)
    label_url: Mapped[str | None] = mapped_column(String(500))
    refund_cents: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)  # e.g. why it was rejected
    # The conversation about this return; notifications are written there.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Each transition: {"status", "at", "actor"}; the events hold the same, this is for display.
    history: Mapped[list] = mapped_column(JSONType, default=list)

    order: Mapped[Order] = relationship(back_populates="returns")
    items: Mapped[list[ReturnItem]] = relationship(
        back_populates="return_", cascade="all, delete-orphan", order_by="ReturnItem.id"
    )

    @property
    def number(self) -> str:
        """What the customer and agents quote, e.g. "R-1042"."""
        return f"R-{self.id}"

    @property
    def value_cents(self) -> int:
        """What the returned pieces cost the customer."""
        return sum(item.quantity * item.order_item.price_cents for item in self.items)


class ReturnItem(db.Model):
    __tablename__ = "return_items"
    __table_args__ = (
        CheckConstraint(one_of("reason", RETURN_REASONS), name="reason"),
        CheckConstraint("quantity > 0", name="quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    reason: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(String(500))
    exchange_sku: Mapped[str | None] = mapped_column(String(80))

    return_: Mapped[Return] = relationship(back_populates="items")
    order_item: Mapped[OrderItem] = relationship()


class Stock(db.Model):
    """Pieces in stock per SKU; exchanges offer only sizes with stock."""

    __tablename__ = "stock"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), primary_key=True)
    sku: Mapped[str] = mapped_column(String(80), primary_key=True)
    # The product the SKU is a variant of, so an exchange can offer its other sizes.
    product: Mapped[str | None] = mapped_column(String(300), index=True)
    size: Mapped[str | None] = mapped_column(String(20))
    colour: Mapped[str | None] = mapped_column(String(60))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
