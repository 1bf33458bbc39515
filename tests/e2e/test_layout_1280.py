"""At 1280 px the inbox shows every column and no page scrolls sideways, however long a
customer's address or a pasted link in a subject is; on an upright tablet neither."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from tests.conftest import PASSWORD, make_user
from tests.factories import inbound
from tests.integration.commerce.test_ticket_panel import reminder_story

pytestmark = pytest.mark.e2e

LONG_LINK = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18032245678901234567890"


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_inbox_and_ticket_page_fit_a_1280_pixel_screen(app, live_server, browser):
    _, _, ticket_id = reminder_story()  # an order with items in the side panel
    ingest(inbound("email", sender="katharina.lorenz-schmidt.einkauf@beispiel-unternehmen.de",
                   subject=f"[story mention] {LONG_LINK}", text="Siehe Story"))  # fmt: skip
    db.session.commit()
    make_user("agent", language="de", name="Julia Agent")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE")
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.locator("input[name=email]").fill("agent@shop.example")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("button[type=submit]").click()

        page.goto(f"{live_server}/inbox")
        expect(page.locator("table.inbox-list")).to_contain_text("katharina.lorenz")
        assert fits(page)
        table, scroller = page.evaluate(
            "[document.querySelector('table.inbox-list').getBoundingClientRect().width,"
            " document.querySelector('.table-scroll').getBoundingClientRect().width]"
        )
        assert table <= scroller + 1  # no column hidden behind a sideways scroll
        last = page.locator("table.inbox-list thead th").last
        assert last.bounding_box()["x"] + last.bounding_box()["width"] <= 1280

        page.goto(f"{live_server}/tickets/{ticket_id}")
        expect(page.locator("#commerce table.items")).to_be_visible()
        assert fits(page)

        # A tablet held upright: the top bar wraps, "Sign out" stays on screen.
        page.set_viewport_size({"width": 820, "height": 1180})
        for path in ("/inbox", f"/tickets/{ticket_id}"):
            page.goto(f"{live_server}{path}")
            assert fits(page), path
            assert page.get_by_role("button", name="Abmelden").is_visible()
    finally:
        context.close()
