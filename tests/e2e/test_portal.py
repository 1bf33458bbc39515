"""A customer sends one of two items back through the returns portal, on a phone-sized screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import factories

pytestmark = pytest.mark.e2e


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        locale="en-GB", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    yield context.new_page()
    context.close()


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_customer_returns_one_of_two_items_and_follows_the_return(
    app, live_server, phone, tmp_path
):
    factories.order()
    page = phone
    page.goto(f"{live_server}/returns")
    expect(page.get_by_role("heading", level=1)).to_have_text("Return an item")
    assert fits_the_screen(page)

    page.get_by_label("Order number").fill("100457")
    page.get_by_label("E-mail address or postcode").fill("helga@example.de")
    page.get_by_role("button", name="Find my order").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "We could not find an order with these details."
    )

    page.get_by_label("E-mail address or postcode").fill("helga.brandt@example.de")
    page.get_by_role("button", name="Find my order").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose what to return")
    shoes = page.get_by_role("group", name="Sneaker Lauf, schwarz")
    shirts = page.get_by_role("group", name="T-Shirt Basic, weiß")
    expect(shoes).to_contain_text("Ordered: 1, can still be returned: 1")
    expect(shirts).to_contain_text("Ordered: 2, can still be returned: 2")
    expect(page.get_by_label("My money back (refund)")).to_be_checked()
    expect(shoes.get_by_label("Exchange for")).to_be_hidden()
    assert fits_the_screen(page)

    # Nothing of this product is in stock: an exchange is offered but cannot be chosen.
    page.get_by_label("Another size or colour (exchange)").check()
    expect(shoes.get_by_label("Exchange for")).to_be_disabled()
    expect(shoes).to_contain_text("this item can only be refunded")
    page.get_by_label("My money back (refund)").check()

    shoes.get_by_label("How many to return").select_option("1")
    shoes.get_by_label("Reason").select_option(label="Too small")
    expect(shirts.get_by_label("How many to return")).to_have_value("0")
    page.get_by_role("button", name="Register return").click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^Your return R-\d+ is registered$"))
    number = re.search(r"R-\d+", heading.inner_text())[0]
    expect(page.locator("ul.lines li")).to_have_text(
        ["1 × Sneaker Lauf, schwarz (Size 40) · Too small"]
    )
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    expect(page.get_by_text("we refund the amount")).to_be_visible()
    page.screenshot(path=str(tmp_path / "confirmation.png"), full_page=True)

    page.get_by_role("link", name="Follow your return").click()
    expect(page).to_have_url(re.compile(r"/returns/status/[\w.-]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Return {number}")
    expect(page.locator(".current")).to_have_text("Status: Return registered")
    expect(page.locator("dl.facts")).to_contain_text("Refund")
    expect(page.locator("ul.lines li")).to_have_text(
        ["1 × Sneaker Lauf, schwarz (Size 40) · Too small"]
    )
    expect(page.locator("ol.timeline li")).to_have_count(1)
    expect(page.locator("ol.timeline li .what")).to_have_text("Return registered")
    expect(page.get_by_text("T-Shirt")).to_have_count(0)
    assert fits_the_screen(page)
    page.screenshot(path=str(tmp_path / "status.png"), full_page=True)
