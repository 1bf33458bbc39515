"""The KPI demo data: a Monday spike the real check finds, and nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from helpdesk.demo import _ensure_users
from helpdesk.demo.kpis import load_kpi_demo
from helpdesk.extensions import db
from helpdesk.models import CsatSurvey, SlaPolicy, Ticket, TicketMetrics, VolumeSpike, WallEntry


def counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Ticket, TicketMetrics, VolumeSpike, CsatSurvey, WallEntry, SlaPolicy)
    )


def test_demo_has_a_monday_spike_and_loads_once(app):
    now = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # a Thursday afternoon
    users = _ensure_users()
    assert load_kpi_demo(users, now, weeks=3) > 72
    db.session.commit()
    first = counts()
    tickets, measured, spikes_found, surveys, wall, policies = first
    assert tickets == measured and surveys >= 4 and wall == 4 and policies == 4
    spike = db.session.scalar(select(VolumeSpike))
    started = spike.started_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert spikes_found == 1 and started.weekday() == 0 and spike.ended_at is not None
    assert spike.tickets >= 2 * max(spike.usual, 5)

    assert load_kpi_demo(users, now, weeks=3) == 0
    db.session.commit()
    assert counts() == first
