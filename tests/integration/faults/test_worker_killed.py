"""kill -9 the worker while it reads a batch from IMAP (real Dovecot), start another:
every mail is stored exactly once and every mail ends flagged as read."""

from __future__ import annotations

import os
import time

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Message
from tests.integration.faults.conftest import Process, wait_until

MAILS = 80


def _mail(number: int) -> bytes:
    return (
        f"From: Kundin {number} <kundin{number}@example.de>\r\n"
        f"To: service@shop.example\r\nSubject: Bestellung 1{number:05d}\r\n"
        f"Message-ID: <fault-{number}@example.de>\r\n"
        "Date: Tue, 3 Dec 2024 10:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Wo bleibt meine Bestellung 1{number:05d}? Viele Grüße\r\n"
    ).encode()


def _stored() -> int:
    """Inbound messages committed so far. The transaction ends at once: on SQLite every
    transaction of ours takes the write lock (BEGIN IMMEDIATE), the worker's must not wait."""
    db.session.rollback()
    count = db.session.scalar(
        select(func.count()).select_from(Message).where(Message.direction == "inbound")
    )
    db.session.rollback()
    return count


def _all_read(dovecot, user) -> bool:
    return all(b"\\Seen" in flags for flags in dovecot.flags(user).values())


def _worker_env(app) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "HELPDESK_ENV": "development",
        "HELPDESK_CLASSIFIER": "none",
        "HELPDESK_IMAP_CA_FILE": app.config["IMAP_CA_FILE"],
        "HELPDESK_WORKER_LOCK_SECONDS": "1",
        "HELPDESK_WORKER_LOCK_NAME": f"fault-{os.getpid()}-{time.monotonic_ns()}",
    }


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    app, dovecot, mailbox_user, imap_mailbox
):
    with dovecot.client(mailbox_user) as client:
        for number in range(MAILS):
            client.append("INBOX", _mail(number))
    imap_mailbox("service")
    env = _worker_env(app)

    first = Process.helpdesk("worker", env=env)
    try:
        wait_until(lambda: _stored() >= 5, 120, "the first mails stored", process=first)
        first.kill_hard()
    finally:
        first.stop()
    at_kill = _stored()

    second = Process.helpdesk("worker", env=env)
    try:
        wait_until(lambda: _stored() >= MAILS, 180, "every mail stored", process=second)
        wait_until(lambda: _all_read(dovecot, mailbox_user), 60, "every mail flagged as read",
                   process=second)  # fmt: skip
    finally:
        second.stop()

    stored = _stored()
    distinct = db.session.scalar(  # the unique index forbids duplicates; counted anyway
        select(func.count(func.distinct(Message.external_id))).where(Message.direction == "inbound")
    )
    print(f"\nworker kill -9: {MAILS} mails in IMAP, {at_kill} stored when killed, "
          f"{stored} stored after the restart, {distinct} distinct, "
          f"{stored - distinct} duplicates")  # fmt: skip
    assert at_kill > 0, "the kill came before any mail was stored"
    assert stored == distinct == MAILS
