"""A record of two customers becoming one, so an agent can take it back.

Merging moves identities and tickets; the record names exactly which rows moved, so
an unmerge puts back those and nothing that came to the surviving customer later.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.agents import User
from helpdesk.models.customers import Customer
from helpdesk.models.types import JSONType, UTCDateTime, utcnow


class CustomerMerge(db.Model):
    __tablename__ = "customer_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    kept_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    merged_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    # Ids of the identities and tickets that moved from `merged` to `kept`.
    identity_ids: Mapped[list] = mapped_column(JSONType, default=list)
    ticket_ids: Mapped[list] = mapped_column(JSONType, default=list)
    # What the kept customer lacked and took over (name, language), to give back.
    taken: Mapped[dict] = mapped_column(JSONType, default=dict)
    actor: Mapped[str] = mapped_column(String(40), default="system")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    kept: Mapped[Customer] = relationship(foreign_keys=[kept_id])
    merged: Mapped[Customer] = relationship(foreign_keys=[merged_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
