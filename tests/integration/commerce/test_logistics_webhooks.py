"""Carrier and warehouse webhooks at POST /webhooks/logistics, signed and sent for real
through the test client: signatures, redelivery, lookups by tracking number, refusals."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import (
    Event,
    InboundDelivery,
    Message,
    QuarantinedInput,
    Return,
    Shipment,
)
from helpdesk.services.returns import ReturnLine, register_return
from tests import factories

SECRET = "carrier-signing-secret"
TRACKING = "00340434161094015902"


@pytest.fixture
def logistics(app, monkeypatch):
    """The receiver switched on with the carrier's secret."""
    monkeypatch.setitem(app.config, "LOGISTICS_WEBHOOK_SECRET", SECRET)
    return app


def signed(raw: bytes, timestamp: int, secret: str = SECRET) -> str:
    """The signature as documented: HMAC-SHA256 over "<timestamp>.<raw body>"."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def deliver(
    client,
    body,
    *,
    timestamp: int | None = None,
    signature: str | None = None,
    headers: dict | None = None,
):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    sent = {
        "Content-Type": "application/json",
        "X-Helpdesk-Timestamp": str(timestamp),
        "X-Helpdesk-Signature": signed(raw, timestamp) if signature is None else signature,
    }
    return client.post("/webhooks/logistics", data=raw, headers=sent | (headers or {}))


@pytest.fixture
def a_return(app):
    """Anna's return of the sneakers (of sneakers and two shirts), just registered."""
    order = factories.order()
    return_ = register_return(order, [ReturnLine(order.items[0], 1, "too_small")], source="portal")
    db.session.commit()
    return return_


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def events(kind: str) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def status_of(return_: Return) -> str:
    db.session.expire_all()
    return db.session.get(Return, return_.id).status


def test_unsigned_wrongly_signed_and_old_requests_store_nothing(logistics, client, a_return):
    body = {"id": "d-1", "event": "return.in_transit", "return": a_return.number}
    raw = json.dumps(body).encode()
    now = int(time.time())
    before = (count(Event), count(Message), count(InboundDelivery), count(QuarantinedInput))
    attempts = {
        "no signature": client.post(
            "/webhooks/logistics", data=raw, headers={"Content-Type": "application/json"}
        ),
        "other secret": deliver(client, body, signature=signed(raw, now, "guessed")),
        "other body": deliver(client, body, signature=signed(raw + b" ", now)),
        "signed, but six minutes old": deliver(client, body, timestamp=now - 360),
        "not a number": deliver(client, body, headers={"X-Helpdesk-Timestamp": "soon"}),
    }
    for what, response in attempts.items():
        assert response.status_code == 401, what
        assert response.json["error"]["code"] == "bad_signature", what
    assert (
        "more than 5 minutes off"
        in attempts["signed, but six minutes old"].json["error"]["message"]
    )
    after = (count(Event), count(Message), count(InboundDelivery), count(QuarantinedInput))
    assert after == before
    assert status_of(a_return) == "requested"


def test_without_a_secret_the_receiver_is_off_and_says_which_variable_to_set(app, client):
    response = deliver(client, {"id": "d-1", "event": "return.received", "return": "R-1"})
    assert response.status_code == 503
    assert "HELPDESK_LOGISTICS_WEBHOOK_SECRET" in response.json["error"]["message"]


def test_a_redelivered_event_changes_nothing_the_second_time(logistics, client, a_return):
    body = {
        "id": "dhl-7781",
        "event": "return.in_transit",
        "return": a_return.number,
        "carrier": "DHL",
        "tracking_number": TRACKING,
    }
    first = deliver(client, body)
    assert first.status_code == 200, first.json
    assert first.json == {
        "status": "ok",
        "result": "moved",
        "return": a_return.number,
        "return_status": "in_transit",
    }
    notified = count(Message)

    again = deliver(client, body)  # the carrier did not see our answer and sends it again
    assert again.status_code == 200
    assert again.json["status"] == "duplicate" and again.json["return_status"] == "in_transit"
    assert count(Message) == notified, "the customer is told once"
    assert len(events("return.in_transit")) == 1
    assert count(InboundDelivery) == 1
    db.session.expire_all()
    return_ = db.session.get(Return, a_return.id)
    assert (return_.status, return_.carrier, return_.tracking_number) == (
        "in_transit",
        "DHL",
        TRACKING,
    )


def test_the_warehouse_finds_the_return_by_its_tracking_number(logistics, client, a_return):
    deliver(
        client,
        {
            "id": "c-1",
            "event": "return.in_transit",
            "return": a_return.number,
            "tracking_number": "0034 0434 1610 9401 5902",
        },
    )
    scanned = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)
    berlin = scanned.astimezone(timezone(timedelta(hours=1))).isoformat()  # "...+01:00"
    received = deliver(
        client,
        {
            "id": "w-1",
            "event": "return.received",
            "tracking_number": TRACKING,
            "occurred_at": berlin,
        },
    )
    assert received.status_code == 200, received.json
    assert received.json["return"] == a_return.number
    db.session.expire_all()
    return_ = db.session.get(Return, a_return.id)
    assert return_.status == "received"
    assert return_.history[-1] == {
        "status": "received",
        "at": scanned.isoformat(),
        "actor": "logistics",
    }
    assert return_.status_changed_at == scanned

    unknown = deliver(
        client, {"id": "w-2", "event": "return.received", "tracking_number": "00340434161094099999"}
    )
    assert unknown.status_code == 422
    assert unknown.json["error"]["message"] == (
        "no return with tracking number 00340434161094099999"
    )
    kept = db.session.scalars(select(QuarantinedInput)).one()
    assert json.loads(kept.data)["id"] == "w-2", "what we could not use is kept for an admin"
    assert _deliveries() == ["c-1", "w-1"]


def test_an_illegal_step_is_refused_with_the_reason_and_can_be_retried_later(
    logistics, client, a_return
):
    refund = {
        "id": "wh-55",
        "event": "return.refunded",
        "return": a_return.number,
        "refund_cents": 8995,
    }
    refused = deliver(client, refund)
    assert refused.status_code == 409
    assert refused.json["error"]["message"] == (
        f"return {a_return.number} is requested; it can go to label_created, in_transit, "
        "received, rejected, not refunded"
    )
    (event,) = events("return.transition_refused")
    assert event.data["delivery_id"] == "wh-55" and event.data["return"] == a_return.number
    assert event.data["reason"] == refused.json["error"]["message"]
    assert event.customer_id == a_return.order.customer_id
    assert status_of(a_return) == "requested" and _deliveries() == []
    invoice = db.session.get(Return, a_return.id).order.invoices[0]
    assert invoice.amount_due_cents == 8995 + 2 * 1995, "no money moved"

    # The parcel arrives; the warehouse retries the refund under the same id, now in order.
    deliver(client, {"id": "wh-54", "event": "return.received", "return": a_return.number})
    retried = deliver(client, refund)
    assert retried.status_code == 200 and retried.json["return_status"] == "refunded"
    assert _deliveries() == ["wh-54", "wh-55"]


def test_bad_bodies_get_a_clear_error_and_are_kept(logistics, client, a_return):
    cases = {
        b"not json": "the body is not JSON",
        b"[1, 2]": "the body is JSON but not an object",
        json.dumps({"event": "return.received", "return": "R-1"}).encode(): "id (the delivery "
        "id) is required",
        json.dumps({"id": "x", "event": "return.lost", "return": "R-1"}).encode(): "event must "
        "be one of return.in_transit",
        json.dumps({"id": "x", "event": "return.received"}).encode(): "give the return's number "
        "or a tracking_number",
        json.dumps(
            {"id": "x", "event": "return.refunded", "return": "R-1", "refund_cents": 89.95}
        ).encode(): "refund_cents must be a whole number",
        json.dumps(
            {
                "id": "x",
                "event": "return.received",
                "return": "R-1",
                "occurred_at": "2026-01-05 09:30",
            }
        ).encode(): "occurred_at must be an ISO 8601 time with a zone",
    }
    for raw, message in cases.items():
        response = deliver(client, raw)
        assert response.status_code == 400, raw
        assert response.json["error"]["message"].startswith(message), response.json
    assert count(QuarantinedInput) == len(cases)
    assert _deliveries() == [] and status_of(a_return) == "requested"
    assert deliver(client, {"id": "x", "event": "return.received", "return": "R-999"}).json == {
        "error": {"code": "unknown_return", "message": "no return R-999"}
    }


def test_the_replacement_parcel_of_an_exchange_completes_it(logistics, client):
    order = factories.order(
        stock={"SHOE-BLK-40": ("Sneaker Lauf", "40", 2), "SHOE-BLK-41": ("Sneaker Lauf", "41", 2)}
    )
    exchange = register_return(
        order, [ReturnLine(order.items[0], 1, "too_small", "SHOE-BLK-41")], resolution="exchange"
    )
    refund = register_return(order, [ReturnLine(order.items[1], 1, "style")])
    db.session.commit()
    number = exchange.number

    early = deliver(
        client,
        {
            "id": "s-0",
            "event": "shipment.in_transit",
            "return": number,
            "carrier": "DPD",
            "tracking_number": "01505523349981",
        },
    )
    assert early.status_code == 409 and "is requested" in early.json["error"]["message"]
    assert count(Shipment) == 0, "no parcel is recorded for a refused step"

    deliver(client, {"id": "w-1", "event": "return.received", "return": number})
    shipped = deliver(
        client,
        {
            "id": "s-1",
            "event": "shipment.in_transit",
            "return": number,
            "carrier": "DPD",
            "tracking_number": "01505523349981",
        },
    )
    assert shipped.status_code == 200, shipped.json
    assert shipped.json["return_status"] == "exchanged"
    parcel = db.session.scalars(select(Shipment)).one()
    assert (parcel.kind, parcel.carrier, parcel.status, parcel.order_id) == (
        "exchange",
        "DPD",
        "in_transit",
        order.id,
    )
    assert status_of(exchange) == "exchanged"
    told = db.session.scalars(select(Message).order_by(Message.id.desc())).first()
    assert told.details["moment"] == "return_exchanged"
    assert "01505523349981" in told.text and "SHOE-BLK-41" in told.text

    delivered = deliver(
        client, {"id": "s-2", "event": "shipment.delivered", "tracking_number": "01505523349981"}
    )
    assert delivered.status_code == 200
    db.session.expire_all()
    assert db.session.scalars(select(Shipment)).one().status == "delivered"

    # A refund asks for no replacement: a parcel "for" it is refused.
    deliver(client, {"id": "w-2", "event": "return.received", "return": refund.number})
    wrong = deliver(
        client,
        {
            "id": "s-3",
            "event": "shipment.in_transit",
            "return": refund.number,
            "tracking_number": "01505523349999",
        },
    )
    assert wrong.status_code == 409
    assert wrong.json["error"]["message"] == (
        f"return {refund.number} asks for a refund, not an exchange"
    )
    assert count(Shipment) == 1


def _deliveries() -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(InboundDelivery.delivery_id)))
