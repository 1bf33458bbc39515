"""The receiving flow the social webhooks share (meta.py, whatsapp.py, x.py).

Each check before the next:

1. the secret is not configured: 503, naming the variable;
2. the body is larger than HELPDESK_SOCIAL_WEBHOOK_MAX_BYTES: 413, nothing read or stored;
3. the signature does not sign the raw body: 401 (missing) or 403 (wrong), nothing stored;
4. the body is not JSON, or not in the platform's shape: 400 with the reason, the bytes
   kept in the quarantine. One event that cannot be read in a body that can (a message
   without its id) is quarantined on its own and counted as "rejected" in the 200
   answer: the platform would resend the same body forever, and the body's other
   messages must not wait for it;
5. the same body again: 200 "duplicate", nothing changes (the delivery record's unique
   key refuses it at the commit, and its changes are rolled back);
6. messages go through `ingest` (idempotent on the platform's message id; first without
   its savepoints, see ATTEMPTS), echoes and receipts are applied, unknown events are
   logged and acknowledged; the delivery is recorded and committed, and only then
   answered 200.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import current_app, jsonify, request
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from channel_adapters.base import ParseError
from channel_adapters.social.common import BadJSON, SocialDelivery
from helpdesk.extensions import db
from helpdesk.models import InboundDelivery, QuarantinedInput
from helpdesk.models.types import utcnow
from helpdesk.services.mail_intake import quarantine
from helpdesk.services.social_intake import store_delivery
from helpdesk.webhooks import json_error

JSON = "application/json"
#: The first attempt stores without ingest's savepoints (two round trips less a message):
#: a message stored before (the same message in another body) or a race makes it fail
#: as a whole, and it is rolled back. Then up to two attempts with them, the second for
#: a concurrent copy of the same delivery that committed first.
ATTEMPTS = 3
#: Larger bodies are refused (HELPDESK_SOCIAL_WEBHOOK_MAX_BYTES); Meta's are a few kB.
DEFAULT_MAX_BYTES = 1024 * 1024


class Refusal(Exception):
    """A request answered with an error before anything is stored."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code

    def response(self):
        return json_error(self.status, self.code, str(self))


def require_secret(key: str, variable: str, what: str) -> str:
    secret = current_app.config.get(key)
    if not secret:
        raise Refusal(503, "not_configured",
                      f"{what} webhooks are switched off: set {variable}")  # fmt: skip
    return secret


def read_body() -> bytes:
    """The raw body, or 413 when it is larger than the limit (checked while reading, so
    a body without Content-Length cannot get past it either)."""
    limit = int(current_app.config.get("SOCIAL_WEBHOOK_MAX_BYTES") or DEFAULT_MAX_BYTES)
    if request.content_length is not None and request.content_length > limit:
        raise Refusal(413, "too_large", f"the body is larger than {limit} bytes")
    request.max_content_length = limit
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise Refusal(413, "too_large", f"the body is larger than {limit} bytes") from None


def check_signature(matches: bool, header: str, given: str | None) -> None:
    if not given:
        raise Refusal(401, "missing_signature", f"{header} is required")
    if not matches:
        raise Refusal(403, "bad_signature", f"{header} does not sign this body")


def receive(source: str, raw: bytes, parse: Callable[[bytes], SocialDelivery]):
    """Parse, store and acknowledge a verified body (steps 4-6 above)."""
    digest = hashlib.sha256(raw).hexdigest()
    delivery_id = "sha256:" + digest
    try:
        delivery = parse(raw)
    except (ParseError, ValueError) as error:
        code = "bad_json" if isinstance(error, BadJSON) else "invalid"
        reason = str(error) if isinstance(error, ParseError) else f"unusable data: {error}"
        quarantine(source, raw, reason=reason, source=f"{source} webhook", content_type=JSON)
        db.session.commit()
        return json_error(400, code, reason)
    # No look-up first: the unique delivery record refuses a second copy at the commit
    # (one round trip less on the hot path); everything done for it is rolled back.
    for attempt in range(1, ATTEMPTS + 1):
        try:
            for rejected in delivery.rejected:  # kept whole; the body's other events count
                quarantine(source, rejected.raw, reason=rejected.reason,
                           source=f"{source} webhook event", content_type=JSON)  # fmt: skip
            outcome = store_delivery(delivery, savepoint=attempt > 1)
            return _record(source, delivery_id, delivery.topic, outcome, digest)
        except IntegrityError:
            db.session.rollback()
            if _seen(source, delivery_id):
                return jsonify(status="duplicate", delivery_id=delivery_id), 200
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _seen(source: str, delivery_id: str) -> bool:
    return (
        db.session.scalar(
            select(InboundDelivery.id).where(
                InboundDelivery.source == source, InboundDelivery.delivery_id == delivery_id
            )
        )
        is not None
    )


# Parameters are named apart from every column of both tables: the INSERT's execution
# keys must not turn into SET clauses of the UPDATE that shares its statement.
_RECORD = insert(InboundDelivery).values(
    source=bindparam("d_source"),
    delivery_id=bindparam("d_id"),
    topic=bindparam("d_topic"),
    outcome=bindparam("d_outcome"),
    received_at=bindparam("d_now"),
)
_RELEASE = (
    update(QuarantinedInput)
    .where(
        QuarantinedInput.channel == bindparam("d_source"),
        QuarantinedInput.sha256 == bindparam("d_digest"),
        QuarantinedInput.resolved_at.is_(None),
    )
    .values(resolved_at=bindparam("d_now"))
)
#: The statements by dialect: PostgreSQL releases the quarantined copy in the same round
#: trip (a data-modifying WITH); SQLite has no such thing, and no round trip to save.
_RECORDING = {
    "postgresql": (_RECORD.add_cte(_RELEASE.cte("released")),),
    "sqlite": (_RECORD, _RELEASE),
}


def _record(source: str, delivery_id: str, topic: str, outcome: dict, digest: str):
    """Mark the delivery done, resolve a quarantined earlier copy of the same body, commit,
    and answer 200: what `helpdesk.webhooks.record_delivery` does, in Core statements,
    because this is the path of every DM (the ORM's unit of work cost ~2 ms a request)."""
    conn = db.session.connection()
    params = {"d_source": source, "d_id": delivery_id, "d_topic": topic[:100],
              "d_outcome": outcome, "d_now": utcnow(),
              "d_digest": digest}  # fmt: skip
    for statement in _RECORDING[conn.dialect.name]:
        conn.execute(statement, params)
    db.session.commit()
    return jsonify(status="ok", **outcome), 200
