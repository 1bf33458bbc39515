"""The OpenAPI declarations of the commerce routes registered by hand in orders.py and
returns.py (they check their own input and keep their own answers; this describes them)."""

from __future__ import annotations

from helpdesk.api.spec import (
    ID,
    INTEGER,
    STRING,
    STRINGS,
    Operation,
    declare,
    nullable,
    obj,
    path,
    query,
)
from helpdesk.models.commerce import RESOLUTIONS, RETURN_STATUSES

MONEY = nullable({"type": "string", "description": "a decimal amount, e.g. 19.95"})
WHEN = nullable({"type": "string", "format": "date-time"})
TEXT = nullable(STRING)

ORDER = obj(
    {
        "shop": STRING,
        "number": STRING,
        "external_id": TEXT,
        "email": TEXT,
        "name": TEXT,
        "postcode": TEXT,
        "language": TEXT,
        "currency": TEXT,
        "total": MONEY,
        "status": TEXT,
        "financial_status": TEXT,
        "fulfillment_status": TEXT,
        "placed_at": WHEN,
        "items": {"type": "array", "items": obj({
            "external_id": TEXT, "sku": TEXT, "name": TEXT, "size": TEXT, "colour": TEXT,
            "quantity": INTEGER, "price": MONEY})},
        "shipments": {"type": "array", "items": obj({
            "external_id": TEXT, "kind": TEXT, "carrier": TEXT, "tracking_number": TEXT,
            "tracking_url": TEXT, "status": TEXT, "shipped_at": WHEN, "delivered_at": WHEN})},
        "invoices": {"type": "array", "items": obj({
            "number": STRING, "amount": MONEY, "amount_due": MONEY,
            "due_date": nullable({"type": "string", "format": "date"}),
            "reminder_level": nullable(INTEGER), "status": TEXT, "on_hold": {"type": "boolean"},
            "hold_amount": MONEY, "hold_reason": TEXT, "hold_since": WHEN})},
        "returns": {"type": "array", "items": obj({
            "id": ID, "number": STRING, "status": STRING, "resolution": TEXT})},
    }
)  # fmt: skip

ORDER_IN = {
    "type": "object",
    "required": ["number"],
    "description": (
        "The shop's order: number, external_id, email, name, postcode, language, currency, "
        "placed_at, status, financial_status, fulfillment_status, total, items, shipments, "
        "invoices, stock, and optionally `shop` (its key). A key that is absent leaves the "
        "stored value alone. Money as decimal strings or numbers."
    ),
    "properties": {"number": {"type": "string", "minLength": 1}, "shop": STRING},
}

declare(
    Operation(
        "POST",
        "/orders",
        "Create or update an order from the shop",
        ("admin",),
        body=ORDER_IN,
        responses={
            200: (
                "it existed (updated or unchanged)",
                obj({"order": ORDER, "outcome": STRING, "changes": STRINGS}),
            ),
            201: ("created", obj({"order": ORDER, "outcome": STRING, "changes": STRINGS})),
            409: ("a concurrent write; send again", None),
        },  # fmt: skip
        tag="orders",
    )
)
declare(
    Operation(
        "GET",
        "/orders/{number}",
        "One order with items, shipments, invoices and returns",
        ("admin",),
        params=(
            path("number", {"type": "string", "minLength": 1, "maxLength": 100}),
            query("shop", STRING, "the shop's key, when several shops use the number"),
        ),
        responses={
            200: ("the order", obj({"order": ORDER})),
            409: ("several shops have this number", None),
        },
        tag="orders",
    )
)

RETURN = obj(
    {
        "id": ID,
        "number": STRING,
        "order": STRING,
        "external_id": TEXT,
        "status": {"enum": list(RETURN_STATUSES)},
        "resolution": nullable({"enum": list(RESOLUTIONS)}),
        "carrier": TEXT,
        "tracking_number": TEXT,
        "refund_cents": nullable(INTEGER),
        "value_cents": nullable(INTEGER),
        "note": TEXT,
        "history": {"type": "array", "items": {"type": "object"}},
        "items": {"type": "array", "items": obj({
            "sku": TEXT, "name": TEXT, "quantity": INTEGER, "reason": TEXT,
            "exchange_sku": TEXT})},
    }
)  # fmt: skip

declare(
    Operation(
        "POST",
        "/returns/{ref}/transitions",
        "Move a return on: in_transit, received, refunded, exchanged, rejected",
        ("agent", "lead"),
        params=(
            path(
                "ref",
                {"type": "string", "minLength": 1, "maxLength": 20},
                'the return\'s id or number ("R-12")',
            ),
        ),  # fmt: skip
        body={
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": STRING,
                "tracking_number": STRING,
                "carrier": STRING,
                "refund_cents": {"type": "integer", "minimum": 0},
                "note": STRING,
            },
        },
        responses={
            200: (
                "moved (or already there)",
                obj({"return": RETURN, "changed": {"type": "boolean"}}),
            ),
            409: ("the return cannot take this step now", None),
        },
        tag="returns",
    )
)
