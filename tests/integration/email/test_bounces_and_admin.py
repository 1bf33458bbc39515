"""Bounces flag the reply that bounced; admins see quarantine and mailbox health."""

from __future__ import annotations

import pytest

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Event, Message
from helpdesk.services.mail_intake import poll_mailbox, take_in_mail
from helpdesk.services.mailboxes import add_mailbox
from helpdesk.services.replies import add_reply
from tests.conftest import log_in, make_user
from tests.factories import inbound


def delivery_report(original_id: str) -> bytes:
    """A Postfix-style DSN for a reply of ours that could not be delivered."""
    return (
        "From: MAILER-DAEMON@mx.shop.test (Mail Delivery System)\r\n"
        "To: service@shop.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.shop.test>\r\nDate: Mon, 23 Nov 2026 11:00:00 +0100\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n\r\n"
        "<anna.weber@example.com>: host mx.example.com said: 550 5.1.1 User unknown\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.shop.test\r\n\r\n"
        "Final-Recipient: rfc822; anna.weber@example.com\r\nAction: failed\r\n"
        "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: service@shop.test\r\nTo: anna.weber@example.com\r\nMessage-ID: {original_id}\r\n"
        "Subject: Re: Retoure\r\n\r\n--B--\r\n"
    ).encode()


def test_a_bounce_flags_the_reply_on_its_ticket(app, client):
    first = ingest(inbound(sender="anna.weber@example.com", subject="Retoure"))
    reply = add_reply(first.ticket, make_user("agent"), "Ihre Retoure ist angekommen.")
    db.session.commit()

    assert take_in_mail(delivery_report(reply.external_id), source="test") == "stored"
    db.session.commit()

    reply = db.session.get(Message, reply.id)
    assert reply.details["delivery"]["status"] == "bounced"
    assert "anna.weber@example.com" in reply.details["delivery"]["recipients"]
    assert len(reply.ticket.messages) == 3  # the report is on the ticket too
    assert db.session.scalars(db.select(Event.kind).where(Event.kind == "message.bounced")).one()
    assert reply.ticket.status == "open"  # a robot's report reopens nothing
    log_in(client, "agent@shop.example")
    page = client.get(f"/tickets/{first.ticket.number}").get_data(as_text=True)
    assert "Bounced" in page


def test_admins_see_the_quarantine_and_download_the_raw_bytes(app, client):
    raw = b"Subject: nobody\r\n\r\nno sender here\r\n"
    take_in_mail(raw, source="mailbox service, UID 7")
    db.session.commit()
    make_user("agent")
    log_in(client, "agent@shop.example")
    assert client.get("/admin/quarantine").status_code == 403

    make_user("admin")
    admin = app.test_client()
    log_in(admin, "admin@shop.example")
    page = admin.get("/admin/quarantine").get_data(as_text=True)
    assert "mailbox service, UID 7" in page and "no sender" in page
    download = admin.get("/admin/quarantine/1/raw")
    assert download.data == raw
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert "attachment" in download.headers["Content-Disposition"]


def test_mailbox_health_page_shows_the_last_error(app, monkeypatch):
    box = add_mailbox(
        "returns",
        address="returns@shop.test",
        host="127.0.0.1",
        port=1,
        security="none",
        username="returns@shop.test",
        password_env="HELPDESK_TEST_MISSING_PASSWORD",
    )
    db.session.commit()
    monkeypatch.delenv("HELPDESK_TEST_MISSING_PASSWORD", raising=False)
    with pytest.raises(Exception, match="HELPDESK_TEST_MISSING_PASSWORD"):
        poll_mailbox(box)
    make_user("admin")
    admin = app.test_client()
    log_in(admin, "admin@shop.example")
    page = admin.get("/admin/mailboxes").get_data(as_text=True)
    assert "returns@shop.test" in page and "HELPDESK_TEST_MISSING_PASSWORD" in page
