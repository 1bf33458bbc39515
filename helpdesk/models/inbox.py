"""What the inbox keeps for itself: the intent counts of the backlog, shared by all workers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import db
from helpdesk.models.types import JSONType, UTCDateTime, utcnow


class InboxCounts(db.Model):
    """The unsolved tickets per intent, for one scope of visibility ("all", "social").

    Counting them reads every backlog ticket's intent tags, the dearest part of an inbox
    page, so the result is kept with a fingerprint of what it was counted from (the
    backlog's size and id checksums, the latest intent tag) and counted again only when
    that changed. Derived data: deleting the rows loses nothing.
    """

    __tablename__ = "inbox_counts"

    scope: Mapped[str] = mapped_column(String(20), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(100))
    counts: Mapped[dict] = mapped_column(JSONType, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
