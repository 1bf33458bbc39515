"""Customers and the identities (address, number, platform id) they are known by."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from channel_adapters.base import CHANNELS, IDENTITY_KINDS
from helpdesk.extensions import db
from helpdesk.models.types import UTCDateTime, one_of, utcnow


class Customer(db.Model):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint(one_of("preferred_channel", CHANNELS), name="preferred_channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    preferred_channel: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A merged customer stays as a pointer so old links and events still resolve.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)

    identities: Mapped[list[CustomerIdentity]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerIdentity.id"
    )

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        for identity in self.identities:
            return identity.display_name or identity.value
        return f"#{self.id}"

    def identity(self, kind: str) -> str | None:
        """The first value of `kind` this customer is known by, e.g. their e-mail address."""
        return next((i.value for i in self.identities if i.kind == kind), None)


class CustomerIdentity(db.Model):
    __tablename__ = "customer_identities"
    __table_args__ = (
        UniqueConstraint("kind", "value"),
        CheckConstraint(one_of("kind", IDENTITY_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="identities")
