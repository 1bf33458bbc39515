"""The outbox worker: delivers what the outbox owes, with retries and an honest record.

A row is picked when its time has come; on PostgreSQL `SKIP LOCKED` lets a
second worker pass over rows the first is sending. Success, each failure and
the final give-up are written on the message (its `details["delivery"]`, shown
on the ticket) and as events.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

import channel_adapters.email.adapter  # noqa: F401  (registers the e-mail channel)
from channel_adapters.base import (
    ConfigError,
    Identity,
    InboundAttachment,
    OutboundMessage,
    SendError,
    registry,
)
from helpdesk.extensions import db
from helpdesk.models import Message, OutboxItem, Ticket
from helpdesk.models.types import utcnow
from helpdesk.services.events import record_event
from helpdesk.services.mailboxes import mailbox_for_address
from helpdesk.services.threading import TICKET_TOKEN, ticket_token

log = logging.getLogger(__name__)

#: Pauses between attempts: a minute, five, half an hour, two hours, six hours; then give up.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)

#: Channels the worker can deliver to, each with the function that sends one message.
Sender = Callable[[Message], str]


def deliver_due(*, now: datetime | None = None, limit: int = 100) -> Counter:
    """Deliver due outbox rows of the channels we can send on; commit after each."""
    now = now or utcnow()
    senders = _senders()
    query = (
        select(OutboxItem)
        .where(
            OutboxItem.status == "pending",
            OutboxItem.next_attempt_at <= now,
            OutboxItem.kind == "send_message",
            OutboxItem.channel.in_(list(senders)),
        )
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
        .with_for_update(skip_locked=True)
    )
    counts: Counter = Counter()
    for _ in range(limit):
        # One row at a time: its lock is held only while that one message is sent.
        item = db.session.scalars(query.limit(1)).first()
        if item is None:
            break
        counts[_deliver(item, senders[item.channel], now)] += 1
        db.session.commit()
    return counts


def _senders() -> dict[str, Sender]:
    senders: dict[str, Sender] = {}
    if current_app.config.get("SMTP_URL"):
        senders["email"] = send_email
    return senders


def _deliver(item: OutboxItem, send: Sender, now: datetime) -> str:
    message = item.message
    item.attempts += 1
    try:
        response = send(message)
    except (SendError, ConfigError) as error:
        retryable = isinstance(error, SendError) and error.retryable
        return _failed(item, message, str(error), retryable=retryable, now=now)
    item.status = "sent"
    item.sent_at = now
    item.last_error = None
    message.details = {**message.details, "delivery": {"status": "sent", "response": response}}
    record_event(
        "message.delivered",
        ticket=message.ticket,
        message=message,
        actor="worker",
        response=response,
    )
    return "sent"


def _failed(
    item: OutboxItem, message: Message, error: str, *, retryable: bool, now: datetime
) -> str:
    item.last_error = error
    give_up = not retryable or item.attempts > len(RETRY_DELAYS)
    if give_up:
        item.status = "dead"
    else:
        item.next_attempt_at = now + RETRY_DELAYS[item.attempts - 1]
    status = "failed" if give_up else "retrying"
    message.details = {
        **message.details,
        "delivery": {"status": status, "error": error, "attempts": item.attempts},
    }
    record_event(
        "message.delivery_failed",
        ticket=message.ticket,
        message=message,
        actor="worker",
        error=error,
        attempts=item.attempts,
        final=give_up,
    )
    log.warning(
        "message %s: delivery %s after attempt %d: %s", message.id, status, item.attempts, error
    )
    return status


def send_email(message: Message) -> str:
    """Send one outbound e-mail message by SMTP; return the server's answer."""
    adapter = registry.create(
        "email",
        {"smtp_url": current_app.config["SMTP_URL"], "ca_file": current_app.config["SMTP_CA_FILE"]},
    )
    return adapter.send(email_for(message))


def email_for(message: Message) -> OutboundMessage:
    """The e-mail a stored reply becomes: addressed, threaded and marked with the ticket."""
    ticket = message.ticket
    recipient = message.counterpart or ticket.customer.identity("email")
    if not recipient:
        raise ConfigError(f"ticket {ticket.number}: the customer has no e-mail address")
    earlier = [
        m
        for m in ticket.messages
        if m.channel == "email"
        and m.external_id
        and m.id != message.id
        and m.direction != "note"
        and m.created_at <= message.created_at
    ]
    answered = next((m for m in reversed(earlier) if m.direction == "inbound"), None)
    mailbox = mailbox_for_address(answered.details.get("recipient") if answered else None)
    address = mailbox.config["address"] if mailbox else current_app.config.get("MAIL_FROM")
    if not address:
        raise ConfigError("no mailbox and no HELPDESK_MAIL_FROM: nothing to send from")
    from_name = mailbox.config.get("from_name") if mailbox else None
    return OutboundMessage(
        channel="email",
        recipient=Identity("email", recipient, ticket.customer.name),
        text=message.text,
        html=message.html,
        attachments=tuple(
            InboundAttachment(a.filename, a.content_type, a.size, a.sha256, a.data)
            for a in message.attachments
        ),
        message_id=message.external_id,
        subject=reply_subject(ticket),
        sender=f"{from_name} <{address}>" if from_name else address,
        references=tuple(m.external_id for m in earlier),
        auto_submitted=message.author_kind != "agent",
        headers={"X-Helpdesk-Ticket": str(ticket.number)},
    )


def reply_subject(ticket: Ticket) -> str:
    """ "Re: <subject> [#123]", without piling up "Re:" or a second token."""
    subject = ticket.subject.strip() or "…"
    while subject[:3].lower() in ("re:", "aw:") or subject[:4].lower() == "fwd:":
        subject = subject.split(":", 1)[1].strip()
    token = ticket_token(ticket)
    if not TICKET_TOKEN.search(subject):
        subject = f"{subject} {token}"
    return f"Re: {subject}"
