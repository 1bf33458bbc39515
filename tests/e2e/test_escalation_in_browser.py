"""The escalation story in Chromium: a customer waits for an answer by e-mail and writes
on Instagram; the social manager sees the DM on the customer's timeline next to the
unanswered e-mail and escalates it with a note; an agent opens the care ticket, reads
the DM and the e-mail in one place, and answers on Instagram and by e-mail."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Message, Ticket
from tests.conftest import PASSWORD, make_user
from tests.integration.test_escalation import INSTAGRAM, dm, known_customer, unanswered_mail

pytestmark = pytest.mark.e2e


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_social_escalates_a_dm_and_care_answers_both(app, live_server, page, tmp_path):
    known_customer()
    mail = unanswered_mail()
    social_ticket = dm("Hallo? Auf meine Mail zur Erstattung antwortet niemand!").ticket
    mail_id, social_id = mail.id, social_ticket.id
    make_user("social", name="Sam Social", language="en")
    make_user("agent", name="Julia Agent", language="en")

    # The social manager: the DM in the Instagram list, then the customer's timeline.
    sign_in(page, live_server, "social@shop.example")
    page.goto(f"{live_server}/social")
    instagram = page.locator("section.social-platform", has=page.locator("#platform-instagram"))
    expect(instagram).to_contain_text(f"#{social_id}")
    expect(instagram).to_contain_text("waiting")
    instagram.get_by_role("link", name="Lena Vogel").click()
    timeline = page.locator(".customer-timeline")
    expect(timeline).to_contain_text("Auf meine Mail zur Erstattung antwortet niemand")
    # The unanswered e-mail is on the timeline too; its content stays with care.
    expect(timeline.locator("article", has_text="E-mail")).to_contain_text(f"#{mail_id}")
    tickets = page.locator(".customer-tickets")
    expect(tickets.locator("li", has_text="E-mail")).to_contain_text(f"#{mail_id}")
    expect(tickets.locator("li", has_text="E-mail")).to_contain_text("not answered yet")
    expect(tickets).not_to_contain_text("Erstattung R-1042")  # care content stays with care
    page.screenshot(path=str(tmp_path / "customer-timeline.png"), full_page=True)

    # The DM is linked to the open e-mail ticket already; hand it over with a note.
    timeline.get_by_role("link", name=f"#{social_id}").first.click()
    expect(page.locator(".handover-target")).to_contain_text(f"Escalated to care: #{mail_id}")
    form = page.locator("form.escalate")
    form.get_by_label("Note for care").fill("Kundin wartet seit zwei Wochen auf die Erstattung.")
    form.get_by_label("Priority").select_option("urgent")
    form.get_by_role("button", name="Escalate to care").click()
    expect(page.get_by_role("status").first).to_have_text(f"Handed over to care as #{mail_id}.")
    page.get_by_role("button", name="Sign out").click()

    # Care: the escalated ticket, the whole story, and answers on both channels.
    sign_in(page, live_server, "agent@shop.example")
    page.goto(f"{live_server}/inbox?view=escalated")
    page.get_by_role("link", name="Erstattung R-1042").first.click()
    expect(page).to_have_url(f"{live_server}/tickets/{mail_id}")
    story = page.locator(".handover-source")
    expect(story).to_contain_text(f"Escalated from social: #{social_id}")
    expect(story).to_contain_text("Auf meine Mail zur Erstattung antwortet niemand")
    entries = page.locator(".entries")
    expect(entries).to_contain_text("seit zwei Wochen bei Ihnen")  # the e-mail
    expect(entries).to_contain_text("Kundin wartet seit zwei Wochen")  # the social note
    page.screenshot(path=str(tmp_path / "care-ticket.png"), full_page=True)

    for channel, text in (
        ("instagram", "Hallo Lena, danke für deine Geduld, die Details kommen per Mail."),
        ("email", "Liebe Frau Vogel, Ihre Erstattung ist heute angewiesen worden."),
    ):
        composer = page.locator("form.compose")
        composer.get_by_label("Channel").select_option(channel)
        composer.get_by_label("Message").fill(text)
        composer.get_by_role("button", name="Send", exact=True).click()
        expect(page.get_by_role("status").first).to_have_text("Your reply is on its way.")
        expect(page.locator("article.message.outbound").last).to_contain_text(text)

    db.session.expire_all()
    replies = db.session.scalars(
        select(Message).where(Message.direction == "outbound").order_by(Message.id)
    ).all()
    assert [(m.channel, m.counterpart, m.ticket_id) for m in replies] == [
        ("instagram", INSTAGRAM, mail_id),
        ("email", "lena.vogel@example.de", mail_id),
    ]
    assert db.session.get(Ticket, mail_id).priority == "urgent"
    assert db.session.get(Ticket, social_id).escalated_to_id == mail_id
