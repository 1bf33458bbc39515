"""An agent answers "but I got a payment reminder" from the panel, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Message, OutboxItem
from tests.conftest import PASSWORD, make_user
from tests.integration.commerce.test_ticket_panel import reminder_story

pytestmark = pytest.mark.e2e


def test_agent_sees_the_return_and_sends_the_filled_in_answer(app, live_server, page, tmp_path):
    _, return_, ticket_id = reminder_story()
    number = return_.number
    make_user("agent", language="en", name="Julia Agent")  # commits: the server may write
    page.goto(f"{live_server}/tickets/{ticket_id}")
    page.get_by_label("E-mail").fill("agent@shop.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/tickets/{ticket_id}")

    panel = page.locator("#commerce")
    expect(panel.locator(".banner")).to_have_text(
        f"Return {number} received on 23 Nov 2026 · reminders paused since 20 Nov 2026"
    )
    expect(panel.locator(".hold")).to_contain_text("Reminders paused since 20 Nov 2026")
    answer = panel.get_by_role("textbox", name="Zahlungserinnerung trotz Retoure")
    expect(answer).to_have_value(re.compile(r"am 23\.11\.2026 bei uns eingegangen"))
    page.screenshot(path=str(tmp_path / "ticket-panel.png"), full_page=True)

    answer.fill(answer.input_value().replace("Guten Tag", "Liebe Frau Brandt, guten Tag"))
    panel.locator(".suggestion").first.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status").first).to_have_text("Your reply is on its way.")
    expect(page.locator("article.message.outbound")).to_contain_text("Liebe Frau Brandt")

    db.session.expire_all()
    reply = db.session.scalars(
        select(Message).where(Message.ticket_id == ticket_id, Message.direction == "outbound")
    ).one()
    assert reply.text.startswith("Liebe Frau Brandt, guten Tag Helga Brandt,")
    assert "Julia Agent" in reply.text
    assert db.session.scalar(select(OutboxItem.kind).where(OutboxItem.message_id == reply.id))
