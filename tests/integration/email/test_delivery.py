"""Replies leave through the outbox by SMTP (aiosmtpd), and the customer's answer threads back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Event, OutboxItem, Ticket
from helpdesk.models.types import utcnow
from helpdesk.services.delivery import deliver_due, reply_subject
from helpdesk.services.mail_intake import poll_mailbox
from helpdesk.services.mailboxes import add_mailbox
from helpdesk.services.replies import add_reply, set_status
from tests.conftest import log_in, make_user
from tests.factories import inbound


@pytest.fixture
def smtp(app, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", smtp_server.url())
    return smtp_server


def customer_mail(**fields):
    fields.setdefault("external_id", "<first@mail.example.com>")
    fields.setdefault("subject", "Rücksendung Bestellung 100234")
    fields.setdefault("recipient", "service@shop.test")
    return inbound(sender="anna.weber@example.com", display_name="Anna Weber", **fields)


@pytest.fixture
def service_mailbox(app):
    box = add_mailbox(
        "service",
        address="service@shop.test",
        host="127.0.0.1",
        port=1,
        security="none",
        username="service@shop.test",
        password_env="UNUSED",
        from_name="Shop Kundenservice",
    )
    db.session.commit()
    return box


def test_reply_leaves_with_headers_that_thread_in_the_customers_mail_client(
    app, smtp, service_mailbox
):
    first = ingest(customer_mail())
    ticket = first.ticket
    reply = add_reply(ticket, make_user("agent"), "Hallo Frau Weber,\ndie Retoure ist da.")
    db.session.commit()

    assert deliver_due() == {"sent": 1}

    (received,) = smtp.messages
    mail = received.parsed()
    assert received.rcpt_tos == ("anna.weber@example.com",)
    assert mail["From"] == "Shop Kundenservice <service@shop.test>"
    assert mail["To"] == "Anna Weber <anna.weber@example.com>"
    assert mail["Subject"] == f"Re: Rücksendung Bestellung 100234 [#{ticket.number}]"
    assert mail["Message-ID"] == reply.external_id
    assert reply.external_id.endswith("@shop.test>")
    assert mail["In-Reply-To"] == "<first@mail.example.com>"
    assert mail["References"] == "<first@mail.example.com>"
    assert mail["Auto-Submitted"] is None
    body = mail.get_content().replace("\r\n", "\n").strip()
    assert body == "Hallo Frau Weber,\ndie Retoure ist da."

    item = db.session.scalars(select(OutboxItem)).one()
    assert (item.status, item.attempts) == ("sent", 1)
    assert reply.details["delivery"]["response"].startswith("250")
    assert deliver_due() == {}  # nothing is sent twice


def test_customer_answer_to_our_reply_lands_in_the_same_ticket(app, smtp, service_mailbox):
    first = ingest(customer_mail())
    add_reply(first.ticket, make_user("agent"), "Wir prüfen das.")
    db.session.commit()
    deliver_due()
    ours = smtp.messages[0].parsed()

    answer = ingest(
        customer_mail(
            external_id="<answer@mail.example.com>",
            subject=f"AW: {ours['Subject']}",
            references=(ours["References"], ours["Message-ID"]),
        )
    )
    assert answer.ticket_id == first.ticket_id


def test_temporary_failure_is_retried_later_and_shown_on_the_ticket(
    app, smtp, service_mailbox, client
):
    first = ingest(customer_mail())
    reply = add_reply(first.ticket, make_user("agent"), "Ihre Erstattung ist unterwegs.")
    db.session.commit()
    smtp.fail_next("451 4.3.0 Mailbox temporarily unavailable")

    assert deliver_due() == {"retrying": 1}
    item = db.session.scalars(select(OutboxItem)).one()
    assert item.status == "pending" and item.attempts == 1
    assert "451" in item.last_error
    assert item.next_attempt_at > utcnow() + timedelta(seconds=50)
    log_in(client, "agent@shop.example")
    page = client.get(f"/tickets/{first.ticket.number}").get_data(as_text=True)
    assert "Not delivered yet, trying again" in page and "451 4.3.0" in page

    assert deliver_due() == {}  # not due yet
    assert deliver_due(now=item.next_attempt_at) == {"sent": 1}
    db.session.refresh(reply)
    assert reply.details["delivery"]["status"] == "sent"
    assert len(smtp.messages) == 1


def test_permanent_failure_gives_up_at_once_with_the_servers_answer(app, smtp, service_mailbox):
    first = ingest(customer_mail())
    add_reply(first.ticket, make_user("agent"), "Hallo")
    db.session.commit()
    smtp.fail_next("550 5.1.1 <anna.weber@example.com>: Recipient address rejected", stage="RCPT")

    assert deliver_due() == {"failed": 1}
    item = db.session.scalars(select(OutboxItem)).one()
    assert item.status == "dead" and "550 5.1.1" in item.last_error
    event = db.session.scalars(select(Event).where(Event.kind == "message.delivery_failed")).one()
    assert event.data["final"] is True and "550" in event.data["error"]


def test_gives_up_after_the_last_retry(app, smtp, service_mailbox):
    from helpdesk.services.delivery import RETRY_DELAYS

    first = ingest(customer_mail())
    add_reply(first.ticket, make_user("agent"), "Hallo")
    db.session.commit()
    smtp.fail_next("421 4.7.0 try again later", count=len(RETRY_DELAYS) + 1)
    outcomes = []
    for _ in range(len(RETRY_DELAYS) + 1):
        item = db.session.scalars(select(OutboxItem)).one()
        outcomes.extend(deliver_due(now=item.next_attempt_at).elements())
    assert outcomes == ["retrying"] * len(RETRY_DELAYS) + ["failed"]
    assert db.session.scalars(select(OutboxItem.status)).one() == "dead"


def test_acknowledgement_is_automatic_mail_and_rate_limited_per_address(
    app, smtp, dovecot, mailbox_user, imap_mailbox
):
    box = imap_mailbox(acknowledge=True)
    for number in (1, 2):
        dovecot.append(
            mailbox_user,
            (
                f"From: kunde@example.com\r\nTo: {mailbox_user.name}\r\nSubject: Frage {number}\r\n"
                f"Message-ID: <ack-{number}@example.com>\r\n\r\nHallo, eine Frage.\r\n"
            ).encode(),
        )
    poll_mailbox(box)
    assert deliver_due() == {"sent": 1}  # two new tickets, one acknowledgement

    (ack,) = smtp.messages
    mail = ack.parsed()
    assert mail["Auto-Submitted"] == "auto-replied"
    assert "[#" in mail["Subject"] and "Vielen Dank" not in mail.get_content()  # English default
    tickets = db.session.scalars(select(Ticket)).all()
    assert all(t.first_response_at is None and t.status == "new" for t in tickets)


def test_subject_gets_one_re_and_one_token():
    class FakeTicket:
        number = 42

        def __init__(self, subject):
            self.subject = subject

    assert reply_subject(FakeTicket("Retoure")) == "Re: Retoure [#42]"
    assert reply_subject(FakeTicket("AW: Re: Retoure [#42]")) == "Re: Retoure [#42]"


def test_an_out_of_office_answer_does_not_reopen_the_ticket(app, smtp, service_mailbox):
    first = ingest(customer_mail())
    add_reply(first.ticket, make_user("agent"), "Erledigt.")
    set_status(first.ticket, "solved")
    db.session.commit()
    deliver_due()
    ours = smtp.messages[0].parsed()

    ooo = ingest(
        customer_mail(
            external_id="<ooo@mail.example.com>",
            subject=f"Abwesenheitsnotiz: {ours['Subject']}",
            references=(ours["Message-ID"],),
            auto_submitted=True,
            text="Ich bin bis Montag im Urlaub.",
        )
    )
    assert ooo.ticket_id == first.ticket_id
    assert db.session.get(Ticket, first.ticket_id).status == "solved"


def test_html_and_attachments_travel_with_the_reply(app, smtp, service_mailbox):
    from channel_adapters.base import InboundAttachment

    first = ingest(customer_mail())
    label = b"%PDF-1.4 Retourenlabel"
    add_reply(
        first.ticket,
        make_user("agent"),
        "Anbei Ihr Retourenlabel.",
        html="<p>Anbei Ihr <b>Retourenlabel</b>.</p>",
        attachments=[
            InboundAttachment.from_bytes("Rücksendeetikett.pdf", "application/pdf", label)
        ],
    )
    db.session.commit()
    assert deliver_due() == {"sent": 1}

    mail = smtp.messages[0].parsed()
    assert (
        mail.get_body(("html",)).get_content().strip() == "<p>Anbei Ihr <b>Retourenlabel</b>.</p>"
    )
    (attachment,) = mail.iter_attachments()
    assert attachment.get_filename() == "Rücksendeetikett.pdf"
    assert attachment.get_content() == label


def test_no_transaction_is_open_while_the_mail_server_is_slow(app, service_mailbox, monkeypatch):
    """On SQLite an open transaction holds the write lock; the network must not hold it."""
    from helpdesk.services import delivery

    seen = []

    def transmit(outbound):
        seen.append((outbound.message_id, db.session().in_transaction()))
        return "250 2.0.0 Ok"

    monkeypatch.setattr(
        delivery,
        "_channels",
        lambda: {"email": delivery.Channel(prepare=delivery.email_for, transmit=transmit)},
    )
    first = ingest(customer_mail())
    reply = add_reply(first.ticket, make_user("agent"), "Hallo")
    db.session.commit()
    assert deliver_due() == {"sent": 1}
    assert seen == [(reply.external_id, False)]
