"""The outbox worker: delivers what the outbox owes, with retries and an honest record.

A row is picked when its time has come; on PostgreSQL `SKIP LOCKED` lets a
second worker pass over rows the first is sending. Success, each failure and
the final give-up are written on the message (its `details["delivery"]`, shown
on the ticket) and as events.

Each channel's way of sending is one entry in `SENDERS`: a function of no arguments
that returns a `Channel` (how to build the outgoing message from the stored one, and
how to send it) or None when the channel is not configured; its replies then wait in
the outbox. To add a channel, add one entry.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
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
from helpdesk.services import social_send
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

#: Channels automatic notifications (return updates) may use. Not the social ones: their
#: platforms refuse messages outside the 24-hour window after the customer's last message.
OUTBOUND_CHANNELS: frozenset[str] = frozenset({"email"})

#: While a message is out on the network, no other worker takes it; after this it is due again.
SEND_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Channel:
    """How the worker sends on one channel: build the message from the store, then send it."""

    prepare: Callable[[Message], OutboundMessage]
    transmit: Callable[[OutboundMessage], str]
    #: The answer of `transmit` is the platform's id for the message (a Messenger mid, a
    #: wamid): it becomes the message's external id, so echoes and receipts find it.
    platform_id: bool = False
    #: Told the outcome of every send (None: it worked, else the error), to keep the
    #: channel's health (Admin -> Channels, the helpdesk_channel_up metric).
    health: Callable[[str | None], None] | None = None


def deliver_due(*, now: datetime | None = None, limit: int = 100) -> Counter:
    """Deliver due outbox rows of the channels we can send on, one by one.

    A row is claimed in a short transaction (a lease: attempts counted, next
    attempt pushed out), sent with no transaction open, and its outcome
    recorded in another. So a slow mail server never holds a database lock, a
    second worker never sends the same row, and a crash mid-send means one
    more attempt later (at least once, never lost).
    """
    now = now or utcnow()
    channels = _channels()
    query = (
        select(OutboxItem)
        .where(
            OutboxItem.status == "pending",
            OutboxItem.next_attempt_at <= now,
            OutboxItem.kind == "send_message",
            OutboxItem.channel.in_(list(channels)),
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
        counts[_deliver(item, channels[item.channel], now)] += 1
        db.session.commit()
    return counts


def _channels() -> dict[str, Channel]:
    """The channels that can send now, by name."""
    channels = {name: factory() for name, factory in SENDERS.items()}
    return {name: channel for name, channel in channels.items() if channel is not None}


def _email_channel() -> Channel | None:
    if not current_app.config.get("SMTP_URL"):
        return None
    return Channel(prepare=email_for, transmit=_send_by_smtp)


def _social_channel(name: str) -> Callable[[], Channel | None]:
    def factory() -> Channel | None:
        if social_send.adapter_config(name) is None:
            return None
        return Channel(
            prepare=social_send.outbound_for,
            transmit=lambda outbound: social_send.transmit(name, outbound),
            platform_id=True,
            health=lambda error: social_send.record_health(name, error),
        )

    return factory


def _deliver(item: OutboxItem, channel: Channel, now: datetime) -> str:
    item.attempts += 1
    item.next_attempt_at = now + SEND_LEASE
    try:
        outbound = channel.prepare(item.message)
    except (ConfigError, SendError) as error:  # e.g. no address, or the window has closed
        return _failed(item, item.message, str(error), retryable=False, now=now)
    item_id = item.id
    db.session.commit()  # the claim; nothing stays open while the network is slow
    try:
        response, failure = channel.transmit(outbound), None
    except (SendError, ConfigError) as error:
        response, failure = None, error
    item = db.session.get(OutboxItem, item_id)
    if channel.health is not None:
        channel.health(None if failure is None else str(failure))
    if failure is not None:
        retryable = isinstance(failure, SendError) and failure.retryable
        return _failed(item, item.message, str(failure), retryable=retryable, now=now)
    message = item.message
    item.status = "sent"
    item.sent_at = now
    item.last_error = None
    delivery = {"status": "sent", "response": response}
    if channel.platform_id and response:
        delivery["our_id"] = message.external_id
        message.external_id = response
    message.details = {**message.details, "delivery": delivery}
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


def _send_by_smtp(outbound: OutboundMessage) -> str:
    """Send one e-mail through the configured SMTP server; return the server's answer."""
    adapter = registry.create(
        "email",
        {"smtp_url": current_app.config["SMTP_URL"], "ca_file": current_app.config["SMTP_CA_FILE"]},
    )
    return adapter.send(outbound)


def email_for(message: Message, recipient: str | None = None) -> OutboundMessage:
    """The e-mail a stored reply becomes: addressed, threaded and marked with the ticket."""
    ticket = message.ticket
    recipient = recipient or message.counterpart or ticket.customer.identity("email")
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


def _chat_channel() -> Channel | None:
    """Chat replies reach the visitor through the widget, which marks them delivered
    (services/chat.py `mark_delivered`); the worker sees one only when it is still owed
    CHAT_EMAIL_FALLBACK_MINUTES later, and sends it by e-mail. Without SMTP it waits."""
    if not current_app.config.get("SMTP_URL"):
        return None
    return Channel(prepare=chat_email_for, transmit=_send_by_smtp)


#: The line before a chat reply that goes by e-mail, in the chat's language.
_LEFT_THE_CHAT = {
    "de": "Sie hatten den Chat verlassen, bevor unsere Antwort ankam. Hier ist sie:",
    "en": "You had left the chat before our answer arrived. Here it is:",
}


def chat_email_for(message: Message) -> OutboundMessage:
    """A chat reply the visitor never saw, as an e-mail to the address they gave."""
    ticket = message.ticket
    address = ticket.customer.identity("email")
    if not address:
        raise SendError(
            "the visitor left the chat before this reply arrived and gave no e-mail "
            "address: it cannot reach them",
            retryable=False,
        )
    mail = email_for(message, recipient=address)
    intro = _LEFT_THE_CHAT.get(ticket.language or "", _LEFT_THE_CHAT["en"])
    message.details = {**message.details, "fallback": "email"}
    return replace(mail, channel="email", text=f"{intro}\n\n{message.text}", html=None)


def reply_subject(ticket: Ticket) -> str:
    """ "Re: <subject> [#123]", without piling up "Re:" or a second token."""
    subject = ticket.subject.strip() or "…"
    while subject[:3].lower() in ("re:", "aw:") or subject[:4].lower() == "fwd:":
        subject = subject.split(":", 1)[1].strip()
    token = ticket_token(ticket)
    if not TICKET_TOKEN.search(subject):
        subject = f"{subject} {token}"
    return f"Re: {subject}"


#: How each channel sends: name -> a function returning its `Channel`, or None while it
#: is not configured. One entry per channel.
SENDERS: dict[str, Callable[[], Channel | None]] = {
    "email": _email_channel,
    "chat": _chat_channel,
    **{name: _social_channel(name) for name in social_send.SOCIAL_SEND_CHANNELS},
}
