"""Configured channel connections with their state and health, and quarantined input."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from channel_adapters.base import CHANNELS
from helpdesk.extensions import db
from helpdesk.models.types import JSONType, UTCDateTime, one_of, utcnow


class ChannelState(db.Model):
    """One connection of a channel, e.g. the IMAP mailbox returns@ or a Facebook page.

    `config` holds settings but never secrets (those are named environment
    variables); `state` holds what the adapter must remember, such as IMAP's
    UIDVALIDITY and last UID; the last success and error show its health.
    """

    __tablename__ = "channel_states"
    __table_args__ = (
        UniqueConstraint("kind", "name"),
        CheckConstraint(one_of("kind", CHANNELS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    config: Mapped[dict] = mapped_column(JSONType, default=dict)
    state: Mapped[dict] = mapped_column(JSONType, default=dict)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuarantinedInput(db.Model):
    """Input that could not be turned into a message, kept whole with the reason.

    Nothing that arrives is dropped: an admin can read the reason, fix the
    parser or the data, and feed it through again.
    """

    __tablename__ = "quarantined_inputs"
    # The same bytes are quarantined once, however often they are delivered or imported.
    __table_args__ = (UniqueConstraint("channel", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
