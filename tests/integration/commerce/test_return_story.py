"""The whole story, through real parts: a customer returns one of two items, the carrier and
the warehouse report through the signed logistics webhook, the worker sends the mails to a
real SMTP server (aiosmtpd) and the dunning webhooks to a real HTTP server that checks our
signature, as the payment provider would. And the webhook worker's retries on its own."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import (
    RETURN_STATUSES,
    CannedResponse,
    Invoice,
    Message,
    Order,
    OutboxItem,
    Return,
    Shipment,
    Ticket,
    WebhookEndpoint,
)
from helpdesk.models.types import utcnow
from helpdesk.services.delivery import deliver_due
from helpdesk.services.returns import ReturnLine, register_return
from helpdesk.services.webhooks_out import deliver_webhooks_due, emit
from tests import factories
from tests.mail_servers import SmtpRecorder, free_port

PAYMENTS_SECRET_ENV = "HELPDESK_TEST_PAYMENTS_SECRET"
LOGISTICS_SECRET = "warehouse-secret"
CUSTOMER = "heike.bauer@example.de"


class PaymentProvider:
    """A payment provider's webhook receiver on 127.0.0.1: it checks the signature with the
    secret it shares with us (from the environment variable `secret_env`) and keeps what it
    got; `answer` is its HTTP status."""

    def __init__(self, secret_env: str) -> None:
        self.secret_env = secret_env
        self.received: list[dict] = []
        self.answer = 200
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                provider.received.append(provider.check(self.headers, raw))
                self.send_response(provider.answer)
                self.end_headers()

            def log_message(self, *args) -> None:  # keep the test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/helpdesk"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def check(self, headers, raw: bytes) -> dict:
        stamp = headers.get("X-Helpdesk-Timestamp", "")
        secret = os.environ.get(self.secret_env, "").encode()
        expected = "sha256=" + hmac.new(secret, f"{stamp}.".encode() + raw, "sha256").hexdigest()
        fresh = stamp.isdigit() and abs(time.time() - int(stamp)) <= 300
        signed = hmac.compare_digest(expected, headers.get("X-Helpdesk-Signature", ""))
        return {
            "verified": signed and fresh,
            "event": headers.get("X-Helpdesk-Event"),
            "body": json.loads(raw),
        }

    def __enter__(self) -> PaymentProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def smtp(app, monkeypatch) -> Iterator[SmtpRecorder]:
    with SmtpRecorder() as server:
        monkeypatch.setitem(app.config, "SMTP_URL", server.url())
        monkeypatch.setitem(app.config, "MAIL_FROM", "service@nordlicht.test")
        yield server


@pytest.fixture
def payment_provider(app, monkeypatch) -> Iterator[PaymentProvider]:
    monkeypatch.setenv(PAYMENTS_SECRET_ENV, "shared-with-the-payment-provider")
    with PaymentProvider(PAYMENTS_SECRET_ENV) as provider:
        db.session.add(
            WebhookEndpoint(
                name="payment provider",
                url=provider.url,
                secret_env=PAYMENTS_SECRET_ENV,
                events=["dunning.*"],
            )
        )
        db.session.commit()
        yield provider


def logistics(client, body: dict):
    """What the carrier or the warehouse sends, signed with the shared secret."""
    raw = json.dumps(body).encode()
    stamp = int(time.time())
    digest = hmac.new(LOGISTICS_SECRET.encode(), f"{stamp}.".encode() + raw, hashlib.sha256)
    response = client.post(
        "/webhooks/logistics",
        data=raw,
        headers={
            "Content-Type": "application/json",
            "X-Helpdesk-Timestamp": str(stamp),
            "X-Helpdesk-Signature": f"sha256={digest.hexdigest()}",
        },
    )
    assert response.status_code == 200, response.json
    return response.json


def test_a_returned_item_is_announced_tracked_refunded_and_never_dunned(
    app, client, smtp, payment_provider, monkeypatch
):
    monkeypatch.setitem(app.config, "LOGISTICS_WEBHOOK_SECRET", LOGISTICS_SECRET)
    order = factories.order(
        "100964",
        CUSTOMER,
        name="Heike Bauer",
        items=(
            ("IDA-39", "Stiefelette „Ida“", "39", 11995, 1),
            ("WOLKE", "Schal „Wolke“", None, 2995, 1),
        ),
    )
    boots = order.items[0]
    return_ = register_return(
        order, [ReturnLine(boots, 1, "too_small")], source="portal", actor="portal"
    )
    db.session.commit()
    number = return_.number

    logistics(
        client,
        {
            "id": "dhl-1",
            "event": "return.in_transit",
            "return": number,
            "carrier": "DHL",
            "tracking_number": "00340434161094083317",
        },
    )
    logistics(
        client,
        {"id": "wh-1", "event": "return.received", "tracking_number": "00340434161094083317"},
    )
    assert logistics(client, {"id": "wh-2", "event": "return.refunded", "return": number}) == {
        "status": "ok",
        "result": "moved",
        "return": number,
        "return_status": "refunded",
    }

    assert deliver_due() == {"sent": 4}
    assert deliver_webhooks_due() == {"sent": 2}

    # The customer heard at every step, in German, by e-mail.
    mails = [m.parsed() for m in smtp.messages]
    assert [m.rcpt_tos for m in smtp.messages] == [(CUSTOMER,)] * 4
    assert all(m["To"] == f"Heike Bauer <{CUSTOMER}>" for m in mails)
    assert all(f"Ihre Retoure {number} zur Bestellung 100964" in m["Subject"] for m in mails)
    confirmation, on_its_way, arrived, refunded = (m.get_content() for m in mails)
    assert "wir haben Ihre Retoure" in confirmation and "1 × Stiefelette „Ida“" in confirmation
    assert "Schal" not in confirmation
    assert "ist auf dem Weg zu uns (Sendungsnummer 00340434161094083317, DHL)" in on_its_way
    assert "bei uns angekommen" in arrived
    assert "haben wir 119,95\u00a0€ erstattet" in refunded

    # The payment provider was told to pause, then to resume, with the right amounts.
    assert [(r["event"], r["verified"]) for r in payment_provider.received] == [
        ("dunning.hold", True),
        ("dunning.release", True),
    ]
    hold, release = (r["body"]["data"] for r in payment_provider.received)
    assert (hold["invoice"], hold["order"], hold["customer_email"]) == (
        "RE-100964",
        "100964",
        CUSTOMER,
    )
    assert (hold["hold_cents"], hold["amount_due_cents"], hold["reason"]) == (
        11995,
        14990,
        number,
    )
    assert (release["invoice"], release["amount_due_cents"], release["released_because"]) == (
        "RE-100964",
        2995,
        "no return is open any more",
    )

    # What is left to pay is the scarf she kept, and reminders may resume for that alone.
    db.session.expire_all()
    invoice = db.session.scalars(select(Invoice)).one()
    assert (invoice.amount_due_cents, invoice.status, invoice.on_hold) == (2995, "open", False)
    assert deliver_due() == {} and deliver_webhooks_due() == {}, "nothing is sent twice"


def test_webhook_worker_retries_a_failing_receiver_later_and_keeps_the_error(
    app, payment_provider, monkeypatch
):
    now = utcnow()
    payment_provider.answer = 500
    emit("dunning.hold", {"invoice": "RE-1"}, now=now)
    db.session.commit()

    assert deliver_webhooks_due(now=now) == {"retrying": 1}
    item = db.session.scalars(select(OutboxItem)).one()
    assert (item.status, item.attempts, item.last_error) == (
        "pending",
        1,
        "HTTP 500 Internal Server Error",
    )
    assert item.next_attempt_at == now + timedelta(minutes=1)
    assert deliver_webhooks_due(now=now + timedelta(seconds=30)) == {}, "not due yet"

    payment_provider.answer = 204
    assert deliver_webhooks_due(now=now + timedelta(minutes=1)) == {"sent": 1}
    db.session.expire_all()
    item = db.session.scalars(select(OutboxItem)).one()
    assert (item.status, item.attempts, item.last_error) == ("sent", 2, None)
    assert [r["verified"] for r in payment_provider.received] == [True, True]
    assert len({r["body"]["id"] for r in payment_provider.received}) == 1, "the same event"


def test_webhook_worker_retries_an_unreachable_receiver(app, monkeypatch):
    monkeypatch.setenv(PAYMENTS_SECRET_ENV, "secret")
    nobody = f"http://127.0.0.1:{free_port()}/hooks"
    db.session.add(
        WebhookEndpoint(
            name="gone", url=nobody, secret_env=PAYMENTS_SECRET_ENV, events=["dunning.*"]
        )
    )
    now = utcnow()
    emit("dunning.release", {"invoice": "RE-1"}, now=now)
    db.session.commit()

    assert deliver_webhooks_due(now=now) == {"retrying": 1}
    item = db.session.scalars(select(OutboxItem)).one()
    assert item.status == "pending" and item.attempts == 1
    assert item.last_error.startswith(f"could not reach {nobody}: ")
    assert item.next_attempt_at == now + timedelta(minutes=1)
    assert item.payload["attempts"][-1]["error"] == item.last_error


def test_webhook_worker_says_which_secret_variable_is_missing(app, payment_provider, monkeypatch):
    monkeypatch.delenv(PAYMENTS_SECRET_ENV)
    now = utcnow()
    emit("dunning.hold", {"invoice": "RE-1"}, now=now)
    db.session.commit()

    assert deliver_webhooks_due(now=now) == {"retrying": 1}
    item = db.session.scalars(select(OutboxItem)).one()
    assert item.last_error == f"set {PAYMENTS_SECRET_ENV} to the endpoint's signing secret"
    assert (item.status, item.attempts) == ("pending", 1)
    assert payment_provider.received == [], "nothing unsigned leaves"


def test_the_demo_tells_the_story_with_real_orders_behind_its_messages(demo_data):
    from helpdesk.demo import load_demo_data

    # Heike's message is linked to her order: the boots arrived, reminders are paused.
    ticket = db.session.scalars(
        select(Ticket).where(Ticket.subject == "Zahlungserinnerung trotz Rücksendung")
    ).one()
    assert "Ich habe die Schuhe schon vor zwei Wochen zurückgeschickt" in ticket.messages[0].text
    assert ticket.status == "new" and ticket.order.number == "100964"
    (return_,) = ticket.order.returns
    assert return_.status == "received" and [i.order_item.name for i in return_.items] == [
        "Stiefelette „Ida“"
    ]
    invoice = ticket.order.invoices[0]
    assert invoice.on_hold and invoice.hold_cents == 11995 and invoice.reminder_level == 1
    assert invoice.last_reminder_at < invoice.hold_since, "the reminder left before the hold"

    # Every order number the demo's customers and agents name is a real order.
    named = set()
    for text in db.session.scalars(select(Message.text)):
        named.update(re.findall(r"(?<![\d+])1\d{5}(?!\d)", text))
    orders = set(db.session.scalars(select(Order.number)))
    assert len(named) >= 30 and named <= orders, named - orders

    statuses = set(db.session.scalars(select(Return.status)))
    assert statuses == set(RETURN_STATUSES)
    carriers = set(db.session.scalars(select(Shipment.carrier)))
    assert {"DHL", "DPD", "Hermes", "GLS", "UPS"} <= carriers
    assert db.session.scalar(select(func.count()).where(Invoice.reminder_level > 0)) >= 4
    assert db.session.scalar(select(func.count(CannedResponse.id))) > 0
    assert db.session.scalar(select(func.count(OutboxItem.id))) == 0, "demo history is not sent"

    def counts() -> tuple[int, ...]:
        return tuple(db.session.scalar(select(func.count(m.id))) for m in (Order, Return, Message))

    before = counts()
    load_demo_data()
    db.session.commit()
    assert counts() == before, "loading twice adds nothing"
