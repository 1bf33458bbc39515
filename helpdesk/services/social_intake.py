"""Storing what a social webhook delivered: messages through ingest, echoes recognised,
receipts written on the replies they are about. The caller commits.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from channel_adapters.social.common import Echo, Receipt, SocialDelivery
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Message
from helpdesk.services.events import record_event

log = logging.getLogger(__name__)

#: A read or delivery watermark marks at most this many of the latest replies.
WATERMARK_ROWS = 50
#: A receipt never moves a message back: read implies delivered implies sent.
_RANK = {"sent": 1, "delivered": 2, "read": 3}


def store_delivery(delivery: SocialDelivery, *, savepoint: bool = True) -> dict[str, Any]:
    """Store everything `delivery` carries and return counts for the answer and the log.

    `savepoint=False`: see `ingest` (the caller rolls back on IntegrityError and retries).
    """
    new = duplicates = 0
    for inbound in delivery.messages:
        if ingest(inbound, savepoint=savepoint).duplicate:
            duplicates += 1
        else:
            new += 1
    ours = sum(1 for echo in delivery.echoes if _recognise_echo(echo))
    updated = sum(_apply_receipt(receipt) for receipt in delivery.receipts)
    outcome = delivery.summary()
    outcome.update(
        {"stored": new, "duplicates": duplicates, "our_echoes": ours, "receipts_applied": updated}
    )
    return outcome


def _recognise_echo(echo: Echo) -> bool:
    """True when the echo is a reply we sent (by the platform's id, or by our id that
    Messenger hands back as metadata before our send has been recorded). Echoes are
    never stored as customer messages; one of a message sent from the platform's own app
    is logged."""
    ids = [echo.message_id] + ([echo.reference] if echo.reference else [])
    found = db.session.scalar(
        select(Message.id).where(
            Message.channel == echo.channel,
            Message.direction == "outbound",
            Message.external_id.in_(ids),
        )
    )
    if found is None:
        log.info(
            "%s echo %s: sent outside the helpdesk (to %s), not stored",
            echo.channel,
            echo.message_id,
            echo.counterpart,
        )
    return found is not None


def _apply_receipt(receipt: Receipt) -> int:
    """Write the receipt on the reply (or, for a watermark, the replies) it is about."""
    query = select(Message).where(
        Message.channel == receipt.channel, Message.direction == "outbound"
    )
    if receipt.message_id is not None:
        query = query.where(Message.external_id == receipt.message_id)  # the platform's id
    else:
        query = (
            query.where(Message.counterpart == receipt.counterpart)
            .where(Message.sent_at <= receipt.watermark)
            .order_by(Message.id.desc())
            .limit(WATERMARK_ROWS)
        )
    changed = 0
    for message in db.session.scalars(query):
        if _mark(message, receipt):
            changed += 1
    return changed


def _mark(message: Message, receipt: Receipt) -> bool:
    details = dict(message.details or {})
    delivery = dict(details.get("delivery") or {})
    if receipt.status == "failed":
        if delivery.get("status") == "failed":
            return False
        delivery.update(status="failed", error=receipt.error or "the platform reports a failure")
        details["delivery"] = delivery
        message.details = details
        record_event(
            "message.delivery_failed",
            ticket=message.ticket,
            message=message,
            actor="webhook",
            error=delivery["error"],
            final=True,
        )
        return True
    known = delivery.get("receipt")
    if known and _RANK.get(known, 0) >= _RANK[receipt.status]:
        return False
    delivery["receipt"] = receipt.status
    delivery[f"{receipt.status}_at"] = receipt.at.isoformat()
    details["delivery"] = delivery
    message.details = details
    return True
