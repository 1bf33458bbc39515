"""Why customers send things back, per week or month: data for the KPI dashboard.

Counted are returned pieces (`ReturnItem.quantity`), not returns, because one
parcel often holds a dress that was too small and a blouse the customer did not
like. A return counts in the period it was requested (`Return.requested_at`, in
UTC), whatever became of it later: a rejected return still says why the customer
wanted to send it back.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import select

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import RETURN_REASONS, Return, ReturnItem

Period = Literal["week", "month"]
PERIODS: tuple[str, ...] = ("week", "month")


@dataclass(frozen=True)
class ReasonRow:
    """Pieces returned for one reason in one period, and their share of that period."""

    period: str  # "2026-W07" (ISO week) or "2026-02"
    reason: str  # one of RETURN_REASONS
    items: int
    share: float  # of the period's returned pieces, 0..1, rounded to 4 places

    def as_dict(self) -> dict:
        return asdict(self)


def return_reasons(start: date, end: date, *, by: Period = "week") -> list[ReasonRow]:
    """Returned pieces per period and reason for returns requested from `start` to `end`
    (both days included). Periods without returns have no rows; within a period the
    reasons come most frequent first, ties in the order of `RETURN_REASONS`."""
    if by not in PERIODS:
        raise InvalidInput(f"by must be one of {', '.join(PERIODS)}, not {by!r}")
    if end < start:
        raise InvalidInput(f"the period ends ({end}) before it starts ({start})")
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    lines = db.session.execute(
        select(Return.requested_at, ReturnItem.reason, ReturnItem.quantity)
        .join(ReturnItem.return_)
        .where(Return.requested_at >= since, Return.requested_at < until)
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for requested_at, reason, quantity in lines:
        counts[period_of(requested_at.date(), by)][reason] += quantity
    rows = []
    for period in sorted(counts):
        by_reason = counts[period]
        total = sum(by_reason.values())
        ranked = sorted(by_reason.items(), key=lambda kv: (-kv[1], _reason_rank(kv[0])))
        rows.extend(
            ReasonRow(period, reason, items, round(items / total, 4)) for reason, items in ranked
        )
    return rows


def period_of(day: date, by: Period) -> str:
    """The label of the week ("2026-W07", ISO 8601) or month ("2026-02") `day` falls in."""
    if by == "month":
        return f"{day.year:04d}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def period_start(day: date, by: Period) -> date:
    """The first day of the week (Monday) or month `day` falls in."""
    if by == "month":
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


def periods_back(day: date, count: int, by: Period) -> date:
    """The first day of the period `count - 1` periods before the one `day` falls in, so
    that from there to `day` are `count` periods."""
    if by == "month":
        months = day.year * 12 + day.month - 1 - (count - 1)
        return date(months // 12, months % 12 + 1, 1)
    return period_start(day, "week") - timedelta(weeks=count - 1)


def _reason_rank(reason: str) -> int:
    return RETURN_REASONS.index(reason) if reason in RETURN_REASONS else len(RETURN_REASONS)
