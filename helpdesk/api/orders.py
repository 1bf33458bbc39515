"""Orders over the API: shop systems push them in and read them back (role admin).

POST /api/v1/orders            one order dict (see services/orders.py), optional "shop" key;
                               201 when new, 200 when it existed (updated or unchanged)
GET  /api/v1/orders/<number>   ?shop=KEY when several shops use the same number
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import g, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpdesk.api import ApiError, bp, json_body, token_required
from helpdesk.extensions import db
from helpdesk.models import Order, Shop
from helpdesk.services.orders import default_shop, shop_by_key, sync_order

#: A second attempt when a concurrent request created the same order first.
ATTEMPTS = 2


@bp.post("/orders")
@token_required("admin")
def upsert_order():
    body = json_body()
    shop_key = body.pop("shop", None)
    if shop_key is not None and not isinstance(shop_key, str):
        raise ApiError(422, "invalid_input", "shop: must be the shop's key as text")
    for attempt in range(1, ATTEMPTS + 1):
        try:
            shop = shop_by_key(shop_key) if shop_key else default_shop()
            result = sync_order(shop, body, actor="api", user=g.api_user)
            db.session.commit()
            break
        except IntegrityError:
            db.session.rollback()
            if attempt == ATTEMPTS:
                raise
    order = result.order
    location = url_for("api.show_order", number=order.number, shop=order.shop.key)
    return (
        {"order": order_json(order), "outcome": result.outcome, "changes": result.changes},
        201 if result.created else 200,
        {"Location": location},
    )


@bp.get("/orders/<number>")
@token_required("admin")
def show_order(number: str):
    query = select(Order).join(Shop).where(Order.number == number)
    if request.args.get("shop"):
        query = query.where(Shop.key == request.args["shop"])
    found = db.session.scalars(query.limit(2)).all()
    if not found:
        raise ApiError(404, "not_found", f"no order {number}")
    if len(found) > 1:
        raise ApiError(409, "ambiguous", f"several shops have an order {number}; add ?shop=KEY")
    return {"order": order_json(found[0])}


def _money(cents: int | None) -> str | None:
    return None if cents is None else str(Decimal(cents).scaleb(-2))


def _when(value) -> str | None:
    return value.isoformat() if value is not None else None


def order_json(order: Order) -> dict[str, Any]:
    """The order as shop systems send it, plus what only we know (holds, returns)."""
    return {
        "shop": order.shop.key,
        "number": order.number,
        "external_id": order.external_id,
        "email": order.email,
        "name": order.name,
        "postcode": order.postcode,
        "language": order.language,
        "currency": order.currency,
        "total": _money(order.total_cents),
        "status": order.status,
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status,
        "placed_at": _when(order.placed_at),
        "items": [
            {
                "external_id": item.external_id,
                "sku": item.sku,
                "name": item.name,
                "size": item.size,
                "colour": item.colour,
                "quantity": item.quantity,
                "price": _money(item.price_cents),
            }
            for item in order.items
        ],
        "shipments": [
            {
                "external_id": s.external_id,
                "kind": s.kind,
                "carrier": s.carrier,
                "tracking_number": s.tracking_number,
                "tracking_url": s.tracking_url,
                "status": s.status,
                "shipped_at": _when(s.shipped_at),
                "delivered_at": _when(s.delivered_at),
            }
            for s in order.shipments
        ],
        "invoices": [
            {
                "number": i.number,
                "amount": _money(i.amount_cents),
                "amount_due": _money(i.amount_due_cents),
                "due_date": i.due_date.isoformat() if i.due_date else None,
                "reminder_level": i.reminder_level,
                "status": i.status,
                "on_hold": i.on_hold,
                "hold_amount": _money(i.hold_cents),
                "hold_reason": i.hold_reason,
                "hold_since": _when(i.hold_since),
            }
            for i in order.invoices
        ],
        "returns": [
            {"id": r.id, "number": r.number, "status": r.status, "resolution": r.resolution}
            for r in order.returns
        ],
    }
