"""Real mail servers for the e-mail adapter tests: Dovecot for IMAP, aiosmtpd for SMTP.

These tests need no database, so nothing here asks for the `app` fixture.
Without Dovecot or openssl the IMAP tests are skipped, except under CI=true,
where a missing server is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mail_servers import (
    DOVECOT_BINARY,
    Dovecot,
    MailUser,
    SmtpRecorder,
    make_self_signed_certificate,
)


def _require(what: str, present: bool) -> None:
    if present:
        return
    message = f"{what} is missing; install it (Debian: dovecot-imapd, openssl) to run these tests"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + "; under CI=true that is a failure", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One Dovecot for the session; tests keep apart by using their own user."""
    _require(str(DOVECOT_BINARY), DOVECOT_BINARY.exists())
    _require("openssl", shutil.which("openssl") is not None)
    with Dovecot() as server:
        yield server


@pytest.fixture
def mailbox_user(dovecot: Dovecot) -> MailUser:
    """A fresh user with an empty mailbox, so no test sees another's mail."""
    return dovecot.add_user()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed (certificate, key) for localhost and 127.0.0.1."""
    _require("openssl", shutil.which("openssl") is not None)
    return make_self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp_server() -> Iterator[SmtpRecorder]:
    """A plain SMTP server that records what it accepts."""
    with SmtpRecorder() as server:
        yield server


@pytest.fixture
def imap_mailbox(app, dovecot: Dovecot, mailbox_user: MailUser, monkeypatch):
    """Make a helpdesk mailbox (in the database) that reads `mailbox_user` on Dovecot."""
    from helpdesk.extensions import db
    from helpdesk.services.mailboxes import add_mailbox

    monkeypatch.setenv("TEST_IMAP_PASSWORD", mailbox_user.password)
    monkeypatch.setitem(app.config, "IMAP_CA_FILE", dovecot.ca_file)

    def make(name: str = "service", security: str = "ssl", **options):
        port = dovecot.imaps_port if security == "ssl" else dovecot.imap_port
        box = add_mailbox(
            name, address=mailbox_user.name, host="127.0.0.1", port=port, security=security,
            username=mailbox_user.name, password_env="TEST_IMAP_PASSWORD", **options,
        )  # fmt: skip
        db.session.commit()
        return box

    return make
