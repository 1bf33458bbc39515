"""The KPI report over the API (services/kpis.py's `report`, as `helpdesk kpis --json`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from helpdesk.api import ApiError
from helpdesk.api.spec import INTEGER, STRING, TIME, endpoint, obj, query
from helpdesk.models.types import utcnow
from helpdesk.services.kpis import GROUPS, MAX_DAYS, report

#: Dates outside these years are typing errors, not periods anyone reports on.
YEARS = (2000, 2100)
DEFAULT_DAYS = 30
ROW = {"type": "object", "required": ["key", "label", "tickets", "answered", "solved"]}

KPIS = obj(
    {
        "start": {"type": "string", "format": "date"},
        "end": {"type": "string", "format": "date"},
        "group_by": {"enum": list(GROUPS)},
        "timezone": STRING,
        "generated_at": TIME,
        "rows": {"type": "array", "items": ROW},
        "total": ROW,
        "backlog": INTEGER,
        "daily": {"type": "array", "items": {"type": "object"}},
        "weekly": {"type": "array", "items": {"type": "object"}},
        "heatmap": {"type": "array", "items": {"type": "array", "items": INTEGER}},
        "return_reasons": {"type": "array", "items": {"type": "object"}},
    }
)


def _day(raw: str | None, name: str) -> date | None:
    if raw is None:
        return None
    try:
        found = date.fromisoformat(raw)
    except ValueError:
        raise ApiError(422, "invalid_input", f"{name}: a date as YYYY-MM-DD") from None
    if not YEARS[0] <= found.year <= YEARS[1]:
        raise ApiError(422, "invalid_input", f"{name}: a year from {YEARS[0]} to {YEARS[1]}")
    return found


@endpoint(
    "GET",
    "/kpis",
    summary="Ticket KPIs for a period, broken down by channel, agent, team, intent or priority",
    description=f"Local days, both inclusive, at most {MAX_DAYS}; default the last "
    f"{DEFAULT_DAYS} days. Durations are seconds (calendar and business hours).",
    roles=("lead",),
    tag="kpis",
    params=(
        query("start", {"type": "string", "format": "date"}),
        query("end", {"type": "string", "format": "date"}),
        query("group_by", {"enum": list(GROUPS), "default": "channel"}),
    ),
    responses={200: ("the report", KPIS)},
)
def kpis(query: dict[str, Any]):
    end = _day(query["end"], "end") or utcnow().date()
    start = _day(query["start"], "start") or end - timedelta(days=DEFAULT_DAYS - 1)
    return report(start, end, group_by=query["group_by"]).as_dict()
