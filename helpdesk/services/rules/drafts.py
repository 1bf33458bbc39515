"""Drafts rules prepare: the ones still waiting for an agent."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from helpdesk.errors import NotFound
from helpdesk.extensions import db
from helpdesk.models import Draft, Message, Ticket, User
from helpdesk.models.types import utcnow
from helpdesk.services.events import record_event


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


def discard(ticket: Ticket, draft_id: int, user: User) -> Draft:
    """The agent does not want the draft: it is no longer offered on the ticket."""
    draft = db.session.get(Draft, draft_id)
    if draft is None or draft.ticket_id != ticket.id:
        raise NotFound(_("This draft is not on ticket %(number)s.", number=ticket.number))
    if draft.used_at is None:
        draft.used_at = utcnow()
        record_event("draft.discarded", ticket=ticket, user=user, draft_id=draft.id,
                     rule=draft.rule.name if draft.rule else None)  # fmt: skip
    return draft
