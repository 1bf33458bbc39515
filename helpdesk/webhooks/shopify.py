"""Shopify webhooks at POST /webhooks/shopify: orders, fulfillments, refunds and returns.

Order of checks, each before the next:

1. HELPDESK_SHOPIFY_WEBHOOK_SECRET unset: 503, saying which variable to set.
2. `X-Shopify-Hmac-Sha256` must be base64(HMAC-SHA256(raw body, secret)), compared in
   constant time; otherwise 401 and nothing is stored, not even in quarantine.
3. The body must be a JSON object; otherwise 400 and the bytes are quarantined.
4. A delivery id (`X-Shopify-Webhook-Id`) seen before: 200, nothing changes.
5. The topic (`X-Shopify-Topic`) is applied for the shop named by
   `X-Shopify-Shop-Domain`. Topics we do not use are answered 200 and recorded as
   ignored. Data we cannot apply (an order we do not know yet, a return of items we
   cannot find) is quarantined and answered 422, so Shopify retries it: its deliveries
   are not ordered, and a fulfilment may overtake its order. A later success marks the
   quarantined copy resolved.

200 is answered only after the change and the delivery record are committed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import InboundDelivery, Invoice, Order, Return, Shop
from helpdesk.services.events import record_event
from helpdesk.services.mail_intake import quarantine
from helpdesk.services.orders import parse_cents, shop_by_key, sync_order
from helpdesk.services.returns import (
    FINAL_STATUSES,
    IllegalTransition,
    ReturnLine,
    open_returns,
    register_return,
    transition,
)
from helpdesk.webhooks import bp, json_error, record_delivery

SOURCE = "shopify"
SECRET_VARIABLE = "HELPDESK_SHOPIFY_WEBHOOK_SECRET"
#: A second attempt when a concurrent delivery wrote the same rows first.
ATTEMPTS = 2
Handler = Callable[[Shop, dict], dict]


@bp.post("/shopify")
def receive_shopify():
    secret = current_app.config.get("SHOPIFY_WEBHOOK_SECRET")
    if not secret:
        return json_error(
            503,
            "not_configured",
            f"Shopify webhooks are switched off: set {SECRET_VARIABLE} to the signing "
            "secret shown with the shop's webhooks (or the app's client secret)",
        )
    raw = request.get_data()
    if not signature_matches(raw, request.headers.get("X-Shopify-Hmac-Sha256", ""), secret):
        return json_error(401, "bad_signature", "X-Shopify-Hmac-Sha256 does not sign this body")
    topic = request.headers.get("X-Shopify-Topic", "").strip().lower()
    domain = request.headers.get("X-Shopify-Shop-Domain", "").strip().lower()
    # Without a webhook id, identical bytes are taken to be the same delivery.
    delivery_id = request.headers.get("X-Shopify-Webhook-Id", "").strip()[:200]
    delivery_id = delivery_id or "sha256:" + hashlib.sha256(raw).hexdigest()
    where = f"shopify {topic or '?'} {delivery_id}"
    try:
        payload = json.loads(raw, parse_float=Decimal)
    except ValueError as error:
        return _reject(400, "bad_json", raw, where, f"the body is not JSON: {error}")
    if not isinstance(payload, dict):
        return _reject(400, "bad_json", raw, where, "the body is JSON but not an object")
    if not topic or not domain:
        reason = "X-Shopify-Topic and X-Shopify-Shop-Domain are required"
        return _reject(400, "missing_header", raw, where, reason)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _apply(topic, domain, delivery_id, payload, raw, where)
        except IntegrityError:
            db.session.rollback()
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def signature_matches(raw: bytes, header: str, secret: str) -> bool:
    """Shopify's signature: base64 of HMAC-SHA256 over the raw body."""
    expected = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest())
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))


def _apply(topic: str, domain: str, delivery_id: str, payload: dict, raw: bytes, where: str):
    seen = db.session.scalar(
        select(InboundDelivery.id).where(
            InboundDelivery.source == SOURCE, InboundDelivery.delivery_id == delivery_id
        )
    )
    if seen is not None:
        return jsonify(status="duplicate", delivery_id=delivery_id), 200
    handler = HANDLERS.get(topic)
    if handler is None:  # on purpose: a shop may send more topics than we use
        outcome: dict = {"result": "ignored", "reason": f"topic {topic} is not used"}
    else:
        try:
            outcome = handler(shop_by_key(domain), payload)
        except InvalidInput as error:
            db.session.rollback()
            return _reject(422, "unusable", raw, where, f"{topic}: {error}")
        except (AttributeError, TypeError, KeyError, ValueError) as error:
            # A value of the wrong kind somewhere (a list where Shopify sends an object;
            # found by tests/unit/test_fuzz_shopify.py): kept in the quarantine, not a 500.
            db.session.rollback()
            reason = f"{topic}: not Shopify's shape ({type(error).__name__}: {error})"
            return _reject(422, "unusable", raw, where, reason)
    return record_delivery(SOURCE, delivery_id, topic, outcome, raw)


def _reject(status: int, code: str, raw: bytes, where: str, reason: str):
    """Keep what we could not use for an admin to see, then say why."""
    quarantine(SOURCE, raw, reason=reason, source=where, content_type="application/json")
    db.session.commit()
    return json_error(status, code, reason)


# --- orders -----------------------------------------------------------------------------


def _order(shop: Shop, payload: dict) -> dict:
    external_id = _required_id(payload, "id")
    invoice_known = db.session.scalar(
        select(Invoice.id).where(Invoice.number == invoice_number(external_id))
    )
    data = order_from_shopify(payload, with_invoice=invoice_known is not None)
    result = sync_order(shop, data, actor="shopify")
    return {"result": result.outcome, "order": result.order.number}


def order_from_shopify(payload: dict, *, with_invoice: bool = False) -> dict[str, Any]:
    """Shopify's order JSON as our normalised order dict (see services/orders.py)."""
    customer = payload.get("customer") or {}
    billing = payload.get("billing_address") or {}
    shipping = payload.get("shipping_address") or {}
    full_name = " ".join(filter(None, (customer.get("first_name"), customer.get("last_name"))))
    locale = str(payload.get("customer_locale") or "")
    data: dict[str, Any] = {
        "number": _order_number(payload),
        "external_id": _required_id(payload, "id"),
        "email": payload.get("email") or payload.get("contact_email") or customer.get("email"),
        "name": full_name or billing.get("name") or shipping.get("name"),
        "postcode": shipping.get("zip") or billing.get("zip"),
        "language": locale.split("-")[0].lower() or None,  # "de-DE" -> "de"
        "currency": payload.get("currency"),
        "placed_at": payload.get("created_at"),
        "status": "cancelled" if payload.get("cancelled_at") else "open",
        "financial_status": payload.get("financial_status"),
        "fulfillment_status": payload.get("fulfillment_status"),
        "total": payload.get("total_price"),
        "items": [_item(line) for line in payload.get("line_items") or []],
        "shipments": [
            row for f in payload.get("fulfillments") or [] for row in shipments_from_fulfillment(f)
        ],
    }
    invoice = _invoice(payload, force=with_invoice)
    if invoice is not None:
        data["invoices"] = [invoice]
    return data


def _order_number(payload: dict) -> str | None:
    """What the customer quotes: the name "#1001" without its "#" (shops may add a prefix)."""
    name = str(payload.get("name") or "").strip().lstrip("#")
    return name or _id(payload, "order_number")


def _item(line: dict) -> dict[str, Any]:
    size, colour = split_variant(line.get("variant_title"))
    # Products without a SKU exist in Shopify; ours needs one, so the variant stands in.
    sku = str(line.get("sku") or "").strip() or f"shopify-variant-{line.get('variant_id')}"
    return {
        "external_id": _id(line, "id"),
        "sku": sku[:80],
        "name": str(line.get("title") or line.get("name") or sku)[:300],
        "size": size,
        "colour": colour,
        "quantity": line.get("quantity"),
        "price": line.get("price"),
    }


_SIZE = re.compile(
    r"^(?:\d?X{0,3}[SL]|M|\d{1,3}(?:[.,]5)?|W\d{2}(?:/L\d{2})?|\d{2}/\d{2}|one ?size)$",
    re.IGNORECASE,
)


def split_variant(title: Any) -> tuple[str | None, str | None]:
    """Size and colour from a variant title like "40 / Schwarz" or "Blau / M".

    Shopify's line item carries only the option values joined by " / ", not the option
    names, so the size is recognised by its look (S-XXL, 36, 42.5, W32/L34) and the first
    other value is taken as the colour.
    """
    parts = [p.strip() for p in str(title or "").split(" / ") if p.strip()]
    parts = [p for p in parts if p != "Default Title"]  # a product without variants
    size = next((p for p in parts if _SIZE.match(p)), None)
    colour = next((p for p in parts if p != size), None)
    return (size[:20] if size else None), (colour[:60] if colour else None)


def invoice_number(order_external_id: str) -> str:
    return f"shopify-{order_external_id}"


def _invoice(payload: dict, *, force: bool) -> dict[str, Any] | None:
    """The invoice behind a pay-later order (payment terms, or payment still pending).

    Shopify has no invoice object: what the customer owes is `total_outstanding`, and
    the due date is in the payment terms' schedule. Orders paid at checkout get no
    invoice, unless we made one earlier and must now see it settled (`force`).
    """
    terms = payload.get("payment_terms") or None
    pending = payload.get("financial_status") in ("pending", "partially_paid")
    if not (terms or pending or force):
        return None
    status = {"paid": "paid", "refunded": "paid", "partially_refunded": "paid",
              "voided": "cancelled"}.get(payload.get("financial_status"), "open")  # fmt: skip
    outstanding = payload.get("total_outstanding")
    if outstanding is None:
        outstanding = payload.get("total_price") if status == "open" else "0"
    schedules = (terms or {}).get("payment_schedules") or [{}]
    return {
        "number": invoice_number(_required_id(payload, "id")),
        "amount": payload.get("total_price"),
        "amount_due": "0" if status != "open" else outstanding,
        "due_date": schedules[0].get("due_at"),
        "status": status,
    }


# --- fulfillments -----------------------------------------------------------------------

#: Shopify's shipment_status -> ours.
SHIPMENT_STATUSES = {
    "label_printed": "label_created",
    "label_purchased": "label_created",
    "confirmed": "label_created",  # the carrier knows of it but has not picked it up
    "in_transit": "in_transit",
    "attempted_delivery": "in_transit",
    "ready_for_pickup": "out_for_delivery",  # waiting at the pickup point: the last step
    "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
    "failure": "exception",
}


def shipments_from_fulfillment(fulfillment: dict) -> list[dict[str, Any]]:
    """One shipment per tracking number of a Shopify fulfilment (a parcel each)."""
    fid = _required_id(fulfillment, "id")
    numbers = [n for n in fulfillment.get("tracking_numbers") or [] if n]
    numbers = numbers or [n for n in [fulfillment.get("tracking_number")] if n]
    urls = [u for u in fulfillment.get("tracking_urls") or [] if u]
    urls = urls or [u for u in [fulfillment.get("tracking_url")] if u]
    if fulfillment.get("status") in ("cancelled", "error", "failure"):
        status = "exception"
    else:  # a fulfilment without a carrier status has left the warehouse
        status = SHIPMENT_STATUSES.get(fulfillment.get("shipment_status") or "", "in_transit")
    carrier = fulfillment.get("tracking_company") or None
    rows = []
    for index, number in enumerate(numbers or [None]):
        row = {
            "external_id": fid if index == 0 else f"{fid}/{index + 1}",
            "carrier": carrier[:40] if carrier else None,
            "tracking_number": number,
            "tracking_url": urls[index] if index < len(urls) else None,
            "status": status,
            "shipped_at": fulfillment.get("created_at"),
        }
        if status == "delivered":
            # Shopify says when the fulfilment last changed, not when it was delivered.
            row["delivered_at"] = fulfillment.get("updated_at")
        rows.append(row)
    return rows


def _fulfillment(shop: Shop, payload: dict) -> dict:
    order = _known_order(shop, _id(payload, "order_id"), "order_id")
    shipments = shipments_from_fulfillment(payload)
    result = sync_order(
        shop, {"external_id": order.external_id, "shipments": shipments}, actor="shopify"
    )
    return {"result": result.outcome, "order": order.number, "fulfillment": _id(payload, "id")}


# --- refunds ----------------------------------------------------------------------------


def refund_cents(refund: dict) -> int:
    """The money a Shopify refund gives back, in cents.

    The successful refund transactions say it; a refund without transactions (an order
    not paid yet, e.g. on invoice) moves no money but lowers what is owed by the
    refunded lines, which EU shops price with VAT included.
    """
    transactions = [
        t for t in refund.get("transactions") or []
        if t.get("kind") == "refund" and t.get("status") in ("success", None)
    ]  # fmt: skip
    if transactions:
        return sum(
            parse_cents(t.get("amount") or 0, f"transactions[{i}].amount")
            for i, t in enumerate(transactions)
        )
    return sum(
        parse_cents(line.get("subtotal") or 0, f"refund_line_items[{i}].subtotal")
        for i, line in enumerate(refund.get("refund_line_items") or [])
    )


def _refund(shop: Shop, payload: dict) -> dict:
    order = _known_order(shop, _id(payload, "order_id"), "order_id")
    cents = refund_cents(payload)
    return_ = _return_for_refund(order, payload)
    if return_ is not None:
        try:
            changed = transition(
                return_, "refunded", refund_cents=cents, note=payload.get("note") or None,
                actor="shopify",
            )  # fmt: skip
            return {"result": "refunded" if changed else "unchanged", "order": order.number,
                    "return": return_.number, "refund_cents": cents}  # fmt: skip
        except IllegalTransition as error:
            # Shopify lets a merchant refund before the parcel is back; our returns are
            # refunded only once received, so the refund is recorded beside the return.
            why = str(error)
    else:
        why = "no return of ours matches this refund"
    record_event(
        "shopify.refund",
        customer=order.customer,
        actor="shopify",
        order=order.number,
        refund_id=_id(payload, "id"),
        refund_cents=cents,
        currency=order.currency,
        note=why,
    )
    return {"result": "recorded", "order": order.number, "refund_cents": cents, "note": why}


def _return_for_refund(order: Order, refund: dict) -> Return | None:
    """The return a refund is for: named by Shopify, else the one open return whose items
    were refunded. A refund of no items (goodwill, shipping) belongs to no return."""
    named = refund.get("return") if isinstance(refund.get("return"), dict) else {}
    return_id = _id(named, "id")
    if return_id:
        match = next((r for r in order.returns if r.external_id == return_id), None)
        if match is not None:
            return match
    lines = {_id(line, "line_item_id") for line in refund.get("refund_line_items") or []}
    lines.discard(None)
    candidates = [
        r for r in open_returns(order) if any(i.order_item.external_id in lines for i in r.items)
    ]
    return candidates[0] if len(candidates) == 1 else None


# --- returns ----------------------------------------------------------------------------

#: Shopify's return reasons -> ours. Shopify's wrong_item and unknown have no match.
RETURN_REASONS = {
    "size_too_small": "too_small",
    "size_too_large": "too_big",
    "unwanted": "changed_mind",
    "style": "style",
    "color": "style",
    "not_as_described": "not_as_described",
    "defective": "defective",
    "wrong_item": "other",
    "other": "other",
    "unknown": "other",
}


def _ensure_return(shop: Shop, payload: dict) -> tuple[Return, bool]:
    """Our return for a Shopify return, registered from its line items when new.

    Shopify returns fulfilment line items; each names the order's line item, which is
    our item's external id. Exchanges in Shopify name new line items that are not in
    our stock model, so a Shopify return is registered as a refund either way.
    """
    return_id = _required_id(payload, "id")
    existing = db.session.scalar(select(Return).where(Return.external_id == return_id))
    if existing is not None:
        return existing, False
    order_ref = payload.get("order") if isinstance(payload.get("order"), dict) else {}
    order = _known_order(shop, _id(order_ref, "id") or _id(payload, "order_id"), "order.id")
    lines, unmatched = [], []
    for index, row in enumerate(payload.get("return_line_items") or []):
        line_item = (row.get("fulfillment_line_item") or {}).get("line_item") or {}
        line_item_id = _id(line_item, "id")
        item = next((i for i in order.items if i.external_id == line_item_id), None)
        if item is None:
            unmatched.append(line_item_id or f"return_line_items[{index}]")
            continue
        reason = str(row.get("return_reason") or "unknown").lower()
        notes = [reason.replace("_", " ") if RETURN_REASONS.get(reason) == "other" else None,
                 row.get("return_reason_note"), row.get("customer_note")]  # fmt: skip
        lines.append(
            ReturnLine(
                item,
                _quantity(row.get("quantity"), f"return_line_items[{index}].quantity"),
                RETURN_REASONS.get(reason, "other"),
                comment="; ".join(str(n) for n in notes if n)[:500] or None,
            )
        )
    if not lines:
        raise InvalidInput(
            f"return_line_items: none names a line item of order {order.number} "
            f"that we know ({', '.join(map(str, unmatched)) or 'there are none'})"
        )
    return_ = register_return(order, lines, source="shop", actor="shopify", external_id=return_id)
    return return_, True


def _return_requested(shop: Shop, payload: dict) -> dict:
    return_, created = _ensure_return(shop, payload)
    return {"result": "created" if created else "unchanged", "return": return_.number,
            "return_status": return_.status}  # fmt: skip


def _return_approved(shop: Shop, payload: dict) -> dict:
    # Approving opens the return for shipping in Shopify; the label comes separately
    # (reverse deliveries), so ours stays "requested" until a label or a scan is known.
    return_, created = _ensure_return(shop, payload)
    if not created:
        _note(return_, "shopify.return_approved")
    return {"result": "created" if created else "noted", "return": return_.number,
            "return_status": return_.status}  # fmt: skip


def _return_declined(shop: Shop, payload: dict) -> dict:
    return_ = _known_return(payload)
    if return_ is None:
        return {"result": "ignored", "reason": "a return we never registered"}
    decline = payload.get("decline") or {}
    note = "declined in Shopify" + "".join(
        f": {part}" for part in (decline.get("reason"), decline.get("note")) if part
    )
    changed = transition(return_, "rejected", note=note[:2000], actor="shopify")
    return {"result": "rejected" if changed else "unchanged", "return": return_.number}


def _return_closed(shop: Shop, payload: dict) -> dict:
    return_ = _known_return(payload)
    if return_ is None:
        return {"result": "ignored", "reason": "a return we never registered"}
    if return_.status in FINAL_STATUSES:
        return {"result": "unchanged", "return": return_.number, "return_status": return_.status}
    # Closed means the merchant is done with it, not that money moved (refunds/create
    # says that), so the return keeps its status and the closing is on the trail.
    _note(return_, "shopify.return_closed")
    return {"result": "noted", "return": return_.number, "return_status": return_.status}


def _known_return(payload: dict) -> Return | None:
    return_id = _required_id(payload, "id")
    return db.session.scalar(select(Return).where(Return.external_id == return_id))


def _note(return_: Return, kind: str) -> None:
    record_event(kind, customer=return_.order.customer, actor="shopify",
                 order=return_.order.number, status=return_.status,
                 **{"return": return_.number})  # fmt: skip


# --- small readers ----------------------------------------------------------------------


def _id(data: dict, key: str) -> str | None:
    """Shopify ids are JSON numbers; ours are text."""
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, bool) or value in (None, ""):
        return None
    return str(value)


def _required_id(data: dict, key: str) -> str:
    value = _id(data, key)
    if value is None:
        raise InvalidInput(f"{key}: missing")
    return value


def _quantity(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{where}: {value!r} is not a quantity")
    return value


def _known_order(shop: Shop, external_id: str | None, where: str) -> Order:
    if external_id is None:
        raise InvalidInput(f"{where}: missing")
    order = db.session.scalar(
        select(Order).where(Order.shop_id == shop.id, Order.external_id == external_id)
    )
    if order is None:
        raise InvalidInput(f"{where}: order {external_id} is not known here (yet)")
    return order


HANDLERS: dict[str, Handler] = {
    "orders/create": _order,
    "orders/updated": _order,
    "orders/paid": _order,
    "orders/cancelled": _order,
    "fulfillments/create": _fulfillment,
    "fulfillments/update": _fulfillment,
    "refunds/create": _refund,
    "returns/request": _return_requested,
    "returns/approve": _return_approved,
    "returns/decline": _return_declined,
    "returns/close": _return_closed,
}
