"""Who has a ticket open right now, and whether they are typing: collision detection.

One row per ticket and user, refreshed by the browser's beats; a row whose last beat is
older than a few seconds counts as gone. Rows live in the database, not in a web
worker's memory, so every gunicorn worker sees the same presence.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.agents import User
from helpdesk.models.types import UTCDateTime, one_of, utcnow

PRESENCE_STATES: tuple[str, ...] = ("viewing", "typing")
#: A tab's goodbye: kept (until it expires) so that a beat of that tab arriving after it,
#: sent just before the page went, cannot bring the person back for half a minute.
GONE = "gone"


class Presence(db.Model):
    __tablename__ = "presence"
    __table_args__ = (CheckConstraint(one_of("state", (*PRESENCE_STATES, GONE)), name="state"),)

    # The primary key is what a beat upserts on: one row per person and ticket.
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(10), default="viewing")
    # The browser tab that beat last: a tab that closes removes the row only if it is still
    # its own, not after the page that replaced it (a reply sent, the same ticket again) beat.
    tab: Mapped[str] = mapped_column(String(40), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    user: Mapped[User] = relationship()
