"""Rules that act on tickets by themselves, the drafts they leave for agents, and the
round-robin turn of each team.

A rule is data, not code: its conditions and actions are JSON, checked by
`helpdesk.services.rules.validation` before they are saved, so an admin can edit,
export and import them without a deploy.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.agents import Team, User
from helpdesk.models.tickets import Ticket
from helpdesk.models.types import JSONType, UTCDateTime, utcnow


class Rule(db.Model):
    """When one of `events` happens to a ticket and `conditions` hold, do `actions`.

    Rules run in `position` order; a matching rule with `stop` ends the run.
    `conditions` is {"all": [...], "any": [...]}: every condition of "all" and,
    when "any" is not empty, at least one of "any".
    """

    __tablename__ = "rules"
    __table_args__ = (Index("ix_rules_enabled_position", "enabled", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    stop: Mapped[bool] = mapped_column(Boolean, default=False)
    events: Mapped[list] = mapped_column(JSONType, default=list)
    conditions: Mapped[dict] = mapped_column(JSONType, default=dict)
    actions: Mapped[list] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Draft(db.Model):
    """A reply prepared for an agent (by a rule): filled in, not sent. The agent edits and
    sends it from the composer, or discards it."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    # The canned response it was filled in from, and why it was not sent automatically.
    response: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(300))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("rules.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when an agent sent or discarded it; an open draft has neither.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship()
    rule: Mapped[Rule | None] = relationship()


class AssignmentCursor(db.Model):
    """Whose turn it is in a team. The row is updated before it is read, which locks it
    (PostgreSQL row lock, SQLite's write lock), so two workers never hand out one turn twice.
    """

    __tablename__ = "assignment_cursors"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    last_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    turns: Mapped[int] = mapped_column(Integer, default=0)

    team: Mapped[Team] = relationship()
    last_user: Mapped[User | None] = relationship()
