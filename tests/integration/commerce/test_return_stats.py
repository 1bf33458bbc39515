"""Return reasons per week and month: the figures for the KPI dashboard, and the CLI."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.services.return_stats import ReasonRow, return_reasons
from helpdesk.services.returns import ReturnLine, register_return, transition
from tests import factories


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def returns_in_february(app):
    """Returns requested in ISO weeks 6 and 7 of 2026 and one in March.

    Week 6 (2 to 8 Feb): two pairs of shoes too small, one shirt style (rejected later).
    Week 7 (9 to 15 Feb): one pair too big, one shirt too small.
    March: one shirt defective.
    """
    items = (("SHOE-40", "Sneaker Lauf", "40", 8995, 3), ("SHIRT-M", "T-Shirt", "M", 1995, 3))
    first = factories.order("100001", "a@example.com", items=items)
    second = factories.order("100002", "b@example.com", items=items)
    shoes, shirts = first.items
    register_return(first, [ReturnLine(shoes, 2, "too_small")], now=at("2026-02-02", 0))
    style = register_return(first, [ReturnLine(shirts, 1, "style")], now=at("2026-02-08", 23))
    transition(style, "received", now=at("2026-02-10"))
    transition(style, "rejected", note="worn", now=at("2026-02-11"))
    register_return(
        second,
        [ReturnLine(second.items[0], 1, "too_big"), ReturnLine(second.items[1], 1, "too_small")],
        now=at("2026-02-09", 0),
    )
    register_return(second, [ReturnLine(second.items[1], 1, "defective")], now=at("2026-03-03"))
    db.session.commit()


def test_reasons_per_week_count_pieces_with_their_share_of_the_week(returns_in_february):
    rows = return_reasons(date(2026, 2, 1), date(2026, 2, 28), by="week")
    assert rows == [
        ReasonRow("2026-W06", "too_small", 2, 0.6667),
        ReasonRow("2026-W06", "style", 1, 0.3333),  # rejected later, still a reason given
        ReasonRow("2026-W07", "too_small", 1, 0.5),  # ties in the order of RETURN_REASONS
        ReasonRow("2026-W07", "too_big", 1, 0.5),
    ]


def test_reasons_per_month_and_both_ends_of_the_range_are_included(returns_in_february):
    rows = return_reasons(date(2026, 2, 2), date(2026, 3, 3), by="month")
    assert [r.as_dict() for r in rows] == [
        {"period": "2026-02", "reason": "too_small", "items": 3, "share": 0.6},
        {"period": "2026-02", "reason": "too_big", "items": 1, "share": 0.2},
        {"period": "2026-02", "reason": "style", "items": 1, "share": 0.2},
        {"period": "2026-03", "reason": "defective", "items": 1, "share": 1.0},
    ]
    # The first day's midnight is in, the day after the last is out.
    assert [r.period for r in return_reasons(date(2026, 2, 9), date(2026, 2, 9))] == [
        "2026-W07",
        "2026-W07",
    ]
    assert return_reasons(date(2026, 2, 3), date(2026, 2, 7)) == []


def test_bad_ranges_and_periods_are_refused(app):
    with pytest.raises(InvalidInput, match="ends .2026-01-01. before it starts"):
        return_reasons(date(2026, 2, 1), date(2026, 1, 1))
    with pytest.raises(InvalidInput, match="by must be one of week, month"):
        return_reasons(date(2026, 1, 1), date(2026, 2, 1), by="day")


def test_cli_prints_a_table_json_and_csv(app, returns_in_february):
    runner = app.test_cli_runner()
    period = ["--from", "2026-02-01", "--to", "2026-03-31", "--by", "month"]

    table = runner.invoke(args=["returns", "reasons", *period])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["period", "reason", "items", "share"]
    assert lines[1].split() == ["2026-02", "too_small", "3", "60%"]

    as_json = runner.invoke(args=["returns", "reasons", *period, "--json"])
    assert json.loads(as_json.output)[-1] == {
        "period": "2026-03",
        "reason": "defective",
        "items": 1,
        "share": 1.0,
    }

    as_csv = runner.invoke(args=["returns", "reasons", *period, "--csv"])
    parsed = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert [(r["period"], r["reason"], r["items"]) for r in parsed] == [
        ("2026-02", "too_small", "3"),
        ("2026-02", "too_big", "1"),
        ("2026-02", "style", "1"),
        ("2026-03", "defective", "1"),
    ]


def test_cli_explains_what_is_wrong(app):
    runner = app.test_cli_runner()
    empty = runner.invoke(args=["returns", "reasons", "--from", "2026-01-01", "--to", "2026-01-31"])
    assert empty.exit_code == 0 and "no returns requested from 2026-01-01 to 2026-01-31" in (
        empty.output
    )
    backwards = runner.invoke(
        args=["returns", "reasons", "--from", "2026-02-01", "--to", "2026-01-01"]
    )
    assert backwards.exit_code == 1 and "before it starts" in backwards.output
    both = runner.invoke(args=["returns", "reasons", "--json", "--csv"])
    assert both.exit_code == 2 and "choose one of --json and --csv" in both.output
    bad_date = runner.invoke(args=["returns", "reasons", "--from", "1.2.2026"])
    assert bad_date.exit_code == 2
