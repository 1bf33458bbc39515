"""The wall of pain and the wall of ideas: what hurts customers or agents, and what would help."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.agents import User
from helpdesk.models.types import UTCDateTime, one_of, utcnow

WALL_KINDS: tuple[str, ...] = ("pain", "idea")
WALL_STATUSES: tuple[str, ...] = ("new", "planned", "done")


class WallEntry(db.Model):
    __tablename__ = "wall_entries"
    __table_args__ = (
        CheckConstraint(one_of("kind", WALL_KINDS), name="kind"),
        CheckConstraint(one_of("status", WALL_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="new")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()
    tickets: Mapped[list[WallTicket]] = relationship(cascade="all, delete-orphan")
    votes: Mapped[list[WallVote]] = relationship(cascade="all, delete-orphan")


class WallTicket(db.Model):
    """A ticket pinned to an entry: evidence of how often it hurts."""

    __tablename__ = "wall_tickets"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("wall_entries.id", ondelete="CASCADE"), primary_key=True
    )
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    pinned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WallVote(db.Model):
    """One vote per person and entry."""

    __tablename__ = "wall_votes"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("wall_entries.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
