"""Orders from the shop: one normalised order in, one order out, however often it is sent.

Every intake path (`helpdesk import-orders`, `POST /api/v1/orders`, the Shopify
webhooks) hands `sync_order` the same dict:

    number, external_id, email, name, postcode, language, currency, placed_at, status,
    financial_status, fulfillment_status, total,
    items[{external_id, sku, name, size, colour, quantity, price}],
    shipments[{external_id, kind, carrier, tracking_number, tracking_url, status,
               shipped_at, delivered_at}],
    invoices[{number, amount, amount_due, due_date, reminder_level, status}],
    stock[{sku, product, size, colour, quantity}]

A key that is absent leaves the stored value alone; a key that is present sets it.
Re-sending an order updates it in place: items are matched by external id, else SKU;
shipments by external id, else tracking number; invoices by number. Nothing is ever
deleted on re-send, because returns and tickets may point at what the shop forgot.
Money arrives as decimal strings or numbers and is kept in cents, computed with
`Decimal`: a float never decides whether an invoice is paid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from channel_adapters.base import Identity, normalise_identity
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import Invoice, Order, OrderItem, Shipment, Shop, Stock, User
from helpdesk.models.commerce import INVOICE_STATUSES, SHIPMENT_KINDS, SHIPMENT_STATUSES
from helpdesk.models.types import utcnow
from helpdesk.services import dunning
from helpdesk.services.customers import resolve_customer
from helpdesk.services.events import record_event

ORDER_STATUSES: tuple[str, ...] = ("open", "cancelled")
DEFAULT_SHOP_KEY = "default"
#: PostgreSQL's INTEGER; larger sums would fail in the database instead of here.
_MAX_INT = 2**31 - 1
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d{1,2}$")  # "19,95" from German spreadsheets
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
T = TypeVar("T", OrderItem, Shipment)


class InvalidOrder(InvalidInput):
    """Order data we cannot use; `field` names where, e.g. "items[1].price"."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass
class OrderSync:
    """What one `sync_order` did: the order, whether it is new, and which fields changed."""

    order: Order
    created: bool
    changes: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return "created" if self.created else "updated" if self.changes else "unchanged"


# --- shops ------------------------------------------------------------------------------


def shop_by_key(key: str, name: str | None = None) -> Shop:
    """The shop with `key`, created when missing (e.g. a Shopify domain seen first)."""
    key = key.strip()
    if not key or len(key) > 60:
        raise InvalidInput("a shop key needs 1 to 60 characters")
    shop = db.session.scalar(select(Shop).where(Shop.key == key))
    if shop is not None:
        return shop
    try:
        with db.session.begin_nested():  # another request may create the same shop now
            shop = Shop(key=key, name=name or key)
            db.session.add(shop)
    except IntegrityError:
        shop = db.session.scalar(select(Shop).where(Shop.key == key))
    return shop


def default_shop() -> Shop:
    """The shop for intake that names none (`import-orders` without --shop, the API)."""
    return shop_by_key(DEFAULT_SHOP_KEY, "Default shop")


# --- the one entry point --------------------------------------------------------------


def upsert_order(
    shop: Shop, data: Mapping[str, Any], *, actor: str = "system", user: User | None = None
) -> tuple[Order, bool]:
    """Create or update the order `data` describes; True when it is new. See `sync_order`."""
    result = sync_order(shop, data, actor=actor, user=user)
    return result.order, result.created


def sync_order(
    shop: Shop, data: Mapping[str, Any], *, actor: str = "system", user: User | None = None
) -> OrderSync:
    """Create or update one order of `shop` from a normalised dict, in the session.

    Raises `InvalidOrder` naming the field before anything is changed. Sending the same
    data again changes nothing and records no event. When an invoice changes, the
    dunning hold is brought in line with it (a settled invoice releases its hold).
    """
    if not isinstance(data, Mapping):
        raise InvalidOrder("order", "must be an object with the order's fields")
    fields = _parse_order(data)
    order = _find_order(shop, fields)
    _check_invoice_numbers(order, fields.get("invoices", []))
    created = order is None
    if order is None:
        if not fields.get("number"):
            raise InvalidOrder("number", "is required for a new order")
        order = Order(shop=shop, number=fields["number"], currency=shop.currency)
        db.session.add(order)
    changes: list[str] = []
    for name in ("number", "external_id", "name", "postcode", "language", "currency", "status",
                 "financial_status", "fulfillment_status", "placed_at"):  # fmt: skip
        if name in fields and _assign(order, name, fields[name]):
            changes.append(name)
    if created and order.placed_at is None:
        order.placed_at = utcnow()
    if "email" in fields:
        changes += _link_customer(order, fields["email"], actor=actor)
    items_changed = _merge_items(order, fields.get("items", []), changes)
    total = fields.get("total")
    if total is None and (created or items_changed):
        total = sum(item.price_cents * item.quantity for item in order.items)
    if total is not None and _assign(order, "total_cents", total):
        changes.append("total")
    _merge_shipments(order, fields.get("shipments", []), changes)
    invoices_changed = _merge_invoices(order, fields.get("invoices", []), changes)
    changes += _merge_stock(shop, fields.get("stock", []))
    if created:
        changes = []
    db.session.flush()
    _record(order, created, changes, actor=actor, user=user)
    if invoices_changed:
        dunning.sync_hold(order, actor=actor, user=user)
    return OrderSync(order, created, changes)


def _record(order: Order, created: bool, changes: list[str], *, actor: str, user: User | None):
    if created:
        record_event(
            "order.created",
            customer=order.customer,
            user=user,
            actor=actor,
            order=order.number,
            shop=order.shop.key,
            items=len(order.items),
            total_cents=order.total_cents,
            currency=order.currency,
        )
    elif changes:
        record_event(
            "order.updated",
            customer=order.customer,
            user=user,
            actor=actor,
            order=order.number,
            shop=order.shop.key,
            changes=changes[:50],
        )


def _assign(target: Any, name: str, value: Any) -> bool:
    if getattr(target, name) == value:
        return False
    setattr(target, name, value)
    return True


def _find_order(shop: Shop, fields: Mapping[str, Any]) -> Order | None:
    number, external_id = fields.get("number"), fields.get("external_id")
    if not number and not external_id:
        raise InvalidOrder("number", "is required (or external_id for an order we know)")

    def lookup(column, value) -> Order | None:
        return db.session.scalar(select(Order).where(Order.shop_id == shop.id, column == value))

    by_external = lookup(Order.external_id, external_id) if external_id else None
    by_number = lookup(Order.number, number) if number else None
    if by_external and by_number and by_external.id != by_number.id:
        raise InvalidOrder(
            "number", f"{number} is another order than the one with external_id {external_id}"
        )
    order = by_external or by_number
    if order and external_id and order.external_id not in (None, external_id):
        raise InvalidOrder(
            "external_id",
            f"order {order.number} has external_id {order.external_id}, not {external_id}",
        )
    return order


def _check_invoice_numbers(order: Order | None, invoices: Sequence[dict]) -> None:
    numbers = [row["number"] for row in invoices]
    if not numbers:
        return
    owners = db.session.execute(
        select(Invoice.number, Order.number)
        .join(Order, Invoice.order_id == Order.id)
        .where(Invoice.number.in_(numbers), Invoice.order_id != (order.id if order else -1))
    ).all()
    for invoice_number, order_number in owners:
        index = numbers.index(invoice_number)
        raise InvalidOrder(
            f"invoices[{index}].number", f"{invoice_number} belongs to order {order_number}"
        )


def _link_customer(order: Order, email: str | None, *, actor: str) -> list[str]:
    """Find (or create) the customer by the order's e-mail address."""
    if email is None:
        changed = order.email is not None or order.customer_id is not None
        order.email, order.customer = None, None
        return ["email"] if changed else []
    if order.email == email and order.customer_id is not None:
        return []
    changed = order.email != email
    order.email = email
    customer = resolve_customer([Identity("email", email, order.name)], actor=actor)
    customer.language = customer.language or order.language
    order.customer = customer
    return ["email"] if changed else []


def _take(pool: list[T], external_id: str | None, attr: str, value: Any) -> T | None:
    """Remove and return the row of `pool` with `external_id`, else the first with the same
    `attr` value, but only where one side has no external id: two ids are two rows."""
    for index, row in enumerate(pool):
        if external_id and row.external_id == external_id:
            return pool.pop(index)
    if value is None:
        return None
    for index, row in enumerate(pool):
        if getattr(row, attr) == value and None in (row.external_id, external_id):
            return pool.pop(index)
    return None


def _update(target: Any, row: Mapping[str, Any], label: str, changes: list[str]) -> bool:
    changed = False
    for name, value in row.items():
        if _assign(target, name, value):
            changes.append(f"{label}.{name}")
            changed = True
    return changed


def _merge_items(order: Order, rows: Sequence[dict], changes: list[str]) -> bool:
    unmatched = list(order.items)
    changed = False
    for index, row in enumerate(rows):
        item = _take(unmatched, row.get("external_id"), "sku", row["sku"])
        if item is None:
            item = OrderItem(name=row.get("name") or row["sku"], quantity=1, price_cents=0)
            order.items.append(item)
            changes.append(f"items[{index}] added")
            changed = True
        row = {**row, "name": row.get("name") or item.name or row["sku"]}
        if _update(item, row, f"items[{index}]", changes):
            changed = True
    return changed


def _merge_shipments(order: Order, rows: Sequence[dict], changes: list[str]) -> None:
    unmatched = list(order.shipments)
    for index, row in enumerate(rows):
        shipment = _take(
            unmatched, row.get("external_id"), "tracking_number", row.get("tracking_number")
        )
        if shipment is None:
            shipment = Shipment(kind="order", status="in_transit")
            order.shipments.append(shipment)
            changes.append(f"shipments[{index}] added")
        _update(shipment, row, f"shipments[{index}]", changes)


def _merge_invoices(order: Order, rows: Sequence[dict], changes: list[str]) -> bool:
    changed = False
    for index, row in enumerate(rows):
        invoice = next((i for i in order.invoices if i.number == row["number"]), None)
        row = dict(row)
        if invoice is None:
            amount = row.get("amount", row.get("amount_due", order.total_cents or 0))
            settled = row.get("status") in ("paid", "cancelled")
            row.setdefault("amount", amount)
            row.setdefault("amount_due", 0 if settled else amount)
            invoice = Invoice(number=row["number"], currency=order.currency, status="open")
            order.invoices.append(invoice)
            changes.append(f"invoices[{index}] added")
            changed = True
        # Paid means nothing is due, and nothing due means paid, unless the shop says more.
        if row.get("status") == "paid" and "amount_due" not in row:
            row["amount_due"] = 0
        if "status" not in row and "amount_due" in row and invoice.status != "cancelled":
            row["status"] = "paid" if row["amount_due"] == 0 else "open"
        values = {
            "amount_cents": row.get("amount"),
            "amount_due_cents": row.get("amount_due"),
            "due_date": row.get("due_date"),
            "reminder_level": row.get("reminder_level"),
            "status": row.get("status"),
        }
        present = {name: v for name, v in values.items() if _key_for(name) in row}
        if _update(invoice, present, f"invoices[{index}]", changes):
            changed = True
    return changed


def _key_for(column: str) -> str:
    return {"amount_cents": "amount", "amount_due_cents": "amount_due"}.get(column, column)


def _merge_stock(shop: Shop, rows: Sequence[dict]) -> list[str]:
    changes = []
    for row in rows:
        stock = db.session.get(Stock, (shop.id, row["sku"]))
        if stock is None:
            stock = Stock(shop_id=shop.id, sku=row["sku"], quantity=0)
            db.session.add(stock)
            changes.append(f"stock[{row['sku']}] added")
        _update(stock, {k: v for k, v in row.items() if k != "sku"}, f"stock[{row['sku']}]",
                changes)  # fmt: skip
    return changes


# --- reading the dict -------------------------------------------------------------------


class _Fields:
    """Reads one object of the order dict, naming the field in every complaint."""

    def __init__(self, data: Mapping[str, Any], prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix

    def where(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def has(self, key: str) -> bool:
        return key in self.data

    def text(self, key: str, max_length: int, *, required: bool = False) -> str | None:
        value = self.data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # ids and order numbers often arrive as JSON numbers
        if value is not None and not isinstance(value, str):
            raise InvalidOrder(self.where(key), "must be text")
        value = (value or "").strip() or None
        if value is None and required:
            raise InvalidOrder(self.where(key), "is required")
        if value is not None and len(value) > max_length:
            raise InvalidOrder(self.where(key), f"is longer than {max_length} characters")
        return value

    def choice(self, key: str, allowed: Sequence[str]) -> str | None:
        value = self.text(key, 40)
        value = value.lower() if value else value
        if value is not None and value not in allowed:
            raise InvalidOrder(self.where(key), f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def cents(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        return parse_cents(value, self.where(key))

    def count(self, key: str, *, minimum: int = 0) -> int | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            value = int(value.strip())
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidOrder(self.where(key), f"{value!r} is not a whole number")
        if value < minimum:
            raise InvalidOrder(self.where(key), f"must be at least {minimum}")
        if value > _MAX_INT:
            raise InvalidOrder(self.where(key), f"{value} is too large")
        return value

    def moment(self, key: str) -> datetime | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                raise InvalidOrder(
                    self.where(key), f"{value!r} is not a date and time like 2024-11-03T14:22:00Z"
                ) from None
        else:
            raise InvalidOrder(self.where(key), "must be a date and time in ISO 8601")
        # Without an offset we take UTC: exports rarely say, and an hour does not matter here.
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

    def day(self, key: str) -> date | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, date):
            return value.date() if isinstance(value, datetime) else value
        if isinstance(value, str):
            text = value.strip()
            german = _GERMAN_DATE.match(text)
            try:
                if german:
                    return date(int(german[3]), int(german[2]), int(german[1]))
                return date.fromisoformat(text[:10])
            except ValueError:
                pass
        raise InvalidOrder(self.where(key), f"{value!r} is not a date like 2024-12-07")

    def rows(self, key: str) -> list[_Fields]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise InvalidOrder(self.where(key), "must be a list")
        rows = []
        for index, row in enumerate(value):
            if not isinstance(row, Mapping):
                raise InvalidOrder(f"{self.where(key)}[{index}]", "must be an object")
            rows.append(_Fields(row, f"{self.where(key)}[{index}]."))
        return rows


def parse_cents(value: Any, where: str) -> int:
    """Cents from a decimal string or number ("19.95", 19.95, "19,95", 20); never via float."""
    if isinstance(value, bool):
        raise InvalidOrder(where, f"{value!r} is not an amount of money")
    if isinstance(value, float):
        value = str(value)  # the shortest repr is what was written, e.g. 19.95 -> "19.95"
    if isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "")
        if _DECIMAL_COMMA.match(text):
            text = text.replace(",", ".")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise InvalidOrder(where, f"{value!r} is not an amount like 19.95 or 19,95") from None
    if not isinstance(value, Decimal | int):
        raise InvalidOrder(where, f"{value!r} is not an amount of money")
    amount = Decimal(value)
    if not amount.is_finite():
        raise InvalidOrder(where, f"{value!r} is not an amount of money")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise InvalidOrder(where, f"{value} has more than two decimal places")
    if cents < 0:
        raise InvalidOrder(where, "must not be negative")
    if cents > _MAX_INT:
        raise InvalidOrder(where, f"{value} is too large")
    return int(cents)


def _only_present(reader: _Fields, values: dict[str, Any]) -> dict[str, Any]:
    """Keep the keys the sender gave: an absent key leaves the stored value alone."""
    return {name: value for name, value in values.items() if reader.has(name)}


def _parse_order(data: Mapping[str, Any]) -> dict[str, Any]:
    order = _Fields(data)
    email = order.text("email", 320)
    if email is not None:
        if "@" not in email:
            raise InvalidOrder("email", f"{email!r} is not an e-mail address")
        email = normalise_identity("email", email)
    language = order.text("language", 8)
    fields = _only_present(
        order,
        {
            "number": order.text("number", 40),
            "external_id": order.text("external_id", 64),
            "email": email,
            "name": order.text("name", 200),
            "postcode": order.text("postcode", 20),
            "language": language.lower() if language else None,
            "currency": _currency(order),
            "status": order.choice("status", ORDER_STATUSES),
            "financial_status": order.text("financial_status", 30),
            "fulfillment_status": order.text("fulfillment_status", 30),
            "placed_at": order.moment("placed_at"),
            "total": order.cents("total"),
        },
    )
    for required in ("number", "external_id", "currency", "status", "placed_at"):
        if fields.get(required, "") is None:  # given but empty: keep what we have
            del fields[required]
    fields["items"] = [_parse_item(row) for row in order.rows("items")]
    fields["shipments"] = [_parse_shipment(row) for row in order.rows("shipments")]
    fields["invoices"] = [_parse_invoice(row) for row in order.rows("invoices")]
    fields["stock"] = [_parse_stock(row) for row in order.rows("stock")]
    _no_twins(fields["items"], "items", "external_id")
    _no_twins(fields["shipments"], "shipments", "external_id")
    _no_twins(fields["shipments"], "shipments", "tracking_number")
    _no_twins(fields["invoices"], "invoices", "number")
    _no_twins(fields["stock"], "stock", "sku")
    return fields


def _currency(reader: _Fields) -> str | None:
    value = reader.text("currency", 3)
    if value is not None and not (len(value) == 3 and value.isalpha()):
        raise InvalidOrder(reader.where("currency"), f"{value!r} is not a currency like EUR")
    return value.upper() if value else None


def _no_twins(rows: Sequence[dict], label: str, key: str) -> None:
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        value = row.get(key)
        if value is None:
            continue
        if value in seen:
            raise InvalidOrder(
                f"{label}[{index}].{key}", f"{value} appears twice (also {label}[{seen[value]}])"
            )
        seen[value] = index


def _parse_item(row: _Fields) -> dict[str, Any]:
    values = _only_present(
        row,
        {
            "external_id": row.text("external_id", 64),
            "name": row.text("name", 300),
            "size": row.text("size", 20),
            "colour": row.text("colour", 60),
            "quantity": row.count("quantity", minimum=1),
            "price": row.cents("price"),
        },
    )
    values["sku"] = row.text("sku", 80, required=True)
    if "price" in values:
        values["price_cents"] = values.pop("price")
    return {k: v for k, v in values.items() if v is not None or k in ("size", "colour")}


def _parse_shipment(row: _Fields) -> dict[str, Any]:
    values = _only_present(
        row,
        {
            "external_id": row.text("external_id", 64),
            "kind": row.choice("kind", SHIPMENT_KINDS),
            "carrier": row.text("carrier", 40),
            "tracking_number": row.text("tracking_number", 64),
            "tracking_url": row.text("tracking_url", 500),
            "status": row.choice("status", SHIPMENT_STATUSES),
            "shipped_at": row.moment("shipped_at"),
            "delivered_at": row.moment("delivered_at"),
        },
    )
    if not values.get("external_id") and not values.get("tracking_number"):
        raise InvalidOrder(
            row.where("tracking_number"), "give tracking_number or external_id to tell shipments"
        )
    for required in ("kind", "status"):
        if values.get(required, "") is None:
            del values[required]
    return values


def _parse_invoice(row: _Fields) -> dict[str, Any]:
    values = _only_present(
        row,
        {
            "amount": row.cents("amount"),
            "amount_due": row.cents("amount_due"),
            "due_date": row.day("due_date"),
            "reminder_level": row.count("reminder_level"),
            "status": row.choice("status", INVOICE_STATUSES),
        },
    )
    values = {k: v for k, v in values.items() if v is not None or k == "due_date"}
    values["number"] = row.text("number", 40, required=True)
    return values


def _parse_stock(row: _Fields) -> dict[str, Any]:
    values = _only_present(
        row,
        {
            "product": row.text("product", 300),
            "size": row.text("size", 20),
            "colour": row.text("colour", 60),
            "quantity": row.count("quantity"),
        },
    )
    if values.get("quantity", 0) is None:
        del values["quantity"]
    values["sku"] = row.text("sku", 80, required=True)
    return values
