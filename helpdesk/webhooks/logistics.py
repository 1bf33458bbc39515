"""Carrier and warehouse webhooks at POST /webhooks/logistics: returns and exchange parcels.

The sender signs like our outbound webhooks (`services.webhooks_out`):

    X-Helpdesk-Timestamp: <Unix seconds>
    X-Helpdesk-Signature: sha256=<hex HMAC-SHA256 over "<timestamp>.<raw body">>

with the secret in HELPDESK_LOGISTICS_WEBHOOK_SECRET. The body is one JSON object:

    {"id": "<delivery id>",                 required; the same id again is the same delivery
     "event": "return.in_transit" | "return.received" | "return.refunded"
              | "return.rejected" | "shipment.in_transit" | "shipment.delivered",
     "return": "R-12",                      or, for return.* events, only "tracking_number"
     "carrier": "DHL", "tracking_number": "00340434161094015902",
     "refund_cents": 8995,                  return.refunded; default: the returned items' value
     "note": "worn",                        e.g. why a return was rejected
     "occurred_at": "2026-02-03T10:15:00Z"} when it happened (with a zone); default: now

A `return.*` event moves the return (services.returns.transition). A
`shipment.in_transit` naming a return that arrived and asked for an exchange
records the replacement parcel (`Shipment(kind="exchange")`) and moves the
return to "exchanged"; without a return it updates the shipment with that
tracking number, as `shipment.delivered` does.

Answers, each check before the next:

- 503: the secret is not set (the variable is named in the message);
- 401: timestamp or signature missing or wrong, or the timestamp is more than
  five minutes off: nothing is read or stored;
- 400: not a JSON object, or a field is wrong (the body is quarantined);
- 200 "duplicate": this delivery id was processed before; nothing changes;
- 422: no such return or shipment (quarantined; a retry after it exists succeeds);
- 409: the state machine refuses the step, e.g. a refund before the parcel
  arrived; the message says why, and the refusal is an event on the trail.
  Nothing is marked as delivered, so a retry once the earlier step came works;
- 200: applied, after the change and the delivery record are committed.
"""

from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpdesk.extensions import db
from helpdesk.models import InboundDelivery, Return, Shipment
from helpdesk.models.types import utcnow
from helpdesk.services.events import record_event
from helpdesk.services.mail_intake import quarantine
from helpdesk.services.returns import FINAL_STATUSES, IllegalTransition, transition
from helpdesk.services.webhooks_out import signature
from helpdesk.webhooks import bp, json_error, record_delivery

SOURCE = "logistics"
SECRET_VARIABLE = "HELPDESK_LOGISTICS_WEBHOOK_SECRET"
#: Older (or later) timestamps are refused, so a captured request cannot be replayed.
MAX_SKEW = timedelta(minutes=5)
RETURN_EVENTS = {
    "return.in_transit": "in_transit",
    "return.received": "received",
    "return.refunded": "refunded",
    "return.rejected": "rejected",
}
SHIPMENT_EVENTS = {"shipment.in_transit": "in_transit", "shipment.delivered": "delivered"}
EVENTS = (*RETURN_EVENTS, *SHIPMENT_EVENTS)
_RETURN_NUMBER = re.compile(r"^\s*(?:R-?)?(\d{1,18})\s*$", re.IGNORECASE)


class BadDelivery(Exception):
    """The delivery cannot be used: the answer's status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


class Refused(BadDelivery):
    """The state machine refused the step for the return with `return_id` (409)."""

    def __init__(self, return_id: int, error: IllegalTransition) -> None:
        super().__init__(409, "illegal_transition", str(error))
        self.return_id = return_id


@dataclass(frozen=True)
class Delivery:
    """A verified, checked webhook body."""

    id: str
    event: str
    return_number: str | None
    carrier: str | None
    tracking_number: str | None
    refund_cents: int | None
    note: str | None
    occurred_at: datetime


@bp.post("/logistics")
def receive_logistics():
    secret = current_app.config.get("LOGISTICS_WEBHOOK_SECRET")
    if not secret:
        return json_error(
            503,
            "not_configured",
            f"logistics webhooks are switched off: set "
            f"{SECRET_VARIABLE} to the secret the carrier signs with",
        )
    raw = request.get_data()
    refusal = signature_problem(raw, secret)
    if refusal:
        return json_error(401, "bad_signature", refusal)
    try:
        delivery = parse_delivery(raw)
    except BadDelivery as error:
        return _reject(error, raw, "logistics delivery")
    where = f"logistics {delivery.event} {delivery.id}"
    try:
        return _apply(delivery, raw)
    except Refused as error:
        db.session.rollback()
        return _refuse(delivery, error)
    except BadDelivery as error:
        db.session.rollback()
        return _reject(error, raw, where)
    except IntegrityError:
        db.session.rollback()
        if _seen(delivery.id) is None:
            raise
        return _duplicate(delivery.id)  # committed by a concurrent request meanwhile


def signature_problem(raw: bytes, secret: str) -> str | None:
    """Why the request is not signed by the holder of `secret` just now, or None."""
    stamp = request.headers.get("X-Helpdesk-Timestamp", "").strip()
    given = request.headers.get("X-Helpdesk-Signature", "").strip()
    if not stamp or not given:
        return "X-Helpdesk-Timestamp and X-Helpdesk-Signature are required"
    if not stamp.isdigit():
        return "X-Helpdesk-Timestamp must be Unix seconds"
    expected = signature(secret, int(stamp), raw)
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        return "X-Helpdesk-Signature does not sign this timestamp and body"
    if abs(utcnow().timestamp() - int(stamp)) > MAX_SKEW.total_seconds():
        return "X-Helpdesk-Timestamp is more than 5 minutes off; send a fresh signature"
    return None


def parse_delivery(raw: bytes) -> Delivery:
    """The body as a `Delivery`, or `BadDelivery` (400) saying what is wrong."""
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise BadDelivery(400, "bad_json", f"the body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise BadDelivery(400, "bad_json", "the body is JSON but not an object")
    delivery_id = _text(body, "id", 200)
    event = _text(body, "event", 40)
    if not delivery_id:
        raise BadDelivery(400, "invalid", "id (the delivery id) is required")
    if event not in EVENTS:
        raise BadDelivery(400, "invalid", f"event must be one of {', '.join(EVENTS)}")
    number = _text(body, "return", 40)
    if number and not _RETURN_NUMBER.match(number):
        raise BadDelivery(
            400, "invalid", f"return must be a return number like R-12, not {number!r}"
        )
    tracking = _text(body, "tracking_number", 64)
    tracking = re.sub(r"\s+", "", tracking).upper() if tracking else None
    if not number and not tracking:
        raise BadDelivery(400, "invalid", "give the return's number or a tracking_number")
    refund = body.get("refund_cents")
    if refund is not None and (type(refund) is not int or refund < 0):
        raise BadDelivery(400, "invalid", "refund_cents must be a whole number of cents, >= 0")
    return Delivery(
        delivery_id,
        event,
        number,
        _text(body, "carrier", 40),
        tracking,
        refund,
        _text(body, "note", 2000),
        _occurred_at(body.get("occurred_at")),
    )


def _text(body: dict, field: str, limit: int) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise BadDelivery(400, "invalid", f"{field} must be a string")
    value = str(value).strip()
    if len(value) > limit:
        raise BadDelivery(400, "invalid", f"{field} is longer than {limit} characters")
    return value or None


def _occurred_at(value: object) -> datetime:
    now = utcnow()
    if value is None:
        return now
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadDelivery(
            400,
            "invalid",
            "occurred_at must be an ISO 8601 time with a zone, e.g. 2026-02-03T10:15:00Z",
        )
    if moment > now + MAX_SKEW:
        raise BadDelivery(400, "invalid", "occurred_at lies in the future")
    return moment.astimezone(UTC)


def _apply(delivery: Delivery, raw: bytes):
    if _seen(delivery.id) is not None:
        return _duplicate(delivery.id)
    outcome = _move_return(delivery) if delivery.event in RETURN_EVENTS else _ship(delivery)
    return record_delivery(SOURCE, delivery.id, delivery.event, outcome, raw)


def _move_return(delivery: Delivery) -> dict:
    return_ = _find_return(delivery)
    try:
        moved = transition(
            return_,
            RETURN_EVENTS[delivery.event],
            actor=SOURCE,
            carrier=delivery.carrier,
            tracking_number=delivery.tracking_number if delivery.return_number else None,
            refund_cents=delivery.refund_cents,
            note=delivery.note,
            now=delivery.occurred_at,
        )
    except IllegalTransition as error:
        raise Refused(return_.id, error) from None
    return {
        "result": "moved" if moved else "unchanged",
        "return": return_.number,
        "return_status": return_.status,
    }


def _ship(delivery: Delivery) -> dict:
    """A parcel we send: the replacement of an exchange, or any shipment by its number."""
    return_ = _find_return(delivery) if delivery.return_number else None
    status = SHIPMENT_EVENTS[delivery.event]
    order = return_.order if return_ else None
    shipment = _find_shipment(delivery.tracking_number, order)
    if shipment is None and return_ is not None and status == "in_transit":
        if not delivery.tracking_number:
            raise BadDelivery(400, "invalid", "tracking_number is required for a shipment")
        shipment = Shipment(
            order=order,
            kind="exchange",
            carrier=delivery.carrier,
            tracking_number=delivery.tracking_number,
        )
        db.session.add(shipment)
    if shipment is None:
        raise BadDelivery(
            422, "unknown_shipment", f"no shipment with tracking number {delivery.tracking_number}"
        )
    _update_shipment(shipment, status, delivery)
    outcome = {
        "result": "shipment_updated",
        "order": shipment.order.number,
        "tracking_number": shipment.tracking_number,
        "shipment_status": status,
    }
    if return_ is not None and shipment.kind == "exchange" and status == "in_transit":
        try:
            transition(return_, "exchanged", actor=SOURCE, now=delivery.occurred_at)
        except IllegalTransition as error:
            raise Refused(return_.id, error) from None
        outcome |= {"return": return_.number, "return_status": return_.status}
    return outcome


def _update_shipment(shipment: Shipment, status: str, delivery: Delivery) -> None:
    shipment.carrier = delivery.carrier or shipment.carrier
    shipment.status = status
    if status == "in_transit":
        shipment.shipped_at = shipment.shipped_at or delivery.occurred_at
    else:
        shipment.delivered_at = delivery.occurred_at
    order = shipment.order
    record_event(
        f"shipment.{status}",
        customer=order.customer,
        actor=SOURCE,
        order=order.number,
        shipment_kind=shipment.kind,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
    )


def _find_return(delivery: Delivery) -> Return:
    """The return the delivery names, else the one with its tracking number (an open one
    first, then the latest); locked against a concurrent delivery for the same return."""
    if delivery.return_number:
        return_id = int(_RETURN_NUMBER.match(delivery.return_number).group(1))
        found = db.session.scalar(select(Return).where(Return.id == return_id).with_for_update())
        if found is None:
            raise BadDelivery(422, "unknown_return", f"no return {delivery.return_number}")
        return found
    candidates = db.session.scalars(
        select(Return)
        .where(Return.tracking_number == delivery.tracking_number)
        .order_by(Return.id.desc())
        .with_for_update()
    ).all()
    if not candidates:
        raise BadDelivery(
            422, "unknown_return", f"no return with tracking number {delivery.tracking_number}"
        )
    return next((r for r in candidates if r.status not in FINAL_STATUSES), candidates[0])


def _find_shipment(tracking_number: str | None, order) -> Shipment | None:
    if not tracking_number:
        return None
    query = select(Shipment).where(Shipment.tracking_number == tracking_number)
    if order is not None:
        query = query.where(Shipment.order_id == order.id)
    return db.session.scalars(query.order_by(Shipment.id.desc())).first()


def _seen(delivery_id: str) -> InboundDelivery | None:
    return db.session.scalar(
        select(InboundDelivery).where(
            InboundDelivery.source == SOURCE, InboundDelivery.delivery_id == delivery_id
        )
    )


def _duplicate(delivery_id: str):
    earlier = _seen(delivery_id)
    outcome = earlier.outcome if earlier is not None else {}
    return jsonify(status="duplicate", delivery_id=delivery_id, **outcome), 200


def _refuse(delivery: Delivery, error: Refused):
    """A step the return cannot take now: on the trail, answered 409, not marked done."""
    return_ = db.session.get(Return, error.return_id)
    record_event(
        "return.transition_refused",
        customer=return_.order.customer,
        actor=SOURCE,
        delivery_id=delivery.id,
        event=delivery.event,
        reason=str(error),
        **{"return": return_.number},
    )
    db.session.commit()
    return json_error(error.status, error.code, str(error))


def _reject(error: BadDelivery, raw: bytes, where: str):
    """Keep what we could not use for an admin to see, then say why."""
    quarantine(SOURCE, raw, reason=str(error), source=where, content_type="application/json")
    db.session.commit()
    return json_error(error.status, error.code, str(error))
