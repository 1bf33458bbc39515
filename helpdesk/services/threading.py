"""Which ticket an inbound message continues, if any."""

from __future__ import annotations

import re

from sqlalchemy import select

from channel_adapters.base import InboundMessage
from helpdesk.extensions import db
from helpdesk.models import Customer, Message, Ticket

#: "[#1234]" in a subject, as our outgoing mail writes it.
TICKET_TOKEN = re.compile(r"\[#(\d{1,12})\]")


def ticket_token(ticket: Ticket) -> str:
    return f"[#{ticket.number}]"


def find_thread(inbound: InboundMessage, customer: Customer) -> Ticket | None:
    """Return the ticket `inbound` belongs to, or None for a new conversation.

    E-mail: a Message-ID it references, else the ticket token in the subject,
    which counts only from the ticket's own customer because ticket numbers can
    be guessed. Chat, social and phone: the conversation key. A closed ticket
    is never continued; the message starts a follow-up instead.
    """
    ticket = (
        _by_references(inbound.references)
        or _by_subject_token(inbound, customer)
        or _by_thread_key(inbound)
    )
    if ticket is None or ticket.status == "closed":
        return None
    return ticket


def _by_references(references: tuple[str, ...]) -> Ticket | None:
    if not references:
        return None
    return db.session.scalar(
        select(Ticket)
        .join(Message, Message.ticket_id == Ticket.id)
        .where(Message.channel == "email", Message.external_id.in_(references))
        .order_by(Message.id.desc())
        .limit(1)
    )


def _by_subject_token(inbound: InboundMessage, customer: Customer) -> Ticket | None:
    if inbound.channel != "email" or customer.id is None:
        return None
    for match in TICKET_TOKEN.finditer(inbound.subject):
        ticket = db.session.get(Ticket, int(match.group(1)))
        if ticket is not None and ticket.customer_id == customer.id:
            return ticket
    return None


def _by_thread_key(inbound: InboundMessage) -> Ticket | None:
    if not inbound.thread_key:
        return None
    return db.session.scalar(
        select(Ticket)
        .join(Message, Message.ticket_id == Ticket.id)
        .where(Message.channel == inbound.channel, Message.thread_key == inbound.thread_key)
        .order_by(Message.id.desc())
        .limit(1)
    )
