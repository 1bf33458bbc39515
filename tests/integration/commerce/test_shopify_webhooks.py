"""Shopify webhooks: signed over the raw body, deduplicated, applied to orders and returns.

The payloads in tests/data/shopify are written for these tests in Shopify's format
(one pay-later order #1001 of two line items, its fulfilment, a return and a refund).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import (
    Event,
    InboundDelivery,
    Invoice,
    Order,
    QuarantinedInput,
    Return,
    Shipment,
    Shop,
)
from helpdesk.services.returns import transition
from helpdesk.webhooks.shopify import refund_cents, split_variant

DATA = Path(__file__).resolve().parents[2] / "data" / "shopify"
SECRET = "shpss_test_5f1c0a9e3b7d"
DOMAIN = "lauf-und-stil.myshopify.com"
_delivery_ids = itertools.count(1)


def fixture(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def deliver(
    client,
    topic: str,
    payload,
    *,
    delivery_id: str | None = None,
    signature=None,
    headers: dict | None = None,
):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sent = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": DOMAIN,
        "X-Shopify-Webhook-Id": delivery_id or f"b54557e4-bdd9-4b37-8a5f-{next(_delivery_ids)}",
        "X-Shopify-Hmac-Sha256": sign(body) if signature is None else signature,
        "X-Shopify-API-Version": "2024-10",
        **(headers or {}),
    }
    return client.post(
        "/webhooks/shopify", data=body, headers=sent, content_type="application/json"
    )


@pytest.fixture
def shopify(app, monkeypatch):
    monkeypatch.setitem(app.config, "SHOPIFY_WEBHOOK_SECRET", SECRET)
    return app.test_client()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stored_rows() -> dict[str, int]:
    return {m.__name__: count(m) for m in (Shop, Order, InboundDelivery, QuarantinedInput, Event)}


def the_order() -> Order:
    return db.session.scalar(select(Order).where(Order.number == "1001"))


def kinds() -> list[str]:
    return list(db.session.scalars(select(Event.kind).order_by(Event.id)))


# --- signatures -------------------------------------------------------------------------

BODY = json.dumps(fixture("order_create")).encode()


@pytest.mark.parametrize(
    "signature",
    [
        "",  # missing
        sign(BODY, "another-secret"),
        sign(BODY + b" "),  # the body was changed after signing
        hashlib.sha256(BODY).hexdigest(),  # hex, and no HMAC at all
        "nicht base64 ü",
    ],
)
def test_a_bad_signature_is_401_and_stores_nothing(shopify, signature):
    empty = stored_rows()
    response = deliver(shopify, "orders/create", BODY, signature=signature)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert stored_rows() == empty == dict.fromkeys(empty, 0)


def test_broken_json_with_a_good_signature_is_400_and_quarantined(shopify):
    raw = b'{"id": 5839201746211, "name": "#1001", '
    response = deliver(shopify, "orders/create", raw, delivery_id="d-broken")
    assert response.status_code == 400
    assert "not JSON" in response.get_json()["error"]["message"]
    kept = db.session.scalar(select(QuarantinedInput))
    assert (kept.channel, kept.data, kept.content_type) == ("shopify", raw, "application/json")
    assert "orders/create d-broken" in kept.source
    assert count(Order) == count(InboundDelivery) == 0


def test_without_the_secret_webhooks_are_off_and_say_which_variable_to_set(app, monkeypatch):
    monkeypatch.delitem(app.config, "SHOPIFY_WEBHOOK_SECRET", raising=False)
    response = deliver(app.test_client(), "orders/create", BODY)
    assert response.status_code == 503
    assert "HELPDESK_SHOPIFY_WEBHOOK_SECRET" in response.get_json()["error"]["message"]
    assert count(Order) == count(QuarantinedInput) == 0


# --- orders -----------------------------------------------------------------------------


def test_orders_create_stores_the_order_for_the_shop_that_sent_it(shopify):
    response = deliver(shopify, "orders/create", fixture("order_create"))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"status": "ok", "result": "created", "order": "1001"}
    order = the_order()
    assert order.shop.key == DOMAIN and order.external_id == "5839201746211"
    assert (order.email, order.name, order.postcode, order.language) == (
        "helga.brandt@example.de",
        "Helga Brandt",
        "34117",
        "de",
    )
    assert order.total_cents == 13480 and order.financial_status == "pending"
    assert [
        (i.external_id, i.sku, i.size, i.colour, i.quantity, i.price_cents) for i in order.items
    ] == [
        ("14562837192739", "SHOE-BLK-40", "40", "Schwarz", 1, 8995),
        ("14562837225507", "SHIRT-WHT-M", "M", "Weiß", 2, 1995),
    ]
    invoice = order.invoices[0]  # "Kauf auf Rechnung": payment terms with a due date
    assert (invoice.number, invoice.amount_due_cents, invoice.status) == (
        "shopify-5839201746211",
        13480,
        "open",
    )
    assert invoice.due_date.isoformat() == "2024-11-17"
    assert order.customer.identity("email") == "helga.brandt@example.de"
    delivery = db.session.scalar(select(InboundDelivery))
    assert (delivery.source, delivery.topic) == ("shopify", "orders/create")
    assert delivery.outcome == {"result": "created", "order": "1001"}


def test_a_redelivery_changes_nothing(shopify):
    payload = fixture("order_create")
    assert deliver(shopify, "orders/create", payload, delivery_id="w-1").status_code == 200
    before = stored_rows()

    again = deliver(shopify, "orders/create", payload, delivery_id="w-1")
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert stored_rows() == before

    # The same order under a new delivery id (orders/updated after a no-op edit) also
    # changes nothing but the delivery record.
    same = deliver(shopify, "orders/updated", payload, delivery_id="w-2")
    assert same.get_json()["result"] == "unchanged"
    assert stored_rows() == {**before, "InboundDelivery": before["InboundDelivery"] + 1}


def test_orders_paid_settles_the_invoice_and_releases_a_return_hold(shopify):
    deliver(shopify, "orders/create", fixture("order_create"))
    deliver(shopify, "fulfillments/create", fixture("fulfillment_create"))
    assert deliver(shopify, "returns/request", fixture("return_request")).status_code == 200
    invoice = db.session.scalar(select(Invoice))
    assert invoice.on_hold and invoice.hold_cents == 8995

    response = deliver(shopify, "orders/paid", fixture("order_paid"))

    assert response.get_json()["result"] == "updated"
    db.session.expire_all()
    assert (invoice.status, invoice.amount_due_cents, invoice.on_hold) == ("paid", 0, False)
    assert the_order().financial_status == "paid"
    assert kinds()[-2:] == ["order.updated", "dunning.release"]


def test_orders_cancelled_marks_the_order_cancelled(shopify):
    deliver(shopify, "orders/create", fixture("order_create"))
    cancelled = fixture("order_create")
    cancelled.update(
        cancelled_at="2024-11-03T16:01:12+01:00",
        cancel_reason="customer",
        financial_status="voided",
    )
    assert deliver(shopify, "orders/cancelled", cancelled).status_code == 200
    order = the_order()
    assert order.status == "cancelled" and order.invoices[0].status == "cancelled"
    assert count(Order) == 1


def test_an_order_paid_at_checkout_gets_no_invoice(shopify):
    paid = fixture("order_create")
    paid.update(
        financial_status="paid",
        payment_terms=None,
        total_outstanding="0.00",
        payment_gateway_names=["shopify_payments"],
    )
    deliver(shopify, "orders/create", paid)
    assert the_order().invoices == []


def test_an_order_with_unusable_data_is_422_quarantined_and_applies_on_retry(shopify):
    payload = fixture("order_create")
    payload["line_items"][0]["price"] = "89.955"
    response = deliver(shopify, "orders/create", payload, delivery_id="w-bad")
    assert response.status_code == 422
    assert "line_items" not in response.get_json()["error"]["message"]
    assert (
        "items[0].price: 89.955 has more than two decimal places"
        in (response.get_json()["error"]["message"])
    )
    assert count(Order) == count(InboundDelivery) == 0
    assert count(QuarantinedInput) == 1


# --- fulfillments -----------------------------------------------------------------------


def test_fulfillments_become_one_shipment_that_is_updated_in_place(shopify):
    deliver(shopify, "orders/create", fixture("order_create"))

    assert deliver(shopify, "fulfillments/create", fixture("fulfillment_create")).status_code == 200
    shipment = db.session.scalar(select(Shipment))
    assert (shipment.carrier, shipment.tracking_number, shipment.status) == (
        "DHL",
        "00340434161094015902",
        "in_transit",
    )
    assert shipment.tracking_url.endswith("piececode=00340434161094015902")

    assert deliver(shopify, "fulfillments/update", fixture("fulfillment_update")).status_code == 200
    db.session.expire_all()
    assert count(Shipment) == 1
    assert shipment.status == "delivered" and shipment.delivered_at is not None


def test_a_fulfilment_that_overtakes_its_order_is_retried_until_the_order_is_there(shopify):
    early = deliver(shopify, "fulfillments/create", fixture("fulfillment_create"), delivery_id="f1")
    assert early.status_code == 422  # Shopify retries what was not answered with 2xx
    assert (
        "order_id: order 5839201746211 is not known here (yet)"
        in (early.get_json()["error"]["message"])
    )
    kept = db.session.scalar(select(QuarantinedInput))
    assert kept.resolved_at is None and count(InboundDelivery) == 0

    deliver(shopify, "orders/create", fixture("order_create"))
    retried = deliver(
        shopify, "fulfillments/create", fixture("fulfillment_create"), delivery_id="f1"
    )

    assert retried.status_code == 200
    assert count(Shipment) == 1
    db.session.expire_all()
    assert kept.resolved_at is not None, "the quarantined copy is marked resolved"


def test_a_fulfilment_with_two_parcels_becomes_two_shipments():
    from helpdesk.webhooks.shopify import shipments_from_fulfillment

    payload = fixture("fulfillment_create")
    payload["tracking_numbers"] = ["00340434161094015902", "00340434161094015919"]
    payload["tracking_urls"] = []
    rows = shipments_from_fulfillment(payload)
    assert [(r["external_id"], r["tracking_number"]) for r in rows] == [
        ("4987623419939", "00340434161094015902"),
        ("4987623419939/2", "00340434161094015919"),
    ]


# --- returns and refunds ----------------------------------------------------------------


def shopify_return() -> Return:
    return db.session.scalar(select(Return).where(Return.external_id == "8392019283"))


@pytest.fixture
def order_with_return(shopify):
    deliver(shopify, "orders/create", fixture("order_create"))
    deliver(shopify, "fulfillments/create", fixture("fulfillment_create"))
    response = deliver(shopify, "returns/request", fixture("return_request"), delivery_id="r-1")
    assert response.status_code == 200, response.get_data(as_text=True)
    return shopify


def test_returns_request_registers_the_return_and_pauses_reminders(order_with_return):
    return_ = shopify_return()
    assert (return_.status, return_.source, return_.resolution) == ("requested", "shop", "refund")
    [item] = return_.items
    assert (item.order_item.sku, item.quantity, item.reason) == ("SHOE-BLK-40", 1, "too_small")
    assert item.comment == "Fällt eine Nummer kleiner aus, bitte Größe 41"
    invoice = return_.order.invoices[0]
    assert invoice.on_hold and invoice.hold_cents == 8995
    assert "return.requested" in kinds() and "dunning.hold" in kinds()

    before = stored_rows()
    again = deliver(
        order_with_return, "returns/request", fixture("return_request"), delivery_id="r-1-again"
    )
    assert again.get_json()["result"] == "unchanged"
    assert count(Return) == 1
    assert stored_rows() == {**before, "InboundDelivery": before["InboundDelivery"] + 1}


def test_returns_approve_keeps_the_return_requested_and_notes_it(order_with_return):
    response = deliver(order_with_return, "returns/approve", fixture("return_approve"))
    return_ = shopify_return()
    assert response.get_json() == {
        "status": "ok",
        "result": "noted",
        "return": return_.number,
        "return_status": "requested",
    }
    assert return_.status == "requested"
    assert kinds()[-1] == "shopify.return_approved"


def test_returns_approve_of_a_return_we_never_saw_registers_it(shopify):
    deliver(shopify, "orders/create", fixture("order_create"))
    response = deliver(shopify, "returns/approve", fixture("return_approve"))
    assert response.get_json()["result"] == "created"
    assert shopify_return().status == "requested"


def test_returns_decline_rejects_the_return_and_releases_the_hold(order_with_return):
    response = deliver(order_with_return, "returns/decline", fixture("return_decline"))
    assert response.get_json()["result"] == "rejected"
    return_ = shopify_return()
    assert return_.status == "rejected"
    assert return_.note == (
        "declined in Shopify: return_period_ended: Die Rückgabefrist von 30 Tagen ist abgelaufen."
    )
    assert not return_.order.invoices[0].on_hold


def test_a_return_of_items_we_cannot_find_is_422_and_kept(order_with_return):
    strange = fixture("return_request")
    strange["id"] = 8392019999
    strange["return_line_items"][0]["fulfillment_line_item"]["line_item"]["id"] = 1
    response = deliver(order_with_return, "returns/request", strange)
    assert response.status_code == 422
    assert (
        "none names a line item of order 1001 that we know (1)"
        in (response.get_json()["error"]["message"])
    )
    assert count(Return) == 1 and count(QuarantinedInput) == 1


def test_a_refund_of_a_received_return_refunds_it_and_credits_the_invoice(order_with_return):
    return_ = shopify_return()
    transition(return_, "in_transit")
    transition(return_, "received")
    db.session.commit()

    response = deliver(order_with_return, "refunds/create", fixture("refund_create"))

    assert response.get_json()["result"] == "refunded"
    db.session.expire_all()
    assert return_.status == "refunded" and return_.refund_cents == 8995
    invoice = return_.order.invoices[0]
    assert invoice.amount_due_cents == 13480 - 8995 and not invoice.on_hold
    assert "invoice.credited" in kinds()


def test_a_refund_before_the_parcel_is_back_is_recorded_beside_the_return(order_with_return):
    response = deliver(order_with_return, "refunds/create", fixture("refund_create"))

    assert response.status_code == 200
    assert response.get_json()["result"] == "recorded"
    assert shopify_return().status == "requested"
    event = db.session.scalar(select(Event).where(Event.kind == "shopify.refund"))
    assert event.data["refund_cents"] == 8995
    assert "is requested; it can go to" in event.data["note"]


def test_returns_close_leaves_the_status_and_notes_it(order_with_return):
    response = deliver(order_with_return, "returns/close", fixture("return_close"))
    assert response.get_json()["result"] == "noted"
    assert shopify_return().status == "requested"
    assert kinds()[-1] == "shopify.return_closed"


def test_unknown_topics_are_acknowledged_and_ignored_on_purpose(shopify):
    response = deliver(shopify, "products/update", {"id": 8923741029411, "title": "Sneaker"})
    assert response.status_code == 200
    delivery = db.session.scalar(select(InboundDelivery))
    assert delivery.topic == "products/update"
    assert delivery.outcome["result"] == "ignored"
    assert count(Shop) == 0 and count(Order) == 0


# --- pure mapping -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("40 / Schwarz", ("40", "Schwarz")),
        ("Weiß / M", ("M", "Weiß")),
        ("Navy / XXL", ("XXL", "Navy")),
        ("42.5", ("42.5", None)),
        ("W32/L34 / Indigo", ("W32/L34", "Indigo")),
        ("Default Title", (None, None)),
        (None, (None, None)),
    ],
)
def test_size_and_colour_come_from_the_variant_title(title, expected):
    assert split_variant(title) == expected


def test_refund_money_comes_from_transactions_when_money_moved():
    refund = copy.deepcopy(fixture("refund_create"))
    assert refund_cents(refund) == 8995  # no transaction: the refunded lines
    refund["transactions"] = [
        {"kind": "refund", "status": "success", "amount": "84.95"},
        {"kind": "refund", "status": "failure", "amount": "84.95"},
    ]
    assert refund_cents(refund) == 8495
