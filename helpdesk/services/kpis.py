"""The team lead's KPI report, computed from the stored per-ticket metrics.

`report(start, end, group_by=...)` is the one entry point: the dashboard (/kpis), the
CLI (`helpdesk kpis`) and the API (/api/v1/kpis) all call it and show the same numbers.
A period is whole days in the default business-hours time zone (Europe/Berlin), both
days included; a ticket belongs to the period it was created in.

Medians and 90th percentiles interpolate linearly between the two nearest values,
exactly as PostgreSQL's `percentile_cont`: on PostgreSQL the database computes them
(a million tickets stay within a second); on SQLite the same numbers come from Python.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, and_, bindparam, case, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import Team, TicketMetrics, User
from helpdesk.models.types import utcnow
from helpdesk.services.business_time import calendar_for
from helpdesk.services.return_stats import ReasonRow, return_reasons

#: What a report can be broken down by, and the metrics column behind it.
GROUPS: dict[str, Any] = {
    "channel": TicketMetrics.channel,
    "agent": TicketMetrics.assignee_id,
    "team": TicketMetrics.team_id,
    "intent": TicketMetrics.intent,
    "priority": TicketMetrics.priority,
}
#: Time metrics: name -> (calendar column, business-hours column).
DURATIONS: dict[str, tuple[str, str]] = {
    name: (f"{name}_s", f"{name}_bh_s")
    for name in (
        "first_response",
        "next_reply",
        "first_resolution",
        "full_resolution",
        "requester_wait",
        "agent_wait",
    )
}
#: The longest period one report covers.
MAX_DAYS = 366
_QUANTILES = (0.5, 0.9)


@dataclass
class GroupRow:
    """One line of the table: a channel, an agent, a team, an intent (or the total)."""

    key: str
    label: str
    tickets: int = 0
    answered: int = 0
    solved: int = 0
    # name -> {"median": s, "p90": s, "median_bh": s, "p90_bh": s} (None when no values)
    durations: dict[str, dict[str, float | None]] = field(default_factory=dict)
    replies_per_ticket: float | None = None
    reopen_rate: float | None = None  # of solved tickets
    one_touch_rate: float | None = None  # of solved tickets
    sla_met: int = 0
    sla_missed: int = 0

    @property
    def sla_attainment(self) -> float | None:
        judged = self.sla_met + self.sla_missed
        return round(self.sla_met / judged, 4) if judged else None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["sla_attainment"] = self.sla_attainment
        return data


@dataclass
class TrendPoint:
    """One day or week: tickets created, and their first response in business hours."""

    period: str  # "2026-11-30" or "2026-W49"
    tickets: int
    first_response_bh_median: float | None
    first_response_bh_p90: float | None
    sla_met: int
    sla_missed: int


@dataclass
class KpiReport:
    start: date
    end: date
    group_by: str
    timezone: str
    generated_at: datetime
    rows: list[GroupRow]
    total: GroupRow
    backlog: int  # created up to the end of the period and not solved by then
    daily: list[TrendPoint]
    weekly: list[TrendPoint]
    heatmap: list[list[int]]  # [weekday 0 = Monday][hour 0..23] tickets created
    return_reasons: list[ReasonRow]

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "group_by": self.group_by,
            "timezone": self.timezone,
            "generated_at": self.generated_at.isoformat(),
            "rows": [row.as_dict() for row in self.rows],
            "total": self.total.as_dict(),
            "backlog": self.backlog,
            "daily": [asdict(p) for p in self.daily],
            "weekly": [asdict(p) for p in self.weekly],
            "heatmap": self.heatmap,
            "return_reasons": [r.as_dict() for r in self.return_reasons],
        }


def report(
    start: date, end: date, *, group_by: str = "channel", now: datetime | None = None
) -> KpiReport:
    """The KPIs of the tickets created from `start` to `end` (local days, inclusive),
    broken down by `group_by` (one of GROUPS). Read only."""
    if group_by not in GROUPS:
        raise InvalidInput(f"group_by must be one of {', '.join(GROUPS)}, not {group_by!r}")
    if end < start:
        raise InvalidInput(f"the period ends ({end}) before it starts ({start})")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"a report covers at most {MAX_DAYS} days")
    zone = calendar_for(None).zone
    since, until = period_bounds(start, end)
    in_period = and_(TicketMetrics.created_at >= since, TicketMetrics.created_at < until)
    if db.engine.dialect.name == "postgresql":
        # Each percentile sorts its column; in memory that is several times faster than
        # spilling a quarter of a million values to disk (the default work_mem is 4 MB).
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))
        source = _PostgresSource(zone, since, until)
    else:
        source = _PythonSource(zone)
    rows, total = source.groups(in_period, group_by)
    _label(rows, group_by)
    daily, weekly = source.trends(in_period)
    return KpiReport(
        start=start,
        end=end,
        group_by=group_by,
        timezone=zone.key,
        generated_at=now or utcnow(),
        rows=rows,
        total=total,
        backlog=_backlog(until),
        daily=daily,
        weekly=weekly,
        heatmap=source.heatmap(in_period),
        return_reasons=return_reasons(start, end, by="week"),
    )


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC instants where the local days `start` to `end` (inclusive) begin and end."""
    zone = calendar_for(None).zone
    since = datetime.combine(start, time.min, zone).astimezone(UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, zone).astimezone(UTC)
    return since, until


def _backlog(until: datetime) -> int:
    """Tickets created before `until` that were not solved by then (or are unsolved):
    two counts, each answered from its own index."""
    m = TicketMetrics
    unsolved = select(func.count()).where(m.solved_at.is_(None), m.created_at < until)
    solved_later = select(func.count()).where(m.solved_at >= until, m.created_at < until)
    return db.session.scalar(unsolved) + db.session.scalar(solved_later)


def _label(rows: list[GroupRow], group_by: str) -> None:
    """Names for ids: agents and teams by name; missing values as "none"."""
    names: dict[str, str] = {}
    ids = [int(r.key) for r in rows if r.key.isdigit()]
    if group_by == "agent" and ids:
        names = {str(i): n for i, n in db.session.execute(
            select(User.id, User.name).where(User.id.in_(ids)))}  # fmt: skip
    elif group_by == "team" and ids:
        names = {str(i): n for i, n in db.session.execute(
            select(Team.id, Team.name).where(Team.id.in_(ids)))}  # fmt: skip
    for row in rows:
        row.label = names.get(row.key, row.key) if row.key else "none"


# -- PostgreSQL: the database aggregates ------------------------------------------------


class _PostgresSource:
    """Aggregates in the database. Days, weeks and hours are found by `width_bucket`
    against their UTC boundaries, computed here once, instead of converting every
    ticket's time to local time (that conversion cost more than the counting)."""

    def __init__(self, zone: ZoneInfo, since: datetime, until: datetime) -> None:
        self.zone = zone
        self.since, self.until = since, until

    def groups(self, in_period, group_by: str) -> tuple[list[GroupRow], GroupRow]:
        """One grouped query with ROLLUP for the total. Its percentiles are most of the
        report's time and each sorts on one core, so the business-hours half runs at the
        same time on a second connection (read only; a ticket changing in between may
        count in one half and not yet in the other)."""
        key = GROUPS[group_by]

        def query(**which):
            heads = [key.label("key"), func.grouping(key).label("is_total")]
            return select(*heads, *_aggregates(**which)).where(in_period).group_by(func.rollup(key))

        engine = db.engine

        def business_half() -> dict:
            with engine.connect() as conn:
                conn.execute(text("SET LOCAL work_mem = '64MB'"))
                found = conn.execute(query(rest=False)).mappings()
                return {(r["key"], r["is_total"]): dict(r) for r in found}

        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(business_half)
            result = db.session.execute(query(business=False)).mappings().all()
            business = pending.result()
        rows, total = [], GroupRow("", "total")
        for found in result:
            found = {**found, **business.get((found["key"], found["is_total"]), {})}
            row = _row_from_aggregates(found, "" if found["key"] is None else str(found["key"]))
            if found["is_total"]:
                total = row
                total.label = "total"
            else:
                rows.append(row)
        rows.sort(key=lambda r: (-r.tickets, r.key))
        return rows, total

    def _starts(self, unit: str) -> list[datetime]:
        """UTC instants where each local day or ISO week in the period begins."""
        first = self.since.astimezone(self.zone).date()
        last = (self.until - timedelta(microseconds=1)).astimezone(self.zone).date()
        if unit == "week":
            first -= timedelta(days=first.weekday())
        step = timedelta(weeks=1) if unit == "week" else timedelta(days=1)
        starts = []
        while first <= last:
            starts.append(datetime.combine(first, time.min, self.zone).astimezone(UTC))
            first += step
        return starts

    def trends(self, in_period) -> tuple[list[TrendPoint], list[TrendPoint]]:
        out = []
        for unit in ("day", "week"):
            starts = self._starts(unit)
            bucket = func.width_bucket(TicketMetrics.created_at, _timestamps(starts)).label("b")
            found = db.session.execute(
                select(bucket, *_trend_aggregates()).where(in_period).group_by(bucket)
            ).mappings()
            points = {
                r["b"]: _trend_point(starts[r["b"] - 1].astimezone(self.zone).date(), unit, r)
                for r in found
                if r["b"] >= 1
            }
            out.append([points[b] for b in sorted(points)])
        return out[0], out[1]

    def heatmap(self, in_period) -> list[list[int]]:
        hours = []
        at = self.since
        while at < self.until:
            hours.append(at)
            at += timedelta(hours=1)
        bucket = func.width_bucket(TicketMetrics.created_at, _timestamps(hours)).label("b")
        grid = [[0] * 24 for _ in range(7)]
        for b, n in db.session.execute(
            select(bucket, func.count()).where(in_period).group_by(bucket)
        ):
            if b >= 1:
                local = hours[b - 1].astimezone(self.zone)
                grid[local.weekday()][local.hour] += n
        return grid


def _timestamps(instants: list[datetime]):
    """A timestamp[] parameter in the stored form (UTC without a zone)."""
    values = [i.astimezone(UTC).replace(tzinfo=None) for i in instants]
    return bindparam(None, values, type_=ARRAY(DateTime()))


def _percentiles(column) -> Any:
    return func.percentile_cont(literal_column("ARRAY[0.5, 0.9]")).within_group(column)


def _aggregates(*, business: bool = True, rest: bool = True) -> list:
    """The grouped aggregates: counts and rates and the calendar-time percentiles
    (`rest`), the business-hours percentiles (`business`)."""
    m = TicketMetrics
    if not rest:
        return [
            _percentiles(getattr(m, business_col)).label(f"{name}_bh_q")
            for name, (_calendar_col, business_col) in DURATIONS.items()
        ]
    solved = m.solved_at.is_not(None)
    columns = [
        func.count().label("tickets"),
        func.count(m.first_response_at).label("answered"),
        func.count(m.solved_at).label("solved"),
        func.avg(m.replies).label("replies_avg"),
        func.sum(case((and_(solved, m.reopens > 0), 1), else_=0)).label("reopened"),
        func.sum(case((and_(solved, m.one_touch), 1), else_=0)).label("one_touch"),
        func.sum(case((m.sla_met.is_(True), 1), else_=0)).label("sla_met"),
        func.sum(case((m.sla_met.is_(False), 1), else_=0)).label("sla_missed"),
    ]
    for name, (calendar_col, business_col) in DURATIONS.items():
        columns.append(_percentiles(getattr(m, calendar_col)).label(f"{name}_q"))
        if business:
            columns.append(_percentiles(getattr(m, business_col)).label(f"{name}_bh_q"))
    return columns


def _trend_aggregates() -> list:
    m = TicketMetrics
    return [
        func.count().label("tickets"),
        _percentiles(m.first_response_bh_s).label("q"),
        func.sum(case((m.sla_met.is_(True), 1), else_=0)).label("sla_met"),
        func.sum(case((m.sla_met.is_(False), 1), else_=0)).label("sla_missed"),
    ]


def _row_from_aggregates(found, key: str) -> GroupRow:
    row = GroupRow(key=key, label=key, tickets=found["tickets"], answered=found["answered"],
                   solved=found["solved"], sla_met=int(found["sla_met"] or 0),
                   sla_missed=int(found["sla_missed"] or 0))  # fmt: skip
    for name in DURATIONS:
        calendar_q = found[f"{name}_q"] or (None, None)
        business_q = found[f"{name}_bh_q"] or (None, None)
        row.durations[name] = _stat(calendar_q, business_q)
    row.replies_per_ticket = _round(found["replies_avg"])
    if row.solved:
        row.reopen_rate = round(int(found["reopened"]) / row.solved, 4)
        row.one_touch_rate = round(int(found["one_touch"]) / row.solved, 4)
    return row


def _trend_point(day: date, unit: str, found) -> TrendPoint:
    q = found["q"] or (None, None)
    return TrendPoint(
        period=_period_label(day, unit),
        tickets=found["tickets"],
        first_response_bh_median=_round(q[0]),
        first_response_bh_p90=_round(q[1]),
        sla_met=int(found["sla_met"] or 0),
        sla_missed=int(found["sla_missed"] or 0),
    )


# -- SQLite (and tests): the same numbers from Python ----------------------------------


class _PythonSource:
    _COLUMNS = (
        "created_at", "channel", "assignee_id", "team_id", "intent", "priority",
        "first_response_at", "solved_at", "replies", "reopens", "one_touch", "sla_met",
        *(c for pair in DURATIONS.values() for c in pair),
    )  # fmt: skip

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._cache: dict[Any, list] = {}

    def _rows(self, in_period) -> list:
        key = str(in_period.compile(compile_kwargs={"literal_binds": True}))
        if key not in self._cache:
            columns = [getattr(TicketMetrics, c) for c in self._COLUMNS]
            self._cache[key] = db.session.execute(select(*columns).where(in_period)).all()
        return self._cache[key]

    def groups(self, in_period, group_by: str) -> tuple[list[GroupRow], GroupRow]:
        attribute = {"agent": "assignee_id", "team": "team_id"}.get(group_by, group_by)
        grouped: dict[str, list] = defaultdict(list)
        everything = self._rows(in_period)
        for r in everything:
            value = getattr(r, attribute)
            grouped["" if value is None else str(value)].append(r)
        rows = [_row_from_python(key, items) for key, items in grouped.items()]
        rows.sort(key=lambda r: (-r.tickets, r.key))
        total = _row_from_python("", everything)
        total.label = "total"
        return rows, total

    def trends(self, in_period) -> tuple[list[TrendPoint], list[TrendPoint]]:
        out = []
        for unit in ("day", "week"):
            buckets: dict[date, list] = defaultdict(list)
            for r in self._rows(in_period):
                day = r.created_at.astimezone(self.zone).date()
                if unit == "week":
                    day -= timedelta(days=day.weekday())
                buckets[day].append(r)
            points = []
            for day in sorted(buckets):
                items = buckets[day]
                values = sorted(r.first_response_bh_s for r in items
                                if r.first_response_bh_s is not None)  # fmt: skip
                points.append(TrendPoint(
                    period=_period_label(day, unit),
                    tickets=len(items),
                    first_response_bh_median=_round(quantile(values, 0.5)),
                    first_response_bh_p90=_round(quantile(values, 0.9)),
                    sla_met=sum(1 for r in items if r.sla_met is True),
                    sla_missed=sum(1 for r in items if r.sla_met is False),
                ))  # fmt: skip
            out.append(points)
        return out[0], out[1]

    def heatmap(self, in_period) -> list[list[int]]:
        grid = [[0] * 24 for _ in range(7)]
        for r in self._rows(in_period):
            local = r.created_at.astimezone(self.zone)
            grid[local.weekday()][local.hour] += 1
        return grid


def _row_from_python(key: str, items: Sequence) -> GroupRow:
    solved = [r for r in items if r.solved_at is not None]
    row = GroupRow(
        key=key,
        label=key,
        tickets=len(items),
        answered=sum(1 for r in items if r.first_response_at is not None),
        solved=len(solved),
        sla_met=sum(1 for r in items if r.sla_met is True),
        sla_missed=sum(1 for r in items if r.sla_met is False),
    )
    for name, (calendar_col, business_col) in DURATIONS.items():
        row.durations[name] = _stat(
            [quantile(_values(items, calendar_col), q) for q in _QUANTILES],
            [quantile(_values(items, business_col), q) for q in _QUANTILES],
        )
    row.replies_per_ticket = _round(sum(r.replies for r in items) / len(items)) if items else None
    if solved:
        row.reopen_rate = round(sum(1 for r in solved if r.reopens > 0) / len(solved), 4)
        row.one_touch_rate = round(sum(1 for r in solved if r.one_touch) / len(solved), 4)
    return row


def _values(items: Iterable, column: str) -> list[float]:
    return sorted(v for v in (getattr(r, column) for r in items) if v is not None)


def quantile(ordered: Sequence[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks (PostgreSQL's percentile_cont)."""
    if not ordered:
        return None
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _stat(calendar_q: Sequence, business_q: Sequence) -> dict[str, float | None]:
    return {
        "median": _round(calendar_q[0]),
        "p90": _round(calendar_q[1]),
        "median_bh": _round(business_q[0]),
        "p90_bh": _round(business_q[1]),
    }


def _round(value) -> float | None:
    return None if value is None else round(float(value), 1)


def _period_label(day: date, unit: str) -> str:
    if unit == "week":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return day.isoformat()


# -- CSV -------------------------------------------------------------------------------

#: The tables of a report that can be exported, each one CSV file.
TABLES: tuple[str, ...] = ("groups", "daily", "weekly", "heatmap", "returns")


def table(result: KpiReport, name: str) -> tuple[list[str], list[list]]:
    """One table of the report as (header, rows): what the CSV export and the CLI write.
    Durations are in seconds."""
    if name == "groups":
        header = [result.group_by, "tickets", "answered", "solved"]
        for metric in DURATIONS:
            header += [f"{metric}_{s}" for s in ("median_s", "p90_s", "median_bh_s", "p90_bh_s")]
        header += ["replies_per_ticket", "reopen_rate", "one_touch_rate", "sla_met",
                   "sla_missed", "sla_attainment"]  # fmt: skip
        body = []
        for row in [*result.rows, result.total]:
            line = [row.label, row.tickets, row.answered, row.solved]
            for metric in DURATIONS:
                stat = row.durations[metric]
                line += [stat["median"], stat["p90"], stat["median_bh"], stat["p90_bh"]]
            line += [row.replies_per_ticket, row.reopen_rate, row.one_touch_rate, row.sla_met,
                     row.sla_missed, row.sla_attainment]  # fmt: skip
            body.append(line)
        return header, body
    if name in ("daily", "weekly"):
        header = ["period", "tickets", "first_response_bh_median_s", "first_response_bh_p90_s",
                  "sla_met", "sla_missed"]  # fmt: skip
        points = result.daily if name == "daily" else result.weekly
        return header, [list(asdict(p).values()) for p in points]
    if name == "heatmap":
        weekdays = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        header = ["weekday", *(f"{h:02d}" for h in range(24))]
        return header, [[weekdays[d], *result.heatmap[d]] for d in range(7)]
    if name == "returns":
        header = ["period", "reason", "items", "share"]
        return header, [[r.period, r.reason, r.items, r.share] for r in result.return_reasons]
    raise InvalidInput(f"table must be one of {', '.join(TABLES)}, not {name!r}")


def to_csv(header: list[str], rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return out.getvalue()
