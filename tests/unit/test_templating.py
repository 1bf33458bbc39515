"""Templates shop staff write are rendered sandboxed, bounded, and in the reader's formats."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from jinja2.exceptions import SecurityError

from helpdesk.services.templating import render_string


def test_money_and_dates_follow_the_language():
    source = "{{ cents | money('EUR') }} am {{ day | date }}"
    assert render_string(source, "de", cents=4995, day=date(2026, 11, 23)) == (
        "49,95\u00a0€ am 23.11.2026\n"
    )
    assert render_string(source, "en", cents=4995, day=date(2026, 11, 23)) == (
        "€49.95 am 23 Nov 2026\n"
    )


def test_a_late_evening_in_utc_is_the_next_day_in_the_shop():
    late = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 00:30 in Berlin
    assert render_string("{{ at | date }}", "de", at=late) == "24.11.2026\n"


@pytest.mark.parametrize(
    "source", ["{{ 'x' * 1000000000 }}", "{{ [1] * 10**8 }}", "{{ 2 ** 100000000 }}"]
)
def test_templates_cannot_exhaust_memory_or_time(source):
    with pytest.raises(SecurityError):
        render_string(source, "en")


def test_templates_cannot_reach_python_internals():
    with pytest.raises(SecurityError):
        render_string("{{ ''.__class__.__mro__[1].__subclasses__() }}", "en")
    assert render_string("{{ 'ab' * 3 }}", "en") == "ababab\n"
