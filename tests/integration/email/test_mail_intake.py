"""IMAP intake against a real Dovecot: mail becomes tickets, and nothing is lost or doubled."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import ChannelState, Message, QuarantinedInput, Ticket
from helpdesk.services.mail_intake import poll_mailbox
from tests.mail_servers import Dovecot, MailUser


def mail(
    number: int,
    *,
    sender: str = "anna.weber@example.com",
    subject: str | None = None,
    body: str | None = None,
    headers: str = "",
) -> bytes:
    subject = subject or f"Bestellung 1002{number:02d}"
    body = body or f"Hallo,\nwo bleibt meine Bestellung 1002{number:02d}?\n\nViele Grüße\nAnna"
    return (
        f"From: Anna Weber <{sender}>\r\nTo: service@shop.test\r\n"
        f"Subject: {subject}\r\nMessage-ID: <intake-{number}@mail.example.com>\r\n"
        f"Date: Mon, 23 Nov 2026 10:{number:02d}:00 +0100\r\n{headers}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n"
    ).encode()


@pytest.fixture
def mailbox(imap_mailbox) -> ChannelState:
    return imap_mailbox()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def seen(dovecot: Dovecot, user: MailUser) -> dict[int, bool]:
    return {uid: b"\\Seen" in flags for uid, flags in dovecot.flags(user).items()}


def test_appended_mail_becomes_a_ticket_with_clean_text(mailbox, dovecot, mailbox_user):
    reply = mail(1, body="Hallo,\nwo ist das Paket?\n\nAm 20.11.2026 um 09:00 schrieb Shop:\n> alt")
    uid = dovecot.append(mailbox_user, reply)

    result = poll_mailbox(mailbox)

    assert result.report.counts == {"stored": 1}
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.subject == "Bestellung 100201"
    assert ticket.customer.identity("email") == "anna.weber@example.com"
    (message,) = ticket.messages
    assert message.text == "Hallo,\nwo ist das Paket?"
    assert "schrieb Shop" in message.quoted_text
    assert message.raw_source.data == reply
    assert seen(dovecot, mailbox_user) == {uid: True}
    assert mailbox.state["last_uid"] == uid and mailbox.last_success_at is not None


def test_failure_after_some_mails_loses_none_and_duplicates_none(mailbox, dovecot, mailbox_user):
    uids = [dovecot.append(mailbox_user, mail(n)) for n in range(1, 6)]

    class BreaksOnThird:
        calls = 0

        def classify(self, text, *, subject=""):
            from classifiers.base import Classification

            self.calls += 1
            if self.calls == 3:
                raise RuntimeError("the model server went away")
            return Classification()

    with pytest.raises(RuntimeError):
        poll_mailbox(mailbox, classifier=BreaksOnThird())
    db.session.rollback()
    assert count(Message) == 2
    assert seen(dovecot, mailbox_user) == dict(
        zip(uids, [True, True, False, False, False], strict=True)
    )

    again = poll_mailbox(mailbox)
    assert again.report.counts == {"stored": 3}
    assert count(Message) == 5 and count(Ticket) == 5
    assert all(seen(dovecot, mailbox_user).values())


def test_a_crash_between_storing_and_flagging_is_flagged_on_the_next_connection(
    mailbox, dovecot, mailbox_user
):
    uids = [dovecot.append(mailbox_user, mail(n)) for n in (1, 2)]
    poll_mailbox(mailbox)
    # As after a kill -9 between the commit (mail and last UID stored) and the flag:
    with dovecot.client(mailbox_user) as client:
        client.select_folder("INBOX")
        client.remove_flags([uids[1]], [b"\\Seen"])
    assert seen(dovecot, mailbox_user) == {uids[0]: True, uids[1]: False}

    result = poll_mailbox(mailbox)
    assert result.report.counts == {}  # nothing fetched or stored again
    assert seen(dovecot, mailbox_user) == {uids[0]: True, uids[1]: True}
    assert count(Message) == 2


def test_a_changed_uidvalidity_reads_the_folder_again_without_doubles(
    mailbox, dovecot, mailbox_user
):
    for n in (1, 2):
        dovecot.append(mailbox_user, mail(n))
    poll_mailbox(mailbox)
    before = mailbox.state["uidvalidity"]

    dovecot.renumber(mailbox_user)  # as after a restore: same mail, new numbering
    dovecot.append(mailbox_user, mail(3))
    result = poll_mailbox(mailbox)

    assert mailbox.state["uidvalidity"] != before
    assert result.report.counts == {"duplicate": 2, "stored": 1}
    assert count(Message) == 3


def test_unreadable_mail_is_quarantined_and_the_rest_goes_on(mailbox, dovecot, mailbox_user):
    dovecot.append(mailbox_user, b"Subject: no sender at all\r\n\r\nnobody wrote this\r\n")
    dovecot.append(mailbox_user, mail(2))
    result = poll_mailbox(mailbox)

    assert result.report.counts == {"quarantined": 1, "stored": 1}
    item = db.session.scalars(select(QuarantinedInput)).one()
    assert item.data.startswith(b"Subject: no sender at all")
    assert "sender" in item.reason and "mailbox service" in item.source
    assert all(seen(dovecot, mailbox_user).values())


def test_our_own_mail_is_never_ingested(mailbox, dovecot, mailbox_user):
    dovecot.append(mailbox_user, mail(1, sender=mailbox_user.name))
    assert poll_mailbox(mailbox).report.counts == {"own": 1}
    assert count(Message) == 0


def test_processed_mail_can_be_moved_to_a_folder(mailbox, dovecot, mailbox_user):
    mailbox.config = {**mailbox.config, "processed_folder": "Helpdesk"}
    db.session.commit()
    dovecot.append(mailbox_user, mail(1))
    poll_mailbox(mailbox)
    assert dovecot.flags(mailbox_user) == {}
    assert len(dovecot.flags(mailbox_user, "Helpdesk")) == 1


def test_connection_errors_are_recorded_as_the_mailboxs_health(mailbox, monkeypatch):
    from channel_adapters.email.imap import ImapAuthError

    monkeypatch.setenv("TEST_IMAP_PASSWORD", "wrong")
    with pytest.raises(ImapAuthError):
        poll_mailbox(mailbox)
    stored = db.session.get(ChannelState, mailbox.id)
    assert "password" in stored.last_error.lower() or "auth" in stored.last_error.lower()
    assert stored.last_error_at is not None


def test_cli_adds_a_mailbox_and_polls_it_once(app, dovecot, mailbox_user, monkeypatch):
    monkeypatch.setenv("TEST_IMAP_PASSWORD", mailbox_user.password)
    monkeypatch.setitem(app.config, "IMAP_CA_FILE", dovecot.ca_file)
    runner = app.test_cli_runner()
    added = runner.invoke(
        args=[
            "mailbox",
            "add",
            "returns",
            "--host",
            "127.0.0.1",
            "--port",
            str(dovecot.imap_port),
            "--security",
            "starttls",
            "--username",
            mailbox_user.name,
            "--password-env",
            "TEST_IMAP_PASSWORD",
        ]
    )
    assert added.exit_code == 0, added.output
    dovecot.append(mailbox_user, mail(7))

    polled = runner.invoke(args=["poll-mail", "--once"])
    assert polled.exit_code == 0, polled.output
    assert "returns: 1 mail: 1 stored" in polled.output
    listed = runner.invoke(args=["mailbox", "list"])
    assert "returns: " in listed.output and "LAST ERROR" not in listed.output


def test_cli_refuses_a_password_instead_of_a_variable_name(app):
    result = app.test_cli_runner().invoke(
        args=[
            "mailbox",
            "add",
            "x",
            "--host",
            "h",
            "--username",
            "u@shop.test",
            "--password-env",
            "hunter2 secret",
        ]
    )
    assert result.exit_code == 1
    assert "NAME of an environment variable" in result.output
