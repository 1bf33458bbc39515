"""An agent signs in with a real browser and works through the demo inbox."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo(demo_data):
    """The demo inbox (loaded once per session, see tests/conftest.py)."""


def sign_in(page, base: str, email: str, password: str = "demo") -> None:
    page.goto(f"{base}/inbox")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_agent_signs_in_and_works_the_inbox_in_her_language(demo, live_server, page, tmp_path):
    sign_in(page, live_server, "agent@example.com", "wrong")
    expect(page.get_by_role("status")).to_have_text("E-mail or password is wrong.")

    # Julia works in German; the browser asked for English until she signed in.
    sign_in(page, live_server, "agent@example.com")
    expect(page).to_have_url(f"{live_server}/inbox")
    expect(page.get_by_role("link", name="Posteingang")).to_be_visible()
    rows = page.locator("table.tickets tbody tr")
    expect(rows.first).to_be_visible()
    open_count = int(page.locator(".views a.active .count").inner_text())
    assert rows.count() == min(open_count, 50)

    page.get_by_role("link", name="Instagram").click()
    expect(page).to_have_url(re.compile(r"channel=instagram"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Alle offenen")
    for channel in page.locator("table.tickets tbody td:nth-child(5) .badge").all_inner_texts():
        assert channel.strip() == "Instagram"

    page.get_by_role("button", name="English").click()
    page.goto(f"{live_server}/inbox")  # all channels again
    page.get_by_role("link", name="Solved").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Solved")
    page.get_by_role("link", name=re.compile("Umtausch Kleid Bestellung 100234")).click()
    expect(page.locator("article.message")).to_have_count(3)
    expect(page.locator("article.message.inbound")).to_contain_text("Größe 40")
    expect(page.locator(".identities")).to_contain_text("anna.schneider@example.com")
    expect(page.locator(".identities")).to_contain_text("Instagram")
    expect(page.get_by_role("heading", name="Customer")).to_be_visible()
    page.screenshot(path=str(tmp_path / "ticket.png"), full_page=True)


def test_social_manager_sees_only_social_conversations(demo, live_server, page):
    sign_in(page, live_server, "social@example.com")
    channels = page.locator("table.tickets tbody td:nth-child(5) .badge").all_inner_texts()
    assert channels, "the social inbox is empty"
    assert {c.strip() for c in channels} <= {"Messenger", "Instagram", "WhatsApp", "X"}
    page.goto(f"{live_server}/admin/users")
    expect(page.get_by_role("heading", level=1)).to_contain_text("403")
