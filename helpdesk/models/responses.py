"""Canned responses: prepared answers, per language, suggested by intent and channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import db
from helpdesk.models.agents import LANGUAGES
from helpdesk.models.types import JSONType, UTCDateTime, one_of, utcnow


class CannedResponse(db.Model):
    """A Jinja2 template (rendered sandboxed) with placeholders such as
    `{{ order.number }}` or `{{ return.received_at | date }}`.

    `intents` and `channels` say when to suggest it (empty: always);
    `requires` names facts it needs, e.g. ["return"], so it is offered only when they exist.
    """

    __tablename__ = "canned_responses"
    __table_args__ = (
        UniqueConstraint("shortcut", "language"),
        CheckConstraint(one_of("language", LANGUAGES), name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    shortcut: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    intents: Mapped[list] = mapped_column(JSONType, default=list)
    channels: Mapped[list] = mapped_column(JSONType, default=list)
    requires: Mapped[list] = mapped_column(JSONType, default=list)
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
