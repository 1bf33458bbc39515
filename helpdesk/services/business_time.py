"""Business time: how much of a span fell into a team's opening hours, and when a number
of business minutes from now runs out (for SLA due times).

A calendar is opening hours per weekday in a time zone (Europe/Berlin unless the team
says otherwise), minus public holidays from the `holidays` library (Germany by
default, optionally one state) and extra closed days. Hours are wall-clock times in
that zone, so a day that changes to summer time is simply an hour shorter in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_library
from flask import has_request_context
from flask_babel import gettext

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models.kpis import DEFAULT_WEEKLY_HOURS, BusinessHours


def _(text: str, **values) -> str:
    """Translated in a request (the admin page shows it); plain English in the worker,
    whose ingest and jobs run without a request and so without a chosen language."""
    return gettext(text, **values) if has_request_context() else text % values


#: A search for the end of business time gives up after this many days (a calendar
#: without any opening hours would otherwise search forever).
_MAX_DAYS = 800


@dataclass(frozen=True)
class Calendar:
    """Opening hours (weekday 0 = Monday -> list of (open, close)) in `timezone`."""

    timezone: str = "Europe/Berlin"
    weekly: Mapping[int, tuple[tuple[time, time], ...]] = field(
        default_factory=lambda: parse_weekly(DEFAULT_WEEKLY_HOURS)
    )
    holiday_country: str | None = "DE"
    holiday_subdivision: str | None = None
    closed_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise InvalidInput(_("Unknown time zone %(zone)s.", zone=self.timezone)) from error

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_closed(self, day: date) -> bool:
        """A holiday, an extra closed day, or a weekday without hours."""
        if day in self.closed_days or not self.weekly.get(day.weekday()):
            return True
        if self.holiday_country:
            return day in _holidays(self.holiday_country, self.holiday_subdivision, day.year)
        return False

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening hours as UTC datetimes (empty when closed)."""
        if self.is_closed(day):
            return []
        zone = self.zone
        return [
            (
                datetime.combine(day, start, zone).astimezone(UTC),
                datetime.combine(day, end, zone).astimezone(UTC),
            )
            for start, end in self.weekly[day.weekday()]
        ]

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Business seconds from `start` to `end` (0 when `end` is not after `start`)."""
        if end <= start:
            return 0.0
        zone = self.zone
        day = start.astimezone(zone).date()
        last = end.astimezone(zone).date()
        total = 0.0
        while day <= last:
            for opens, closes in self.open_intervals(day):
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta(0):
                    total += overlap.total_seconds()
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment `seconds` of business time after `start` have passed."""
        remaining = timedelta(seconds=seconds)
        day = start.astimezone(self.zone).date()
        for _day in range(_MAX_DAYS):
            for opens, closes in self.open_intervals(day):
                begin = max(opens, start)
                if closes <= begin:
                    continue
                if begin + remaining <= closes:
                    return begin + remaining
                remaining -= closes - begin
            day += timedelta(days=1)
        raise InvalidInput(_("The business hours have no open time in the next two years."))


def parse_weekly(weekly: Mapping) -> dict[int, tuple[tuple[time, time], ...]]:
    """{"0": [["08:00", "18:00"]]} -> {0: ((08:00, 18:00),)}, checked."""
    parsed: dict[int, tuple[tuple[time, time], ...]] = {}
    for key, spans in weekly.items():
        if not str(key).isdigit() or not 0 <= int(key) <= 6:
            raise InvalidInput(_("Weekday %(day)s is not 0 (Monday) to 6 (Sunday).", day=key))
        day = int(key)
        intervals = []
        for span in spans if isinstance(spans, list) else [spans]:
            if not isinstance(span, list | tuple) or len(span) != 2:
                raise InvalidInput(
                    _('Opening hours %(span)s are not a pair like ["08:00", "18:00"].', span=span)
                )
            opens, closes = (_parse_time(value) for value in span)
            if closes <= opens:
                raise InvalidInput(
                    _("Opening hours %(span)s end before they start.", span=f"{span[0]}-{span[1]}")
                )
            intervals.append((opens, closes))
        parsed[day] = tuple(sorted(intervals))
    return parsed


def _parse_time(value: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except (TypeError, ValueError) as error:
        raise InvalidInput(_("%(value)s is not a time like 08:00.", value=value)) from error


@lru_cache(maxsize=64)
def _holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    try:
        found = holiday_library.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError as error:
        raise InvalidInput(
            _(
                "No public holidays are known for %(country)s %(state)s.",
                country=country,
                state=subdivision or "",
            )
        ) from error
    return frozenset(found)


def calendar_from_row(row: BusinessHours | None) -> Calendar:
    """The calendar a stored row describes; the built-in default without a row."""
    if row is None:
        return Calendar()
    return Calendar(
        timezone=row.timezone,
        weekly=parse_weekly(row.weekly or {}),
        holiday_country=row.holiday_country or None,
        holiday_subdivision=row.holiday_subdivision or None,
        closed_days=frozenset(date.fromisoformat(d) for d in (row.closed_days or [])),
    )


def calendars() -> dict[int | None, Calendar]:
    """Every stored calendar by team id (None: the default)."""
    found = {row.team_id: calendar_from_row(row) for row in db.session.query(BusinessHours)}
    found.setdefault(None, Calendar())
    return found


def calendar_for(team_id: int | None, known: dict[int | None, Calendar] | None = None) -> Calendar:
    """The team's calendar, else the default one."""
    known = known if known is not None else calendars()
    return known.get(team_id) or known[None]


def total_business_seconds(calendar: Calendar, spans: Iterable[tuple[datetime, datetime]]) -> float:
    return sum(calendar.seconds_between(start, end) for start, end in spans)
