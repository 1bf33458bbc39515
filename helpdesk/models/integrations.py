"""How other systems talk to us and we to them: API tokens, outbound webhook endpoints,
and the record of inbound webhook deliveries that makes redelivery harmless."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.agents import User
from helpdesk.models.types import JSONType, UTCDateTime, utcnow


class ApiToken(db.Model):
    """A personal API token. Only its SHA-256 is stored; it acts with its user's role."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class WebhookEndpoint(db.Model):
    """A URL we call, signed with its secret, for the event types it subscribed to.

    The secret is the name of an environment variable, never the secret itself.
    `events` holds type patterns such as "dunning.*" or "return.received".
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret_env: Mapped[str] = mapped_column(String(100))
    events: Mapped[list] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundDelivery(db.Model):
    """A webhook delivery we have processed, by the sender's delivery id: redelivery of the
    same id is answered 200 and changes nothing."""

    __tablename__ = "inbound_deliveries"
    __table_args__ = (UniqueConstraint("source", "delivery_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(40))  # shopify, logistics, meta, ...
    delivery_id: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(100), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[dict] = mapped_column(JSONType, default=dict)
