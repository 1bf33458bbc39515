"""Agents answering: replies that leave through the outbox, internal notes, status changes."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app

from channel_adapters.base import InboundAttachment
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import TICKET_STATUSES, Attachment, Message, OutboxItem, Ticket, User
from helpdesk.models.types import utcnow
from helpdesk.services.events import record_event
from helpdesk.services.mailboxes import mailbox_for_address
from helpdesk.services.ticket_metrics import refresh_later, refresh_ticket


def add_reply(
    ticket: Ticket,
    author: User | None,
    text: str,
    *,
    channel: str | None = None,
    author_kind: str = "agent",
    at: datetime | None = None,
    external_id: str | None = None,
    deliver: bool = True,
    html: str | None = None,
    attachments: Sequence[InboundAttachment] = (),
) -> Message:
    """Answer the customer. The outbox row is written in the same transaction, so the
    reply is sent exactly when the change is committed. `html` is an optional rich
    version of `text` (already safe: written by us). `deliver=False` records a
    reply that already left by other means (an import, the demo's history)."""
    if not text.strip():
        raise InvalidInput("a reply needs some text")
    at = at or utcnow()
    channel = channel or _last_customer_channel(ticket)
    answered = _last_inbound(ticket, channel)
    message = Message(
        ticket=ticket,
        channel=channel,
        direction="outbound",
        author_kind=author_kind,
        author=author,
        external_id=external_id or _new_message_id(channel, answered),
        counterpart=answered.counterpart if answered else None,
        subject=ticket.subject,
        text=text,
        sent_at=at,
        created_at=at,
        thread_key=_last_thread_key(ticket, channel),
    )
    message.html = html
    message.attachments = [
        Attachment(filename=a.filename, content_type=a.content_type, size=a.size,
                   sha256=a.sha256, data=a.data)
        for a in attachments
    ]  # fmt: skip
    db.session.add(message)
    ticket.last_activity_at = max(ticket.last_activity_at, at)
    if author_kind == "agent" and ticket.first_response_at is None:
        ticket.first_response_at = at
    if author_kind == "agent":
        # The rules' drafts waiting on the ticket are spent: the answer went out in the
        # agent's words (the ticket page loads them with the ticket, so no query there).
        for draft in ticket.unused_drafts:
            draft.used_at = at
    if ticket.status == "new" and author_kind == "agent":
        ticket.status = "open"
    if deliver:
        db.session.add(
            OutboxItem(
                kind="send_message",
                channel=channel,
                message=message,
                idempotency_key=f"message:{message.external_id}",
                next_attempt_at=_first_attempt(channel, at),
            )
        )
    record_event(
        "message.sent",
        ticket=ticket,
        message=message,
        user=author,
        channel=channel,
        author_kind=author_kind,
    )
    db.session.flush()  # the ticket's id, for a new one
    refresh_later(ticket.id)  # KPIs: first response, replies, SLA (the worker's job)
    return message


def _first_attempt(channel: str, at: datetime) -> datetime:
    """When the worker first tries to send. A chat reply reaches the visitor through the
    widget; the worker only steps in (by e-mail) once the visitor has left it unread."""
    if channel != "chat":
        return at
    from helpdesk.services.chat import setting  # chat imports ingest, which imports us

    return at + timedelta(minutes=setting("CHAT_EMAIL_FALLBACK_MINUTES"))


def add_note(ticket: Ticket, author: User, text: str, *, at: datetime | None = None) -> Message:
    """An internal note: seen by colleagues, never by the customer."""
    if not text.strip():
        raise InvalidInput("a note needs some text")
    at = at or utcnow()
    message = Message(
        ticket=ticket,
        channel=ticket.channel,
        direction="note",
        author_kind="agent",
        author=author,
        text=text,
        sent_at=at,
        created_at=at,
    )
    db.session.add(message)
    record_event("note.added", ticket=ticket, message=message, user=author)
    return message


def set_status(
    ticket: Ticket,
    status: str,
    *,
    user: User | None = None,
    actor: str = "system",
    at: datetime | None = None,
    metrics_now: bool = True,
) -> None:
    """`metrics_now=False` leaves the KPIs to the worker (`refresh_later`), as ingest and
    replies do: for the chatbot, whose every turn would otherwise compute them."""
    if status not in TICKET_STATUSES:
        raise InvalidInput(f"unknown status {status!r}; use one of {', '.join(TICKET_STATUSES)}")
    if status == ticket.status:
        return
    at = at or utcnow()
    with db.session.no_autoflush:  # the change's time, also when an import replays history
        event = record_event(
            "ticket.status_changed",
            ticket=ticket,
            user=user,
            actor=actor,
            old=ticket.status,
            new=status,
        )
        event.created_at = at
    ticket.status = status
    ticket.last_activity_at = max(ticket.last_activity_at, at)
    if status in ("solved", "closed"):
        ticket.solved_at = ticket.solved_at or at
    else:
        ticket.solved_at = None
    if metrics_now:
        refresh_ticket(ticket)  # KPIs: resolution times, reopens, SLA
    else:
        db.session.flush()  # the ticket's id, for a new one
        refresh_later(ticket.id)


def _last_inbound(ticket: Ticket, channel: str) -> Message | None:
    inbound = [m for m in ticket.messages if m.direction == "inbound" and m.channel == channel]
    return inbound[-1] if inbound else None


def _new_message_id(channel: str, answered: Message | None) -> str:
    """Our id for an outgoing message; for e-mail a Message-ID in the mailbox's domain."""
    domain = "helpdesk.invalid"
    if channel == "email":
        mailbox = mailbox_for_address(answered.details.get("recipient") if answered else None)
        address = mailbox.config.get("address") if mailbox else current_app.config["MAIL_FROM"]
        if address and "@" in address:
            domain = address.rsplit("@", 1)[1]
    return f"<{secrets.token_hex(16)}@{domain}>"


def _last_customer_channel(ticket: Ticket) -> str:
    inbound = [m for m in ticket.messages if m.direction == "inbound"]
    return inbound[-1].channel if inbound else ticket.channel


def _last_thread_key(ticket: Ticket, channel: str) -> str | None:
    keys = [m.thread_key for m in ticket.messages if m.channel == channel and m.thread_key]
    return keys[-1] if keys else None
