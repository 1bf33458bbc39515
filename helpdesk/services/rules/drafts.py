"""Drafts rules prepare: the ones still waiting for an agent."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from helpdesk.extensions import db
from helpdesk.models import Draft, Message, Ticket


def open_drafts(ticket: Ticket) -> list[Draft]:
    """Drafts on `ticket` not used and newer than the last agent reply (one an agent
    answered after is spent: the answer went out in the agent's words)."""
    answered = (
        select(func.max(Message.created_at))
        .where(
            Message.ticket_id == ticket.id,
            Message.direction == "outbound",
            Message.author_kind == "agent",
        )
        .scalar_subquery()
    )
    query = select(Draft).where(
        Draft.ticket_id == ticket.id,
        Draft.used_at.is_(None),
        or_(answered.is_(None), Draft.created_at > answered),
    )
    return list(db.session.scalars(query.order_by(Draft.id.desc())))
