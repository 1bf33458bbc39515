"""The append-only event trail: every change, who made it and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.agents import User
from helpdesk.models.customers import Customer
from helpdesk.models.tickets import Message, Ticket
from helpdesk.models.types import JSONType, UTCDateTime, utcnow


class Event(db.Model):
    """One thing that happened. Rows are never updated: the database refuses it.

    `actor` names who did it when that was not a user: "ingest", "worker",
    "rule:<id>", "cli". Deleting is allowed, for erasure of a customer's data.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_ticket_created", "ticket_id", "created_at"),
        Index("ix_events_kind_created", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(60))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(60), default="system")
    data: Mapped[dict] = mapped_column(JSONType, default=dict)

    user: Mapped[User | None] = relationship()
    # No back-references: tickets never load their trail by accident, and the
    # database's ON DELETE CASCADE removes it with the ticket.
    ticket: Mapped[Ticket | None] = relationship()
    customer: Mapped[Customer | None] = relationship()
    message: Mapped[Message | None] = relationship()
