"""The live chat end to end in two real browsers: a visitor on the demo shop asks the
chatbot the shipping cost, asks for a person, an agent sees the chat in the chat list and
answers on the ticket page, and the visitor sees the answer (and the agent typing)
without a reload; a reload of the shop page keeps the conversation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from helpdesk.extensions import db
from helpdesk.services.faq import install_default_faq
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def quick_streams(app, monkeypatch):
    monkeypatch.setitem(app.config, "LIVE_POLL_SECONDS", 0.2)
    monkeypatch.setitem(app.config, "LIVE_STREAM_SECONDS", 3)
    install_default_faq()
    db.session.commit()


def test_visitor_chats_with_the_bot_then_with_an_agent(app, live_server, browser, tmp_path):
    make_user("agent", email="julia@shop.example", name="Julia Weber", language="en")
    agent_context = browser.new_context(locale="en-GB")
    visitor_context = browser.new_context(locale="en-GB")
    try:
        # The agent is at the desk: signed in, with the chat list open.
        agent = agent_context.new_page()
        agent.goto(f"{live_server}/chats")
        agent.get_by_label("E-mail").fill("julia@shop.example")
        agent.get_by_label("Password").fill(PASSWORD)
        agent.get_by_role("button", name="Sign in").click()
        expect(agent).to_have_url(f"{live_server}/chats")

        visitor = visitor_context.new_page()
        visitor.goto(f"{live_server}/demo/shop?lang=en")
        visitor.get_by_role("button", name="Chat with us").click()
        visitor.get_by_label("Name (optional)").fill("Kim Lee")
        visitor.get_by_role("button", name="Start chat").click()
        message = visitor.get_by_label("Type your message…")
        message.fill("How much is shipping to Germany?")
        message.press("Enter")
        bot = visitor.locator(".nlchat-line.nlchat-bot:not(.nlchat-greeting)")
        expect(bot.first).to_contain_text("€4.95")

        message.fill("Thanks! I would like to talk to a human, please.")
        visitor.get_by_role("button", name="Send").click()
        expect(bot.last).to_contain_text("colleague")
        visitor.screenshot(path=str(tmp_path / "visitor-bot.png"))

        # The chat list follows the live stream: a bar offers the new chat without a reload.
        agent.locator("#live-inbox-bar").get_by_role("button", name="Show").click()
        row = agent.locator("table.chat-list tr.unread")
        expect(row).to_contain_text("Kim Lee")
        row.get_by_role("link").click()
        expect(agent.locator("article.message").first).to_contain_text(
            "How much is shipping to Germany?"
        )
        composer = agent.locator("#composer textarea[name=text]")
        composer.click()
        composer.press_sequentially("Hello Kim, Julia here.")
        expect(visitor.locator(".nlchat-typing")).to_contain_text("is typing")
        composer.press_sequentially(" How can I help?")
        agent.get_by_role("button", name="Send", exact=True).click()

        visitor.evaluate("window.notReloaded = true")
        answer = visitor.locator(".nlchat-line.nlchat-agent")
        expect(answer).to_contain_text("Hello Kim, Julia here. How can I help?")
        expect(answer.locator(".nlchat-who")).to_have_text("Julia")
        assert visitor.evaluate("window.notReloaded") is True
        visitor.screenshot(path=str(tmp_path / "visitor-agent.png"))

        # A reload keeps the conversation (the token is in localStorage).
        visitor.reload()
        expect(visitor.locator(".nlchat-line.nlchat-agent")).to_contain_text(
            "Hello Kim, Julia here."
        )
        expect(visitor.locator(".nlchat-line.nlchat-visitor")).to_have_count(2)
    finally:
        visitor_context.close()
        agent_context.close()
