"""Tickets and what they hold: messages, attachments, raw sources, intent tags and tags."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from channel_adapters.base import CHANNELS
from helpdesk.extensions import db
from helpdesk.models.agents import Team, User
from helpdesk.models.customers import Customer
from helpdesk.models.types import JSONType, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:
    from helpdesk.models.commerce import Order
    from helpdesk.models.rules import Draft

TICKET_STATUSES: tuple[str, ...] = ("new", "open", "pending", "on_hold", "solved", "closed")
#: Statuses in which a customer is still waiting for something from us.
UNSOLVED_STATUSES: tuple[str, ...] = ("new", "open", "pending", "on_hold")
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
DIRECTIONS: tuple[str, ...] = ("inbound", "outbound", "note")
AUTHOR_KINDS: tuple[str, ...] = ("customer", "agent", "bot", "system")
INTENT_SOURCES: tuple[str, ...] = ("model", "agent", "rule")
#: "sla": a ticket breached its SLA (to leads); "csat": a low satisfaction rating (to leads).
NOTIFICATION_KINDS: tuple[str, ...] = ("mention", "sla", "csat")
#: Statuses of the tickets that are done; the inbox's "solved" view shows both.
SOLVED_STATUSES: tuple[str, ...] = ("solved", "closed")


def _partial_index(name: str, statuses: tuple[str, ...], *columns: str) -> Index:
    """An index over the tickets in `statuses` only. Queries must repeat the condition
    as literal SQL (not bound parameters) for SQLite and PostgreSQL to use it."""
    where = text(one_of("status", statuses))
    return Index(name, *columns, postgresql_where=where, sqlite_where=where)


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(one_of("status", TICKET_STATUSES), name="status"),
        CheckConstraint(one_of("priority", PRIORITIES), name="priority"),
        CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        Index("ix_tickets_status_last_activity", "status", "last_activity_at"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        # The inbox pages by keyset (helpdesk/services/inbox.py): per sort, one index over
        # the unsolved tickets and one over the solved, so no page sorts a million rows.
        *(
            _partial_index(f"ix_tickets_{group}_{sort}", statuses, *columns)
            for group, statuses in (("unsolved", UNSOLVED_STATUSES), ("solved", SOLVED_STATUSES))
            for sort, columns in (
                ("activity", ("last_activity_at", "id")),
                ("sla", ("sla_due_at", "id")),
                ("priority", ("priority", "last_activity_at", "id")),
            )
        ),
        # A colleague's (or my own) solved tickets, latest first.
        _partial_index(
            "ix_tickets_solved_assignee",
            SOLVED_STATUSES,
            *("assignee_id", "last_activity_at", "id"),
        ),
        # The view counts read only this index (one grouped scan over the unsolved tickets).
        _partial_index(
            "ix_tickets_unsolved_counts",
            UNSOLVED_STATUSES,
            *("status", "channel", "assignee_id", "sla_due_at", "intent_bits", "id"),
        ),
        Index(
            "ix_tickets_escalated_to_id",
            "escalated_to_id",
            postgresql_where=text("escalated_to_id IS NOT NULL"),
            sqlite_where=text("escalated_to_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default="new")
    priority: Mapped[str] = mapped_column(String(20), default="normal")
    channel: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The DM a social media manager handed over to care points at the care ticket.
    escalated_to_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # A customer writing on a ticket closed (or solved long ago) starts a linked follow-up.
    follow_up_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # The order the ticket is about: named in a message ("entity"), the customer's most
    # recent ("recent"), or chosen by an agent ("agent", never overwritten automatically).
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    order_link: Mapped[str | None] = mapped_column(String(10))
    # A ticket merged into another stays, closed, as a pointer to where its messages went.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    # The intents the ticket carries now, one bit each (INTENT_BITS in
    # helpdesk/services/inbox_intents.py), kept by a database trigger on intent_tags, so
    # the inbox counts intents in the same index scan as its views. Never written by the
    # ORM (the trigger owns it) and only read when asked for.
    intent_bits: Mapped[int] = mapped_column(Integer, server_default="0", deferred=True)

    customer: Mapped[Customer] = relationship()
    follow_up_of: Mapped[Ticket | None] = relationship(
        remote_side="Ticket.id", foreign_keys=[follow_up_of_id]
    )
    merged_into: Mapped[Ticket | None] = relationship(
        remote_side="Ticket.id", foreign_keys=[merged_into_id]
    )
    assignee: Mapped[User | None] = relationship()
    team: Mapped[Team | None] = relationship()
    order: Mapped[Order | None] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket",
        cascade="all, delete-orphan",
        order_by="Message.created_at, Message.id",
    )
    intent_tags: Mapped[list[IntentTag]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="IntentTag.id"
    )
    tags: Mapped[list[TicketTag]] = relationship(
        cascade="all, delete-orphan", order_by="TicketTag.name"
    )
    #: Rules' drafts no agent has sent or discarded yet (the ticket page reads them with
    #: the ticket; whether an agent answered since is up to the reader).
    unused_drafts: Mapped[list[Draft]] = relationship(
        primaryjoin="and_(Draft.ticket_id == Ticket.id, Draft.used_at.is_(None))",
        order_by="Draft.id.desc()",
        viewonly=True,
    )

    @property
    def number(self) -> int:
        """The number customers and agents quote, as in "[#1234]"."""
        return self.id

    @property
    def intents(self) -> list[str]:
        """The intents currently on the ticket: per intent, the latest tag decides."""
        return sorted(current_intents(self.intent_tags))


def current_intents(tags: Iterable[IntentTag]) -> set[str]:
    """Per intent, the latest tag wins: an agent's rejection removes the model's guess,
    and an agent adding it again brings it back."""
    latest: dict[str, bool] = {}
    for tag in sorted(tags, key=lambda t: (t.id is None, t.id or 0)):
        latest[tag.intent] = not tag.rejected
    return {intent for intent, present in latest.items() if present}


class TicketTag(db.Model):
    __tablename__ = "ticket_tags"
    # A tag's tickets from the index alone: the inbox's tag filter and escalated view.
    __table_args__ = (Index("ix_ticket_tags_name_ticket_id", "name", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(60), primary_key=True)


class RawSource(db.Model):
    """The bytes a message arrived as, kept for audit and for parsing again later."""

    __tablename__ = "raw_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        # The idempotency guarantee of ingest: a channel never delivers one message twice.
        UniqueConstraint("channel", "external_id"),
        CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        CheckConstraint(one_of("direction", DIRECTIONS), name="direction"),
        CheckConstraint(one_of("author_kind", AUTHOR_KINDS), name="author_kind"),
        Index("ix_messages_channel_thread_key", "channel", "thread_key"),
        # Social read receipts and the messaging window look up messages by the customer's
        # platform id (services/social_intake.py, social_send.py).
        Index("ix_messages_channel_counterpart", "channel", "counterpart"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10))
    author_kind: Mapped[str] = mapped_column(String(10))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    external_id: Mapped[str | None] = mapped_column(String(998))
    thread_key: Mapped[str | None] = mapped_column(String(255))
    # The address or id the message came from or went to, e.g. the customer's e-mail.
    counterpart: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    quoted_text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)  # sanitised, safe to show
    auto_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    raw_source_id: Mapped[int | None] = mapped_column(ForeignKey("raw_sources.id"))
    details: Mapped[dict] = mapped_column(JSONType, default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
    raw_source: Mapped[RawSource | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="Attachment.id"
    )


class Attachment(db.Model):
    __tablename__ = "attachments"
    __table_args__ = (CheckConstraint("size >= 0", name="size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_id: Mapped[str | None] = mapped_column(String(255))
    inline: Mapped[bool] = mapped_column(Boolean, default=False)
    # Why the bytes were not kept (e.g. over the size limit); the metadata still is.
    omitted_reason: Mapped[str | None] = mapped_column(String(255))

    message: Mapped[Message] = relationship(back_populates="attachments")


class IntentTag(db.Model):
    """An intent on a ticket: predicted by the model, set by a rule, or corrected by an agent.

    Agent corrections are training data: `rejected` marks an intent the agent
    removed, so the model's guess and the correction are both kept.
    """

    __tablename__ = "intent_tags"
    __table_args__ = (
        CheckConstraint(one_of("source", INTENT_SOURCES), name="source"),
        CheckConstraint(
            "confidence IS NULL OR (confidence >= 0 AND confidence <= 1)", name="confidence"
        ),
        Index("ix_intent_tags_intent", "intent"),
        # A ticket's intents and which tag is the latest, from the index alone (the inbox
        # counts them over the whole backlog on every page).
        Index("ix_intent_tags_ticket_intent", "ticket_id", "intent", "id", "rejected"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    intent: Mapped[str] = mapped_column(String(40))
    confidence: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(10), default="model")
    model_version: Mapped[str | None] = mapped_column(String(40))
    rejected: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="intent_tags")
    message: Mapped[Message | None] = relationship()


class Notification(db.Model):
    """Something on a ticket a user should look at: for now, a colleague @mentioned them
    in an internal note. Read when the user opens the ticket or marks it read."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(one_of("kind", NOTIFICATION_KINDS), name="kind"),
        # The header's unread count for every page view: one user's unread rows.
        Index("ix_notifications_user_read", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="mention")
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    # Who mentioned them.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    ticket: Mapped[Ticket] = relationship()
    message: Mapped[Message | None] = relationship()
