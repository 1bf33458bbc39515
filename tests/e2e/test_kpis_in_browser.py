"""The team lead's story in Chromium: open /kpis, read the first response per channel in
business hours (the hand count of tests/integration/test_kpis.py), spot Monday morning in
the heat map, read the return reasons, and download the table as CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.integration.test_kpis import tickets  # noqa: F401  (the hand-built tickets)

pytestmark = pytest.mark.e2e


def test_lead_reads_the_kpis_and_downloads_the_table(tickets, live_server, page):  # noqa: F811
    page.goto(f"{live_server}/kpis")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("E-mail").fill("lead@shop.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/kpis?from=2026-12-14&to=2026-12-31&by=channel")

    email = page.locator("#kpi-groups tbody tr[data-key=email]")
    # Median 7200 s and p90 27000 s in business hours, as counted by hand.
    expect(email.locator("td.fr-median-bh")).to_have_text("2.0 h")
    expect(email.locator("td.fr-p90-bh")).to_have_text("7.5 h")
    expect(page.locator("#kpi-groups tbody tr[data-key=chat] td.fr-median-bh")).to_have_text(
        "3 min"
    )
    # Monday 09:00 is the busiest cell of the heat map.
    expect(page.locator("svg.kpi-heat rect[data-weekday='0'][data-hour='9']")).to_have_class(
        "heat-5"
    )
    expect(page.get_by_text("No returns were requested in this period.")).to_be_visible()
    expect(page.get_by_text("How the numbers are counted")).to_be_visible()

    with page.expect_download() as download:
        page.locator("h2", has_text="Response and resolution times").get_by_role(
            "link", name="CSV"
        ).click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    email_row = next(r for r in rows if r["channel"] == "email")
    assert float(email_row["first_response_median_bh_s"]) == 7200.0
    assert float(email_row["first_response_p90_bh_s"]) == 27000.0
