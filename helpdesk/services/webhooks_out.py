"""Outbound webhooks: tell other systems what happened, signed, retried, logged.

An event is written to the outbox in the same transaction as the change it
reports, once per subscribed endpoint; the worker sends it later. The receiver
checks `X-Helpdesk-Signature: sha256=<hex>`, an HMAC-SHA256 with the shared
secret over "<timestamp>.<raw body>", where the timestamp is the
`X-Helpdesk-Timestamp` header (Unix seconds), and refuses old timestamps so a
captured request cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import urllib.error
import urllib.request
import uuid
from collections import Counter
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.orm import ORMExecuteState, Session, object_session

from helpdesk.extensions import db
from helpdesk.models import OutboxItem, WebhookEndpoint
from helpdesk.models.types import utcnow
from helpdesk.services.delivery import RETRY_DELAYS, SEND_LEASE

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10


#: Where `_active_endpoints` keeps what it read, in the session's `info`, for the rest of
#: the transaction.
_CACHE = "webhooks_out.active_endpoints"
_ACTIVE = (
    select(WebhookEndpoint.id, WebhookEndpoint.events)
    .where(WebhookEndpoint.active.is_(True))
    .order_by(WebhookEndpoint.id)
)
_ENDPOINTS_TABLE = WebhookEndpoint.__table__


def _subscribed(event_type: str, *, flush: bool = True) -> list[int]:
    """The active endpoints subscribed to `event_type`. `flush=False` for trail events: a
    service may record one before it has finished building the rows it belongs to."""
    return [
        endpoint_id
        for endpoint_id, patterns in _active_endpoints(flush=flush)
        if any(fnmatchcase(event_type, pattern) for pattern in patterns)
    ]


def _active_endpoints(*, flush: bool) -> list[tuple[int, list[str]]]:
    """The active endpoints and their patterns, read once per transaction.

    A rule that acts records half a dozen trail events, and each would otherwise ask the
    database again. The copy is dropped when the transaction ends or a savepoint is rolled
    back, and whenever the session writes an endpoint (see `_watch_endpoints`), so an
    endpoint created or switched off in this process counts from the next event on.
    """
    session = db.session()
    if flush and session.autoflush:
        session.flush()  # what the query's autoflush did before there was a copy
    endpoints = session.info.get(_CACHE)
    if endpoints is None:
        with session.no_autoflush:
            endpoints = [(row.id, row.events) for row in session.execute(_ACTIVE)]
        session.info[_CACHE] = endpoints
    return endpoints


def _forget_endpoints(session: Session | None) -> None:
    if session is not None:
        session.info.pop(_CACHE, None)


def _endpoint_written(mapper, connection, target: WebhookEndpoint) -> None:
    _forget_endpoints(object_session(target))


def _endpoints_changed_by_statement(state: ORMExecuteState) -> None:
    """An UPDATE, DELETE or INSERT on the endpoints through the session."""
    if not state.is_select and getattr(state.statement, "table", None) is _ENDPOINTS_TABLE:
        _forget_endpoints(state.session)


def _transaction_ended(session: Session, transaction) -> None:
    if transaction.parent is None:
        _forget_endpoints(session)


def _rolled_back(session: Session, previous_transaction) -> None:
    _forget_endpoints(session)  # also a savepoint's: an endpoint written in it is gone


def _watch_endpoints() -> None:
    """Keep `_active_endpoints`' copy honest (once per process)."""
    if event.contains(Session, "after_transaction_end", _transaction_ended):
        return
    for kind in ("after_insert", "after_update", "after_delete"):
        event.listen(WebhookEndpoint, kind, _endpoint_written)
    event.listen(Session, "do_orm_execute", _endpoints_changed_by_statement)
    event.listen(Session, "after_transaction_end", _transaction_ended)
    event.listen(Session, "after_soft_rollback", _rolled_back)


_watch_endpoints()


def _row(endpoint_id: int, event_type: str, data: dict[str, Any], now: datetime) -> dict:
    body = {"id": uuid.uuid4().hex, "type": event_type, "created_at": now.isoformat(), "data": data}
    return {
        "kind": "webhook",
        "payload": {"endpoint_id": endpoint_id, "body": body},
        "idempotency_key": f"webhook:{endpoint_id}:{body['id']}",
        "next_attempt_at": now,
    }


def emit(event_type: str, data: dict[str, Any], *, now: datetime | None = None) -> list[OutboxItem]:
    """Queue `event_type` with `data` for every active endpoint subscribed to it."""
    return _queue(_subscribed(event_type), event_type, data, now or utcnow())


def _queue(endpoint_ids: list[int], event_type: str, data: dict, now: datetime) -> list:
    items = [OutboxItem(**_row(endpoint_id, event_type, data, now)) for endpoint_id in endpoint_ids]
    db.session.add_all(items)
    return items


#: Trail events (services/events.py) that other systems hear of, as webhook types.
TICKET_WEBHOOKS: dict[str, str] = {
    "ticket.created": "ticket.created",
    "ticket.assigned": "ticket.updated",
    "ticket.priority_changed": "ticket.updated",
    "ticket.team_changed": "ticket.updated",
    "ticket.tag_added": "ticket.updated",
    "ticket.tag_removed": "ticket.updated",
    "ticket.status_changed": "ticket.updated",  # ticket.solved when it becomes solved
    "message.sent": "ticket.replied",
    "ticket.escalated": "ticket.escalated",
}


def emit_for_event(event: Any) -> list[OutboxItem]:
    """The webhook for a trail event that is one (see TICKET_WEBHOOKS), else nothing.

    The payload names the ticket and what changed, never message text: a receiver that
    needs more asks the API with its own token.
    """
    event_type = TICKET_WEBHOOKS.get(event.kind)
    if event_type is None or event.ticket is None:
        return []
    if event.kind == "ticket.status_changed" and event.data.get("new") == "solved":
        event_type = "ticket.solved"
    if event.kind == "message.sent" and event.data.get("author_kind") != "agent":
        return []
    endpoint_ids = _subscribed(event_type, flush=False)
    if not endpoint_ids:
        return []
    ticket = event.ticket
    if ticket.id is None:
        db.session.flush()  # a ticket created in this transaction needs its number
    data = {
        "ticket": ticket_summary(ticket),
        "change": event.kind,
        "details": {k: v for k, v in (event.data or {}).items() if k != "text"},
        "by": event.actor,
    }
    if event.message is not None:
        data["message_id"] = event.message.id
    return _queue(endpoint_ids, event_type, data, utcnow())


def ticket_summary(ticket: Any) -> dict[str, Any]:
    return {
        "number": ticket.id,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "assignee_id": ticket.assignee_id,
        "team_id": ticket.team_id,
    }


def emit_ingested(conn: Any, events: list[dict[str, Any]], now: datetime) -> None:
    """ticket.created for the tickets ingest opened, written on ingest's own connection
    inside its savepoint, so a message that turns out to be a redelivery sends nothing."""
    created = [e for e in events if e["kind"] == "ticket.created" and e.get("ticket_id")]
    endpoint_ids = _subscribed("ticket.created") if created else []
    rows = [
        _row(endpoint_id, "ticket.created", {
            "ticket": {"number": e["ticket_id"], "status": "new", "priority": "normal",
                       "channel": e["data"].get("channel"), "assignee_id": None,
                       "team_id": None},
            "change": "ticket.created", "details": e["data"], "by": "ingest"}, now)
        for e in created
        for endpoint_id in endpoint_ids
    ]  # fmt: skip
    if rows:
        conn.execute(insert(OutboxItem), [{**r, "status": "pending", "attempts": 0,
                                           "created_at": now} for r in rows])  # fmt: skip


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def deliver_webhooks_due(*, now: datetime | None = None, limit: int = 100) -> Counter:
    """Send due webhook rows one by one, as `delivery.deliver_due` does for messages:
    claim with a lease, send with no transaction open, record the outcome."""
    now = now or utcnow()
    query = (
        select(OutboxItem)
        .where(
            OutboxItem.status == "pending",
            OutboxItem.next_attempt_at <= now,
            OutboxItem.kind == "webhook",
        )
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    counts: Counter = Counter()
    for _ in range(limit):
        item = db.session.scalars(query).first()
        if item is None:
            break
        counts[_deliver(item, now)] += 1
        db.session.commit()
    return counts


def _deliver(item: OutboxItem, now: datetime) -> str:
    item.attempts += 1
    item.next_attempt_at = now + SEND_LEASE
    endpoint = db.session.get(WebhookEndpoint, item.payload["endpoint_id"])
    if endpoint is None or not endpoint.active:
        return _outcome(item, now, error="the endpoint was removed or switched off", final=True)
    secret = os.environ.get(endpoint.secret_env)
    if not secret:
        return _outcome(
            item, now, error=f"set {endpoint.secret_env} to the endpoint's signing secret"
        )
    url, item_id = endpoint.url, item.id
    body = json.dumps(item.payload["body"], separators=(",", ":"), sort_keys=True).encode()
    db.session.commit()  # the claim; nothing stays open while the receiver is slow
    status, error = _post(url, body, secret, item.payload["body"])
    item = db.session.get(OutboxItem, item_id)
    return _outcome(item, now, status=status, error=error)


def _post(url: str, body: bytes, secret: str, event: dict) -> tuple[int | None, str | None]:
    timestamp = int(utcnow().timestamp())
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "helpdesk-webhooks/1",
            "X-Helpdesk-Event": event["type"],
            "X-Helpdesk-Delivery": event["id"],
            "X-Helpdesk-Timestamp": str(timestamp),
            "X-Helpdesk-Signature": signature(secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, None
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return None, f"could not reach {url}: {getattr(error, 'reason', error)}"


def _outcome(
    item: OutboxItem,
    now: datetime,
    *,
    status: int | None = None,
    error: str | None = None,
    final: bool = False,
) -> str:
    attempts = [*item.payload.get("attempts", []), {"at": now.isoformat(), "status": status,
                                                    "error": error}]  # fmt: skip
    item.payload = {**item.payload, "attempts": attempts[-10:]}
    if error is None:
        item.status, item.sent_at, item.last_error = "sent", now, None
        return "sent"
    item.last_error = error
    # Any answer but 2xx is tried again (a receiver's 401 is often a secret being rotated).
    if final or item.attempts > len(RETRY_DELAYS):
        item.status = "dead"
        log.warning("webhook %s given up after %d attempts: %s", item.id, item.attempts, error)
        return "failed"
    item.next_attempt_at = now + RETRY_DELAYS[item.attempts - 1]
    return "retrying"


def add_endpoint(name: str, url: str, secret_env: str, events: list[str]) -> WebhookEndpoint:
    """Subscribe `url` to `events` (patterns such as "dunning.*"), signed with the secret in
    the environment variable `secret_env`. Raises `InvalidInput` with what to fix."""
    from urllib.parse import urlsplit

    from helpdesk.errors import InvalidInput

    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise InvalidInput(f"{url!r} is not an http(s) URL")
    if not secret_env.isidentifier() or not secret_env.isupper():
        raise InvalidInput("--secret-env names an environment variable, e.g. PAYMENT_HOOK_SECRET")
    events = [e.strip() for e in events if e.strip()]
    if not events:
        raise InvalidInput("subscribe to at least one event type, e.g. --event 'dunning.*'")
    if db.session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.name == name)):
        raise InvalidInput(f"there is already an endpoint called {name!r}")
    endpoint = WebhookEndpoint(name=name, url=url, secret_env=secret_env, events=events)
    db.session.add(endpoint)
    return endpoint
