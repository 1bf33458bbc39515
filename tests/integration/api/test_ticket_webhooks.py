"""Ticket events reach subscribed endpoints, signed, through the outbox; the admin page
shows each endpoint's deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import OutboxItem, Ticket, WebhookEndpoint
from helpdesk.services.events import record_event
from helpdesk.services.webhooks_out import add_endpoint, deliver_webhooks_due
from tests import factories
from tests.integration.api.conftest import bearer, token_for

SECRET = "whsec-tests"


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict, dict]] = []
    answer = 204

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        stamp = self.headers["X-Helpdesk-Timestamp"]
        expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
        assert self.headers["X-Helpdesk-Signature"] == f"sha256={expected.hexdigest()}"
        type(self).received.append((dict(self.headers), json.loads(body)))
        self.send_response(type(self).answer)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv("TICKET_HOOK_SECRET", SECRET)
    Receiver.received, Receiver.answer = [], 204
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    server.shutdown()
    server.server_close()


def queued_types() -> list[str]:
    items = db.session.scalars(select(OutboxItem).where(OutboxItem.kind == "webhook")
                               .order_by(OutboxItem.id))  # fmt: skip
    return [item.payload["body"]["type"] for item in items]


def test_ticket_events_are_signed_and_delivered(app, client, receiver):
    add_endpoint("crm", receiver, "TICKET_HOOK_SECRET", ["ticket.*"])
    db.session.commit()
    created = ingest(factories.inbound(text="Wo ist mein Paket?"))
    db.session.commit()
    number = created.ticket.id
    headers = bearer(token_for("agent"))
    client.patch(f"/api/v1/tickets/{number}", json={"priority": "high"}, headers=headers)
    client.post(f"/api/v1/tickets/{number}/messages",
                json={"kind": "reply", "text": "Ist unterwegs.", "status": "solved"},
                headers=headers)  # fmt: skip
    client.post(f"/api/v1/tickets/{number}/messages", json={"kind": "note", "text": "ok"},
                headers=headers)  # fmt: skip
    assert queued_types() == ["ticket.created", "ticket.updated", "ticket.replied",
                              "ticket.solved"]  # fmt: skip
    counts = deliver_webhooks_due(limit=20)
    assert counts["sent"] == 4
    bodies = [body for _headers, body in Receiver.received]
    assert [b["type"] for b in bodies] == queued_types()
    assert {b["data"]["ticket"]["number"] for b in bodies} == {number}
    assert bodies[1]["data"]["details"] == {"old": "normal", "new": "high"}
    assert "Ist unterwegs" not in json.dumps(bodies)  # no message text leaves this way


def test_a_redelivered_message_sends_nothing_new(app, receiver):
    add_endpoint("crm", receiver, "TICKET_HOOK_SECRET", ["ticket.created"])
    db.session.commit()
    message = factories.inbound(text="Hallo")
    ingest(message)
    db.session.commit()
    ingest(message)
    db.session.commit()
    assert queued_types() == ["ticket.created"]


def test_escalation_and_unsubscribed_types(app, receiver):
    add_endpoint("care", receiver, "TICKET_HOOK_SECRET", ["ticket.escalated"])
    db.session.commit()
    ticket = db.session.get(Ticket, ingest(factories.inbound("instagram", sender="ig-1")).ticket.id)
    record_event("ticket.escalated", ticket=ticket, to=ticket.id)
    record_event("ticket.priority_changed", ticket=ticket, old="normal", new="high")
    db.session.commit()
    assert queued_types() == ["ticket.escalated"]


def test_failed_deliveries_show_in_the_admin_log(app, admin_client, receiver):
    endpoint = add_endpoint("crm", receiver, "TICKET_HOOK_SECRET", ["ticket.*"])
    db.session.commit()
    Receiver.answer = 500
    ingest(factories.inbound(text="Hallo"))
    db.session.commit()
    assert deliver_webhooks_due()["retrying"] == 1
    page = admin_client.get(f"/admin/webhooks?hook={endpoint.id}").get_data(as_text=True)
    assert "ticket.created" in page and "HTTP 500" in page and ">500<" in page


def test_switching_an_endpoint_off_is_audited(app, admin_client, receiver):
    from tests.conftest import csrf_token

    endpoint = add_endpoint("crm", receiver, "TICKET_HOOK_SECRET", ["ticket.*"])
    db.session.commit()
    token = csrf_token(admin_client, "/admin/webhooks")
    response = admin_client.post(f"/admin/webhooks/{endpoint.id}/active",
                                 data={"active": "0", "csrf_token": token})  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint.id).active is False
    audit = admin_client.get("/admin/audit?area=webhook").get_data(as_text=True)
    assert "webhook.disabled" in audit and "crm" in audit
