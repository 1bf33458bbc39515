"""The whole e-mail story against real servers: Dovecot in, aiosmtpd out, and back in."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import ChannelState, Message, Ticket
from helpdesk.services.delivery import deliver_due
from helpdesk.services.mail_intake import poll_mailbox, watch_mailbox
from helpdesk.services.replies import add_reply, set_status
from tests.conftest import make_user


@pytest.fixture
def shop(app, imap_mailbox, smtp_server, monkeypatch):
    """A shop's service@ mailbox on Dovecot and its outgoing SMTP server."""
    monkeypatch.setitem(app.config, "SMTP_URL", smtp_server.url())
    return imap_mailbox(security="starttls", from_name="Schuhhaus Kundenservice")


def customer_writes(dovecot, user, *, subject, body, message_id, headers=""):
    dovecot.append(
        user,
        (
            "From: Lena Vogel <lena.vogel@example.com>\r\n"
            f"To: {user.name}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
            f"Date: Mon, 23 Nov 2026 09:30:00 +0100\r\n{headers}"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n"
        ).encode(),
    )


def test_mail_reply_answer_and_out_of_office_stay_in_one_ticket(
    app, shop, dovecot, mailbox_user, smtp_server
):
    customer_writes(
        dovecot,
        mailbox_user,
        subject="Rücksendung Bestellung 100871",
        body="Hallo,\nich habe die Stiefel zurückgeschickt. Wann kommt mein Geld?\n\nLena Vogel",
        message_id="<lena-1@example.com>",
    )
    assert poll_mailbox(shop).report.counts == {"stored": 1}
    ticket = db.session.scalars(select(Ticket)).one()

    add_reply(ticket, make_user("agent"), "Hallo Frau Vogel,\ndie Erstattung ist angewiesen.")
    db.session.commit()
    assert deliver_due() == {"sent": 1}
    ours = smtp_server.messages[0].parsed()
    assert ours["From"] == f"Schuhhaus Kundenservice <{mailbox_user.name}>"

    # Her mail client answers as mail clients do: Re:, In-Reply-To, References, a quote.
    customer_writes(
        dovecot,
        mailbox_user,
        subject=f"Re: {ours['Subject']}",
        body="Danke, dann warte ich.\n\n"
        "Am 23.11.2026 um 10:00 schrieb Schuhhaus:\n> Hallo Frau Vogel",
        message_id="<lena-2@example.com>",
        headers=f"In-Reply-To: {ours['Message-ID']}\r\n"
        f"References: <lena-1@example.com> {ours['Message-ID']}\r\n",
    )
    set_status(ticket, "solved")
    db.session.commit()
    assert poll_mailbox(shop).report.counts == {"stored": 1}
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Ticket.id))) == 1
    assert ticket.status == "open"  # her answer reopened it
    assert ticket.messages[-1].text == "Danke, dann warte ich."

    set_status(ticket, "solved")
    db.session.commit()
    customer_writes(
        dovecot,
        mailbox_user,
        subject=f"Automatische Antwort: {ours['Subject']}",
        body="Ich bin bis 30.11. nicht im Büro.",
        message_id="<lena-ooo@example.com>",
        headers=f"Auto-Submitted: auto-replied\r\nIn-Reply-To: {ours['Message-ID']}\r\n",
    )
    assert poll_mailbox(shop).report.counts == {"stored": 1}
    db.session.expire_all()
    assert ticket.status == "solved"  # the robot did not reopen it
    assert db.session.scalar(select(func.count(Message.id))) == 4
    assert deliver_due() == {}  # and nobody answered the robot


def test_the_watcher_picks_up_new_mail_through_idle(app, shop, dovecot, mailbox_user):
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch_mailbox, args=(app, shop.id, stop), kwargs={"idle_seconds": 5}, daemon=True
    )
    db.session.commit()
    watcher.start()
    try:
        customer_writes(
            dovecot,
            mailbox_user,
            subject="Frage",
            body="Gibt es die in 39?",
            message_id="<idle-1@example.com>",
        )
        for _ in range(200):  # up to 20 s; the IDLE answer usually comes at once
            arrived = db.session.scalar(select(func.count(Message.id)))
            db.session.rollback()  # let the watcher write meanwhile
            if arrived:
                break
            time.sleep(0.1)
        text = db.session.scalar(select(Message.text))
        db.session.rollback()  # on SQLite a reader holds the write lock the watcher needs
        assert text == "Gibt es die in 39?"
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert not watcher.is_alive()


def test_the_watcher_reconnects_after_errors_and_then_reads_the_mail(
    app, shop, dovecot, mailbox_user, monkeypatch
):
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "wrong")
    customer_writes(
        dovecot, mailbox_user, subject="Hallo", body="Noch da?", message_id="<retry-1@example.com>"
    )
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch_mailbox, args=(app, shop.id, stop), kwargs={"idle_seconds": 5}, daemon=True
    )
    db.session.commit()
    watcher.start()
    try:
        health = None
        for _ in range(200):
            health = db.session.scalar(
                select(ChannelState.last_error).where(ChannelState.id == shop.id)
            )
            db.session.rollback()
            if health:
                break
            time.sleep(0.1)
        assert health and "password" in health.lower()

        monkeypatch.setenv("TEST_IMAP_PASSWORD", mailbox_user.password)  # the admin fixes it
        for _ in range(300):
            arrived = db.session.scalar(select(Message.text))
            db.session.rollback()
            if arrived:
                break
            time.sleep(0.1)
        assert arrived == "Noch da?"
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert db.session.get(ChannelState, shop.id).last_error is None
