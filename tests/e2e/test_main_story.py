"""The agent's main story in a real browser, and XSS payloads that must stay text.

Helga returned her shoes (registered 20 Nov, received 23 Nov; the invoice's reminders
paused since 20 Nov) and writes in German that she got a payment reminder anyway. An
agent signs in, opens Unassigned, takes the ticket, sees the return and the hold,
inserts the suggested answer, sends it with status pending, and the worker's delivery
puts the mail at a real SMTP server (aiosmtpd).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Message, Ticket
from helpdesk.services.canned import install_default_responses
from helpdesk.services.delivery import deliver_due
from helpdesk.services.returns import ReturnLine, register_return, transition
from tests import factories
from tests.conftest import PASSWORD, make_user
from tests.factories import Classified, inbound
from tests.mail_servers import SmtpRecorder

pytestmark = pytest.mark.e2e

HELGA = "helga.brandt@example.de"
NOV_20 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
NOV_23 = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)


@pytest.fixture
def smtp(app, monkeypatch) -> Iterator[SmtpRecorder]:
    with SmtpRecorder() as server:
        monkeypatch.setitem(app.config, "SMTP_URL", server.url())
        monkeypatch.setitem(app.config, "MAIL_FROM", "service@nordlicht.test")
        yield server


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/inbox")


def watch_for_scripts(page) -> list[str]:
    """Every dialog a page opens (an executed alert() payload), dismissed and recorded."""
    dialogs: list[str] = []

    def record(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return dialogs


def test_an_agent_answers_a_german_return_and_reminder_ticket(app, live_server, page, smtp):
    order = factories.order("100457", HELGA, reminder_level=1)
    return_ = register_return(order, [ReturnLine(order.items[0], 1, "too_small")], now=NOV_20)
    transition(return_, "received", now=NOV_23)
    install_default_responses()
    db.session.commit()
    result = ingest(
        inbound("email", HELGA, "Meine Schuhe sind längst zurück, trotzdem kam eine Mahnung!",
                subject="Mahnung trotz Retoure", display_name="Helga Brandt"),
        classifier=Classified("return_status", "payment_reminder", order_numbers=["100457"]),
    )  # fmt: skip
    db.session.commit()
    ticket_id, return_number = result.ticket_id, return_.number
    make_user("agent", language="en", name="Julia Agent")  # commits: the server may write
    deliver_due()  # the return's own notifications to Helga, if any, go first
    mails_before = len(smtp.messages)
    db.session.commit()  # no transaction of ours may hold SQLite's lock while the server works

    sign_in(page, live_server, "agent@shop.example")
    page.locator(".views").get_by_role("link", name=re.compile(r"^Unassigned")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unassigned")
    page.get_by_role("link", name="Mahnung trotz Retoure").click()
    expect(page).to_have_url(f"{live_server}/tickets/{ticket_id}")

    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_role("status").first).to_have_text("The ticket is yours.")
    expect(page.locator(".timeline .event").last).to_contain_text("Assigned to Julia Agent")

    panel = page.locator("#commerce")
    expect(panel.locator(".banner")).to_contain_text(
        f"Return {return_number} received on 23 Nov 2026"
    )
    expect(panel.locator(".hold")).to_contain_text("Reminders paused since 20 Nov 2026")

    composer = page.locator("#composer")
    field = composer.get_by_role("textbox", name="Message")
    expect(field).to_have_value("")
    expect(composer.get_by_label("Channel")).to_have_value("email")
    composer.get_by_role("link", name="Insert: Zahlungserinnerung trotz Retoure").click()
    expect(field).to_have_value(re.compile(r"am 23\.11\.2026 bei uns eingegangen"))
    expect(page).to_have_url(f"{live_server}/tickets/{ticket_id}")  # inserted by script, no reload
    field.press("End")
    field.type("\nP.S. Die Mahngebühr entfällt.")
    composer.get_by_role("button", name="Send and set Pending").click()

    expect(page.get_by_role("status").first).to_have_text("Your reply is on its way.")
    expect(page.locator(".ticket-badges .badge").first).to_have_text("Pending")
    expect(page.locator("article.message.outbound")).to_contain_text("Die Mahngebühr entfällt.")

    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket_id)
    assert ticket.status == "pending" and ticket.assignee.name == "Julia Agent"
    reply = db.session.scalars(
        select(Message).where(Message.ticket_id == ticket_id, Message.direction == "outbound")
    ).one()
    assert reply.details["canned_response"] == "reminder-return"
    db.session.commit()

    assert deliver_due() == {"sent": 1}
    mails = smtp.messages[mails_before:]
    assert len(mails) == 1
    assert mails[0].rcpt_tos == (HELGA,)
    mail = mails[0].parsed()
    assert HELGA in mail["To"] and f"[#{ticket_id}]" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert "am 23.11.2026 bei uns eingegangen" in body and "Die Mahngebühr entfällt." in body


def test_payloads_in_subject_name_and_html_never_run(app, live_server, page):
    ingest(
        inbound(
            "email",
            "mallory@example.com",
            "Hallo",
            subject="<img src=x onerror=\"window.__xss='subject';alert('subject')\">",
            display_name="<svg onload=\"window.__xss='name';alert('name')\">",
            html="<p>Hallo</p><img src=x onerror=\"window.__xss='body';alert('body')\">"
            "<script>window.__xss='script';alert('script')</script>"
            "<a href=\"javascript:alert('link')\">Klick</a>"
            "<iframe srcdoc=\"<script>parent.alert('frame')</script>\"></iframe>",
        )
    )
    db.session.commit()
    make_user("agent", language="en")
    dialogs = watch_for_scripts(page)

    sign_in(page, live_server, "agent@shop.example")
    row = page.locator("table.tickets tbody tr").first
    expect(row).to_contain_text("<img src=x onerror=")  # shown as text, not as an element
    expect(row).to_contain_text("<svg onload=")
    row.get_by_role("link", name=re.compile("onerror")).click()
    expect(page).to_have_url(re.compile(r"/tickets/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("<img src=x onerror=")
    expect(page.locator(".customer-name")).to_contain_text("<svg onload=")
    expect(page.locator("article.message.inbound .body")).to_contain_text("Hallo")
    page.locator("article.message.inbound").get_by_text("Klick").click()  # must not run it

    assert page.evaluate("() => window.__xss") is None
    active = "script:not([src]), iframe, [onerror], [onload], a[href^='javascript']"
    assert page.locator(f"main :is({active})").count() == 0
    page.goto(f"{live_server}/inbox")
    assert page.evaluate("() => window.__xss") is None
    assert dialogs == []
