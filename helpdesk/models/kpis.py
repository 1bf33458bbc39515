"""What team leads measure: business hours, SLA policies and each ticket's stored metrics.

`TicketMetrics` holds one row per ticket, refreshed whenever something happens to the
ticket (helpdesk/services/ticket_metrics.py), so the dashboard reads one narrow table
instead of scanning messages on every view.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import db
from helpdesk.models.types import JSONType, UTCDateTime, utcnow

#: Monday to Friday, 08:00 to 18:00: the default opening hours of a care team.
DEFAULT_WEEKLY_HOURS: dict[str, list[list[str]]] = {
    str(day): [["08:00", "18:00"]] for day in range(5)
}


class BusinessHours(db.Model):
    """When a team works: opening hours per weekday (0 = Monday) in a time zone, and the
    public holidays of a country (and state) on which it does not. The row without a
    team is everyone's default."""

    __tablename__ = "business_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), unique=True
    )
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    # {"0": [["08:00", "18:00"]], ...}; a weekday without an entry is closed.
    weekly: Mapped[dict] = mapped_column(JSONType, default=lambda: dict(DEFAULT_WEEKLY_HOURS))
    holiday_country: Mapped[str | None] = mapped_column(String(8), default="DE")
    holiday_subdivision: Mapped[str | None] = mapped_column(String(8))
    # Extra closed days ("2026-12-24"), e.g. the company's own Christmas Eve.
    closed_days: Mapped[list] = mapped_column(JSONType, default=list)


class SlaPolicy(db.Model):
    """A first-response target for the tickets it matches. An empty channel, priority or
    intent matches any; the policy matching the most of the three wins, then the
    strictest (shortest target), then the lower id."""

    __tablename__ = "sla_policies"
    __table_args__ = (
        CheckConstraint("first_response_minutes > 0", name="first_response_minutes"),
        CheckConstraint("warn_before_minutes >= 0", name="warn_before_minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(20))
    priority: Mapped[str | None] = mapped_column(String(20))
    intent: Mapped[str | None] = mapped_column(String(40))
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    # Counted in the team's business hours (e-mail) or around the clock (chat).
    business_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    warn_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # On breach: notify the leads and raise the priority one step.
    escalate: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketMetrics(db.Model):
    """One ticket's measured times, in seconds, calendar and business (`_bh`). A value is
    NULL until it exists (no first reply yet, not solved yet). Definitions: README "KPIs"."""

    __tablename__ = "ticket_metrics"
    __table_args__ = (
        # The dashboard asks for a period of created tickets, grouped by one column.
        Index("ix_ticket_metrics_created_channel", "created_at", "channel"),
        # The backlog at the end of a period: unsolved tickets, and those solved after it.
        Index(
            "ix_ticket_metrics_unsolved_created",
            "created_at",
            postgresql_where=text("solved_at IS NULL"),
            sqlite_where=text("solved_at IS NULL"),
        ),
        Index("ix_ticket_metrics_solved_at", "solved_at"),
    )

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(20), default="normal")
    intent: Mapped[str | None] = mapped_column(String(40))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="new")
    # When the first-response clock started: created, or the bot's hand-off to a person.
    clock_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_s: Mapped[float | None] = mapped_column(Float)
    first_response_bh_s: Mapped[float | None] = mapped_column(Float)
    next_reply_s: Mapped[float | None] = mapped_column(Float)  # mean over the ticket's waits
    next_reply_bh_s: Mapped[float | None] = mapped_column(Float)
    first_resolution_s: Mapped[float | None] = mapped_column(Float)
    first_resolution_bh_s: Mapped[float | None] = mapped_column(Float)
    full_resolution_s: Mapped[float | None] = mapped_column(Float)
    full_resolution_bh_s: Mapped[float | None] = mapped_column(Float)
    requester_wait_s: Mapped[float | None] = mapped_column(Float)
    requester_wait_bh_s: Mapped[float | None] = mapped_column(Float)
    agent_wait_s: Mapped[float | None] = mapped_column(Float)
    agent_wait_bh_s: Mapped[float | None] = mapped_column(Float)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    reopens: Mapped[int] = mapped_column(Integer, default=0)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    one_touch: Mapped[bool] = mapped_column(Boolean, default=False)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # True: answered in time; False: answered late or overdue; NULL: no SLA or still in time.
    sla_met: Mapped[bool | None] = mapped_column(Boolean)
    sla_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketMetricsDue(db.Model):
    """Tickets whose metrics wait for the worker: ingest, the hottest path, only notes the
    ticket here (one insert) and the worker's refresh-metrics job computes them seconds
    later, several at a time. Agents' actions still refresh at once."""

    __tablename__ = "ticket_metrics_due"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SpikeSettings(db.Model):
    """How the worker recognises a volume spike and what it does then (one row, id 1):
    a spike is an hour with at least `factor` times the usual new tickets for that weekday
    and hour, and at least `min_tickets`. With `auto_acknowledge` every new ticket during a
    spike gets an automatic answer with the expected response time, in the customer's
    language; leads edit the texts ({minutes} and {hours} are replaced)."""

    __tablename__ = "spike_settings"
    __table_args__ = (
        CheckConstraint("factor >= 1", name="factor"),
        CheckConstraint("min_tickets >= 1", name="min_tickets"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    factor: Mapped[float] = mapped_column(Float, default=2.0)
    min_tickets: Mapped[int] = mapped_column(Integer, default=10)
    auto_acknowledge: Mapped[bool] = mapped_column(Boolean, default=False)
    text_de: Mapped[str] = mapped_column(String(1000))
    text_en: Mapped[str] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VolumeSpike(db.Model):
    """An hour in which more customers wrote than usual; open until volume is normal."""

    __tablename__ = "volume_spikes"
    __table_args__ = (Index("ix_volume_spikes_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tickets: Mapped[int] = mapped_column(Integer)  # new tickets in the hour that raised it
    usual: Mapped[float] = mapped_column(Float)  # the usual count for that weekday and hour
    expected_minutes: Mapped[int | None] = mapped_column(Integer)
    acknowledged: Mapped[int] = mapped_column(Integer, default=0)  # automatic answers sent
