"""Fuzzing the Shopify webhook with Hypothesis, through the real endpoint (signed bodies,
both databases): orders, fulfillments, refunds and returns shaped like Shopify's but with
any value anywhere. Every answer is 200 (stored or ignored) or a 4xx naming what is wrong
(the body then kept in the quarantine), never a server error. Bounded example counts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import QuarantinedInput
from tests.unit.test_fuzz_parsers import _shaped_like

SECRET = "shopify-fuzz-secret"
ORDER = {
    "id": 5839201746211, "name": "#100457", "email": "helga@example.de", "currency": "EUR",
    "created_at": "2024-11-03T14:22:10+01:00", "total_price": "129.85",
    "financial_status": "pending", "customer_locale": "de-DE",
    "customer": {"first_name": "Helga", "last_name": "Brandt", "email": "helga@example.de"},
    "shipping_address": {"zip": "10115", "name": "Helga Brandt"},
    "line_items": [{"id": 1, "sku": "SHOE-40", "title": "Sneaker", "variant_title": "40 / Schwarz",
                    "quantity": 1, "price": "89.95"}],
    "fulfillments": [{"id": 9, "tracking_number": "0034", "tracking_company": "DHL",
                      "status": "success", "created_at": "2024-11-04T10:00:00Z"}],
}  # fmt: skip
REFUND = {"id": 77, "order_id": 5839201746211, "created_at": "2024-11-10T10:00:00Z",
          "transactions": [{"kind": "refund", "amount": "89.95", "status": "success"}],
          "refund_line_items": [{"line_item_id": 1, "quantity": 1}]}  # fmt: skip
TOPICS = {
    "orders/create": ORDER,
    "orders/updated": ORDER,
    "fulfillments/create": {**ORDER["fulfillments"][0], "order_id": ORDER["id"]},
    "refunds/create": REFUND,
    "returns/request": {"id": 3, "order": {"id": ORDER["id"]}, "name": "R1", "status": "REQUESTED"},
}  # fmt: skip


@pytest.fixture
def shopify(app, monkeypatch):
    monkeypatch.setitem(app.config, "SHOPIFY_WEBHOOK_SECRET", SECRET)
    return app.test_client()


def _post(client, topic: str, raw: bytes, delivery: int):
    signature = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest())
    return client.post(
        "/webhooks/shopify",
        data=raw,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": "demo-shop.myshopify.com",
            "X-Shopify-Hmac-Sha256": signature.decode(),
            "X-Shopify-Webhook-Id": f"fuzz-{delivery}",
        },
    )


def test_shopify_bodies_are_stored_or_refused_clearly(shopify):
    deliveries = iter(range(10**6))

    # The store changes with every example (orders stored, deliveries seen), so a failure
    # is reported as found, not shrunk: shrinking would replay it against another store.
    @settings(max_examples=50, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.sampled_from(sorted(TOPICS)).flatmap(
        lambda topic: st.tuples(st.just(topic), _shaped_like(TOPICS[topic]))))  # fmt: skip
    def run(pair):
        topic, body = pair
        response = _post(shopify, topic, json.dumps(body).encode(), next(deliveries))
        assert response.status_code in (200, 400, 409, 422), (response.status_code, body)
        if response.status_code != 200:
            assert response.get_json()["error"]["message"]

    run()


def test_a_value_of_the_wrong_kind_is_refused_not_a_server_error(shopify):
    body = {**ORDER, "customer": ["not", "an", "object"]}  # once a 500
    response = _post(shopify, "orders/create", json.dumps(body).encode(), 2)
    assert response.status_code == 422
    assert (
        "customer" in response.get_json()["error"]["message"]
        or "shape" in (response.get_json()["error"]["message"])
    )


def test_refused_bodies_are_quarantined(shopify):
    response = _post(shopify, "orders/create", b'{"id": "not a number"}', 1)
    assert response.status_code in (400, 422)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(QuarantinedInput)) == 1
