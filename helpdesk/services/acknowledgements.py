"""Automatic acknowledgements of new e-mail tickets, never more than one per address per hour.

The limit is what breaks loops with other robots that slip past the
auto-reply detection: whatever they send, they hear from us at most once an hour.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from channel_adapters.base import InboundMessage
from helpdesk.extensions import db
from helpdesk.models import Message, Ticket
from helpdesk.models.types import utcnow
from helpdesk.services.replies import add_reply
from helpdesk.services.templating import render_text
from helpdesk.services.threading import ticket_token


def acknowledge(ticket: Ticket, inbound: InboundMessage) -> Message | None:
    """Queue an acknowledgement for a new ticket unless robots or the hourly limit forbid it."""
    if inbound.auto_submitted:
        return None
    address = inbound.sender.value
    if recent_acknowledgements(address) >= current_app.config["ACKNOWLEDGEMENTS_PER_HOUR"]:
        return None
    text = render_text(
        "mail/acknowledgement",
        ticket.language,
        customer_name=ticket.customer.name,
        ticket_token=ticket_token(ticket),
    )
    message = add_reply(ticket, None, text, author_kind="system", channel="email")
    message.counterpart = address
    message.details = {"automatic": "acknowledgement"}
    return message


def recent_acknowledgements(address: str) -> int:
    since = utcnow() - timedelta(hours=1)
    return db.session.scalar(
        select(func.count(Message.id)).where(
            Message.counterpart == address,
            Message.direction == "outbound",
            Message.author_kind == "system",
            Message.created_at >= since,
        )
    )
