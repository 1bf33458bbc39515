"""Business time and spike judgement, computed by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from helpdesk.errors import InvalidInput
from helpdesk.services.business_time import Calendar, parse_weekly
from helpdesk.services.kpis import quantile
from helpdesk.services.spikes import judge

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(y, mo, d, h, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN).astimezone(UTC)


def test_weekend_and_holiday_are_closed():
    calendar = Calendar()
    assert calendar.is_closed(date(2026, 12, 25))  # Christmas Day, a Friday
    assert calendar.is_closed(date(2026, 12, 27))  # Sunday
    assert not calendar.is_closed(date(2026, 12, 24))  # Christmas Eve is a working day
    # Thu 24 Dec 17:00 -> Mon 28 Dec 09:00: Thu 17-18 and Mon 08-09.
    assert calendar.seconds_between(berlin(2026, 12, 24, 17), berlin(2026, 12, 28, 9)) == 7200


def test_state_holidays_only_with_the_state():
    # 6 January (Epiphany) is a holiday in Bavaria, not in Berlin.
    assert not Calendar().is_closed(date(2026, 1, 6))
    assert Calendar(holiday_subdivision="BY").is_closed(date(2026, 1, 6))


def test_summer_time_day_is_counted_in_wall_clock_hours():
    # Sun 29 Mar 2026 the clocks go forward; Fri 27 08:00 -> Mon 30 08:00 is 10 hours.
    calendar = Calendar()
    assert calendar.seconds_between(berlin(2026, 3, 27, 8), berlin(2026, 3, 30, 8)) == 36000


def test_add_business_time_skips_nights_weekends_and_holidays():
    calendar = Calendar()
    # Fri 18 Dec 16:00 + 8 h: 2 h on Friday, 6 h on Monday -> Mon 21 Dec 14:00.
    assert calendar.add(berlin(2026, 12, 18, 16), 8 * 3600) == berlin(2026, 12, 21, 14)
    # Thu 24 Dec 17:30 + 1 h: 30 min on Thursday, then Mon 28 Dec 08:30.
    assert calendar.add(berlin(2026, 12, 24, 17, 30), 3600) == berlin(2026, 12, 28, 8, 30)
    # Starting on a Saturday: Monday 08:00 + 15 min.
    assert calendar.add(berlin(2026, 12, 19, 12), 900) == berlin(2026, 12, 21, 8, 15)


def test_split_hours_and_bad_input():
    weekly = parse_weekly({"0": [["08:00", "12:00"], ["13:00", "17:00"]]})
    calendar = Calendar(weekly=weekly, holiday_country=None)
    # Monday 11:00 -> 14:00 with a lunch break: 1 h + 1 h.
    assert calendar.seconds_between(berlin(2026, 12, 21, 11), berlin(2026, 12, 21, 14)) == 7200
    with pytest.raises(InvalidInput):
        parse_weekly({"7": [["08:00", "18:00"]]})
    with pytest.raises(InvalidInput):
        parse_weekly({"0": [["18:00", "08:00"]]})
    with pytest.raises(InvalidInput):
        Calendar(timezone="Mars/Olympus")


def test_quantile_interpolates_like_percentile_cont():
    assert quantile([1800, 5400, 7200, 7200, 14400, 39600], 0.9) == 27000
    assert quantile([10], 0.5) == 10 and quantile([], 0.5) is None


def test_spike_judged_against_the_median_of_earlier_weeks():
    # Mondays 10-11 in eight earlier weeks; one earlier spike (40) does not raise the bar.
    history = [6, 5, 7, 40, 6, 5, 6, 7]
    assert judge(12, history, factor=2.0, min_tickets=10).is_spike  # usual 6, threshold 12
    assert not judge(11, history, factor=2.0, min_tickets=10).is_spike
    # A quiet hour: 1 usually, 4 now is more than double but under the minimum.
    assert not judge(4, [1, 1, 1, 1], factor=2.0, min_tickets=10).is_spike
    assert judge(10, [], factor=2.0, min_tickets=10).is_spike  # no history: the minimum
