"""Two agents on one ticket in two real browsers: they see each other viewing and typing,
a reply and a new customer message appear without a reload, and the keyboard works.

Streams end every few seconds here, so the browsers also reconnect (with Last-Event-ID)
while the tests run. The test thread commits at once whatever it writes: on SQLite an
open transaction would hold the lock the server's streams need.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from tests.conftest import PASSWORD, make_user
from tests.factories import inbound

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def quick_streams(app, monkeypatch):
    monkeypatch.setitem(app.config, "LIVE_POLL_SECONDS", 0.2)
    monkeypatch.setitem(app.config, "LIVE_STREAM_SECONDS", 3)


def new_ticket(subject: str, sender: str = "kunde@example.com", **fields) -> int:
    result = ingest(inbound(sender=sender, subject=subject, **fields))
    db.session.commit()
    return result.ticket_id


def signed_in(browser, base: str, email: str, path: str):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(f"{base}{path}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}{path}")
    return context, page


@pytest.fixture
def agents(app):
    make_user("agent", email="julia@shop.example", name="Julia Weber", language="en")
    make_user("agent", email="max@shop.example", name="Max Brandt", language="en")


def test_agents_see_each_other_viewing_typing_and_replying(agents, live_server, browser, tmp_path):
    ticket = new_ticket("Wo bleibt meine Retoure?", text="Ich habe die Schuhe zurückgeschickt.")
    path = f"/tickets/{ticket}"
    julia_context, julia = signed_in(browser, live_server, "julia@shop.example", path)
    max_context, max_ = signed_in(browser, live_server, "max@shop.example", path)
    try:
        expect(max_.locator("[data-live-presence]")).to_have_text("Julia Weber is viewing")
        expect(julia.locator("[data-live-presence]")).to_have_text("Max Brandt is viewing")
        max_.evaluate("window.notReloaded = true")

        composer = julia.locator("#composer textarea[name=text]")
        composer.click()
        composer.press_sequentially("Guten Tag, die Retoure ist angekommen.")
        expect(max_.locator("[data-live-presence]")).to_have_text("Julia Weber is typing…")
        max_.screenshot(path=str(tmp_path / "collision.png"), full_page=True)

        julia.get_by_role("button", name="Send", exact=True).click()
        reply = max_.locator("article.message.outbound")
        expect(reply).to_contain_text("Guten Tag, die Retoure ist angekommen.")
        expect(reply).to_have_count(1)
        assert max_.evaluate("window.notReloaded") is True
        # Julia's page came back after sending: she is viewing again, not gone.
        expect(max_.locator("[data-live-presence]")).to_have_text("Julia Weber is viewing")

        julia.get_by_role("button", name="Assign to me").click()
        expect(max_.locator("#live-ticket-bar")).to_contain_text(
            "A colleague changed this ticket meanwhile."
        )
        assert max_.evaluate("window.notReloaded") is True

        julia.goto(f"{live_server}/inbox")  # her goodbye: Max sees nobody else at once
        expect(max_.locator("[data-live-presence]")).to_be_hidden()

        # The customer answers: the message joins the timeline, still without a reload.
        ingest(inbound(subject=f"Re: Wo bleibt meine Retoure? [#{ticket}]", text="Danke!"))
        db.session.commit()
        expect(max_.locator("article.message.inbound").last).to_contain_text("Danke!")
        expect(max_.locator("article.message")).to_have_count(3)
        assert max_.evaluate("window.notReloaded") is True
    finally:
        julia_context.close()
        max_context.close()


def test_a_new_ticket_appears_in_the_inbox_without_a_reload(agents, live_server, browser):
    new_ticket("Alte Frage", sender="alt@example.com")
    context, page = signed_in(browser, live_server, "max@shop.example", "/inbox")
    try:
        expect(page.locator("[data-ticket-row]")).to_have_count(1)
        page.evaluate("window.notReloaded = true")

        new_ticket("Neue Frage zur Lieferung", sender="neu@example.com")
        bar = page.locator("#live-inbox-bar")
        expect(bar).to_contain_text("1 new ticket")
        bar.get_by_role("button", name="Show").click()

        expect(page.locator("[data-ticket-row]")).to_have_count(2)
        expect(page.locator("table.tickets")).to_contain_text("Neue Frage zur Lieferung")
        expect(bar).to_be_hidden()
        assert page.evaluate("window.notReloaded") is True
    finally:
        context.close()


def test_keyboard_shortcuts_move_open_reply_and_act(agents, live_server, browser):
    for n, subject in enumerate(("Erste Frage", "Zweite Frage", "Dritte Frage")):
        new_ticket(subject, sender=f"kunde{n}@example.com")
    context, page = signed_in(browser, live_server, "julia@shop.example", "/inbox")
    try:
        page.wait_for_load_state()
        rows = page.locator("[data-ticket-row]")
        expect(rows).to_have_count(3)
        page.keyboard.press("j")
        page.keyboard.press("j")
        page.keyboard.press("k")
        page.keyboard.press("ArrowDown")
        expect(rows.nth(1)).to_have_class(re.compile(r"\bselected\b"))
        expect(page.locator("[data-ticket-row].selected")).to_have_count(1)
        _first, second, third = (rows.nth(i).get_attribute("data-ticket-row") for i in range(3))

        page.keyboard.press("?")
        help_ = page.get_by_role("dialog", name="Keyboard shortcuts")
        expect(help_).to_be_visible()
        expect(help_).to_contain_text("Assign to me")
        page.keyboard.press("Escape")
        expect(help_).to_be_hidden()

        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{live_server}/tickets/{second}")
        page.wait_for_load_state()  # the deferred scripts listen from here on

        page.keyboard.press("r")
        composer = page.locator("#composer textarea[name=text]")
        expect(composer).to_be_focused()
        page.keyboard.type("ja")  # letters in a field are text, not shortcuts
        expect(composer).to_have_value("ja")
        expect(page).to_have_url(f"{live_server}/tickets/{second}")
        page.keyboard.press("Escape")
        page.keyboard.press("i")
        expect(page.get_by_role("radio", name="Internal note")).to_be_checked()
        expect(composer).to_be_focused()
        page.keyboard.press("Escape")

        page.keyboard.press("a")
        expect(page.locator(".side")).to_contain_text("Julia Weber")
        page.wait_for_load_state()
        page.keyboard.press("s")
        expect(page.locator(".ticket-badges")).to_contain_text("Solved")
        page.wait_for_load_state()

        page.keyboard.press("n")  # the next ticket of the list she came from
        expect(page).to_have_url(f"{live_server}/tickets/{third}")
    finally:
        context.close()
