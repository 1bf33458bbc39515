"""Live chat: a visitor's conversation, the FAQ the chatbot answers from, and which agents
are around to take a chat over.

A `ChatSession` is the visitor's side of a chat ticket: the random `visitor` id their
signed token names (also their `chat_visitor` identity and the messages' thread key),
what the bot is waiting for, and the name and e-mail they gave. Messages themselves are
ordinary rows in `messages`; nothing about the conversation lives in a web worker.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.agents import LANGUAGES
from helpdesk.models.tickets import Ticket
from helpdesk.models.types import JSONType, UTCDateTime, one_of, utcnow

#: bot: the bot answers; order_number / order_email: it asked for them ("where is my
#: order"); human: handed over to a person; offline_email: nobody was online and it asked
#: for an address; email: the conversation goes on by e-mail.
CHAT_STATES: tuple[str, ...] = (
    "bot",
    "order_number",
    "order_email",
    "human",
    "offline_email",
    "email",
)


class ChatSession(db.Model):
    __tablename__ = "chat_sessions"
    __table_args__ = (
        CheckConstraint(one_of("state", CHAT_STATES), name="state"),
        # New conversations per client address in a window (the rate limit on starts).
        Index("ix_chat_sessions_ip_hash_created_at", "ip_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor: Mapped[str] = mapped_column(String(64), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    language: Mapped[str] = mapped_column(String(8), default="de")
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    state: Mapped[str] = mapped_column(String(20), default="bot")
    # What the bot remembers between turns, e.g. {"order_number": "100457", "tries": 1}.
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    # SHA-256 of the client address with the secret key: enough to count, not to identify.
    ip_hash: Mapped[str] = mapped_column(String(64), default="")
    page: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket | None] = relationship()


class FaqEntry(db.Model):
    """One answer the chatbot gives at once and the public FAQ page shows, per language.

    `alternatives` holds other ways customers ask the same question, one per line; the
    bot matches a message against the question and these."""

    __tablename__ = "faq_entries"
    __table_args__ = (
        UniqueConstraint("topic", "language"),
        CheckConstraint(one_of("language", LANGUAGES), name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(String(300))
    alternatives: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgentAvailability(db.Model):
    """When a care agent last used the helpdesk: a chat is offered to a person only while
    someone was seen within a few minutes (the inbox's live stream reconnects every
    minute, so an open inbox counts)."""

    __tablename__ = "agent_availability"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
