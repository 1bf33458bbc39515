"""The agents' list of chat conversations: the open ones first, with unread markers.

A conversation is unread when the visitor wrote after the last answer from a person:
the visitor is waiting for us. That needs no per-agent bookkeeping and is the same
for every colleague, which is what a shared queue of live chats wants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, select

from helpdesk.extensions import db
from helpdesk.models import UNSOLVED_STATUSES, ChatSession, Customer, Message, Ticket, User

#: At most this many conversations are listed.
LIMIT = 200


@dataclass(frozen=True)
class ChatRow:
    ticket: int
    subject: str
    status: str
    customer: str | None
    assignee: str | None
    state: str | None  # the chat session's state: bot, human, email, ...
    last_text: str
    last_at: datetime
    unread: bool


def open_chats(*, limit: int = LIMIT) -> list[ChatRow]:
    """Unsolved chat tickets, those waiting for a person first, then by last activity."""
    last_inbound = (
        select(Message.ticket_id, func.max(Message.id).label("last_in"))
        .where(Message.direction == "inbound")
        .group_by(Message.ticket_id)
        .subquery()
    )
    last_agent = (
        select(Message.ticket_id, func.max(Message.id).label("last_out"))
        .where(Message.direction == "outbound", Message.author_kind == "agent")
        .group_by(Message.ticket_id)
        .subquery()
    )
    last_any = (
        select(Message.ticket_id, func.max(Message.id).label("last_id"))
        .where(Message.direction.in_(("inbound", "outbound")))
        .group_by(Message.ticket_id)
        .subquery()
    )
    latest = Message.__table__.alias("latest")
    rows = db.session.execute(
        select(
            Ticket.id,
            Ticket.subject,
            Ticket.status,
            Ticket.last_activity_at,
            Customer.name,
            User.name.label("assignee"),
            ChatSession.state,
            latest.c.text,
            last_inbound.c.last_in,
            last_agent.c.last_out,
        )
        .join(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(User, User.id == Ticket.assignee_id)
        .outerjoin(ChatSession, ChatSession.ticket_id == Ticket.id)
        .outerjoin(last_inbound, last_inbound.c.ticket_id == Ticket.id)
        .outerjoin(last_agent, last_agent.c.ticket_id == Ticket.id)
        .outerjoin(last_any, last_any.c.ticket_id == Ticket.id)
        .outerjoin(latest, latest.c.id == last_any.c.last_id)
        .where(and_(Ticket.channel == "chat", Ticket.status.in_(UNSOLVED_STATUSES)))
        .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
        .limit(limit)
    ).all()
    chats = [
        ChatRow(
            ticket=row.id,
            subject=row.subject,
            status=row.status,
            customer=row.name,
            assignee=row.assignee,
            state=row.state,
            last_text=(row.text or "")[:140],
            last_at=row.last_activity_at,
            unread=row.last_in is not None and (row.last_out is None or row.last_in > row.last_out),
        )
        for row in rows
    ]
    # Waiting for a person first; the sort is stable, so latest activity stays within.
    return sorted(chats, key=lambda c: not (c.unread and c.state != "bot"))


def waiting_count() -> int:
    """Chats handed to a person whose visitor wrote after our last answer: the badge
    beside "Chats". Only conversations in the hands of people are counted, so it stays a
    handful of rows however many chats the bot answered."""
    return db.session.scalar(waiting_query()) or 0


def waiting_query() -> Select:
    """`waiting_count`'s query (the top bar reads it with the page's other counts)."""
    last_in = (
        select(func.max(Message.id))
        .where(Message.ticket_id == Ticket.id, Message.direction == "inbound")
        .scalar_subquery()
    )
    last_out = (
        select(func.coalesce(func.max(Message.id), 0))
        .where(
            Message.ticket_id == Ticket.id,
            Message.direction == "outbound",
            Message.author_kind == "agent",
        )
        .scalar_subquery()
    )
    return (
        select(func.count())
        .select_from(ChatSession)
        .join(Ticket, Ticket.id == ChatSession.ticket_id)
        .where(
            ChatSession.state == "human",
            Ticket.status.in_(UNSOLVED_STATUSES),
            last_in > last_out,
        )
    )
