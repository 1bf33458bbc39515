"""Builders for test data: inbound messages as adapters would produce them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from channel_adapters.base import SENDER_IDENTITY_KIND, Identity, InboundMessage

_ids = itertools.count(1)


def inbound(
    channel: str = "email",
    sender: str = "kunde@example.com",
    text: str = "Hallo, wo bleibt meine Bestellung 100234?",
    **fields,
) -> InboundMessage:
    """An `InboundMessage` with a fresh external id unless one is given."""
    fields.setdefault("external_id", f"<test-{next(_ids)}@example.com>")
    fields.setdefault("sent_at", datetime.now(UTC) - timedelta(minutes=1))
    display_name = fields.pop("display_name", None)
    return InboundMessage(
        channel=channel,
        sender=Identity(SENDER_IDENTITY_KIND[channel], sender, display_name),
        text=text,
        **fields,
    )


def shop(key: str = "demo-shop", name: str = "Demo Shop", **fields):
    """A shop, committed."""
    from helpdesk.extensions import db
    from helpdesk.models import Shop

    existing = db.session.scalar(db.select(Shop).where(Shop.key == key))
    if existing is not None:
        return existing
    created = Shop(key=key, name=name, **fields)
    db.session.add(created)
    db.session.commit()
    return created


def order(
    number: str = "100457",
    email: str = "helga.brandt@example.de",
    *,
    name: str = "Helga Brandt",
    language: str = "de",
    items=(
        ("SHOE-BLK-40", "Sneaker Lauf, schwarz", "40", 8995, 1),
        ("SHIRT-WHT-M", "T-Shirt Basic, weiß", "M", 1995, 2),
    ),  # fmt: skip
    invoice_due_cents: int | None = None,
    reminder_level: int = 0,
    stock: dict | None = None,
    **fields,
):
    """An order of a customer known by `email`, with items `(sku, name, size, cents, qty)`,
    an open invoice over the whole amount (or `invoice_due_cents`), and stock rows
    `{sku: (product, size, quantity)}`. Committed."""
    from datetime import date

    from helpdesk.extensions import db
    from helpdesk.models import Invoice, Order, OrderItem, Stock
    from helpdesk.services.customers import resolve_customer

    the_shop = fields.pop("shop", None) or shop()
    customer = resolve_customer([Identity("email", email, name)], actor="tests")
    customer.name = customer.name or name
    customer.language = customer.language or language
    created = Order(shop=the_shop, number=number, email=email, name=name, language=language,
                    customer=customer, currency="EUR", **fields)  # fmt: skip
    for sku, item_name, size, cents, quantity in items:
        created.items.append(
            OrderItem(sku=sku, name=item_name, size=size, price_cents=cents, quantity=quantity)
        )
    created.total_cents = sum(i.price_cents * i.quantity for i in created.items)
    due = created.total_cents if invoice_due_cents is None else invoice_due_cents
    created.invoices.append(
        Invoice(
            number=f"RE-{number}",
            currency="EUR",
            amount_cents=created.total_cents,
            amount_due_cents=due,
            due_date=date(2026, 12, 7),
            reminder_level=reminder_level,
            status="open" if due else "paid",
        )  # fmt: skip
    )
    db.session.add(created)
    for sku, (product, size, quantity) in (stock or {}).items():
        db.session.merge(Stock(shop_id=the_shop.id, sku=sku, product=product, size=size,
                               quantity=quantity))  # fmt: skip
    db.session.commit()
    return created


class Classified:
    """A stand-in classifier that says `intents` and finds `order_numbers` in any text."""

    def __init__(self, *intents: str, order_numbers=(), language: str = "de") -> None:
        self.intents = intents
        self.order_numbers = tuple(order_numbers)
        self.language = language

    def classify(self, text: str, *, subject: str = ""):
        from classifiers.base import Classification, Entity

        entities = tuple(
            Entity("order_number", number, i * 10, i * 10 + len(number))
            for i, number in enumerate(self.order_numbers)
        )
        scores = dict.fromkeys(self.intents, 0.9)
        return Classification(self.intents, scores, self.language, entities, "test")
