"""`helpdesk import-mail`: Maildir, mbox and folders; the real-world corpus loses nothing."""

from __future__ import annotations

import mailbox
from collections import Counter

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Message, QuarantinedInput, RawSource
from helpdesk.services.mail_import import import_mail, mail_sources


def mail(number: int) -> bytes:
    return (
        f"From: kunde{number}@example.com\r\nTo: service@shop.test\r\n"
        f"Subject: Frage {number}\r\nMessage-ID: <import-{number}@example.com>\r\n\r\n"
        f"Hallo, Frage Nummer {number}.\r\n"
    ).encode()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_maildir_mbox_and_folder_import_once(app, tmp_path):
    maildir = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for number in (1, 2):
        maildir.add(mail(number))
    mbox = mailbox.mbox(tmp_path / "archive.mbox", create=True)
    for number in (3, 4):
        mbox.add(mail(number))
    mbox.flush()
    folder = tmp_path / "eml"
    folder.mkdir()
    (folder / "5.eml").write_bytes(mail(5))
    (folder / "README.md").write_text("not a mail")

    for path in (tmp_path / "Maildir", tmp_path / "archive.mbox", folder):
        assert import_mail(path).counts == {"stored": 2 if path != folder else 1}
    assert count(Message) == 5

    for path in (tmp_path / "Maildir", tmp_path / "archive.mbox", folder):
        assert set(import_mail(path).counts) == {"duplicate"}
    assert count(Message) == 5


def test_cli_import_says_what_happened(app, tmp_path):
    (tmp_path / "a.eml").write_bytes(mail(1))
    (tmp_path / "b.eml").write_bytes(b"\x00\x01 not a mail at all")
    result = app.test_cli_runner().invoke(args=["import-mail", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "import-mail: 2 mails: 1 stored, 1 quarantined" in result.output


def test_the_public_corpus_is_stored_or_quarantined_and_the_count_adds_up(app, shared_data):
    corpus = shared_data / "email"
    sources = mail_sources(corpus)
    files = [
        p for p in corpus.rglob("*") if p.is_file() and not p.name.startswith(("LICENSE", "README"))
    ]
    assert len(sources) == len(files) > 800

    report = import_mail(corpus, sources=sources)

    counts = report.counts
    assert sum(counts.values()) == len(files)
    assert set(counts) <= {"stored", "duplicate", "quarantined"}
    assert count(Message) == counts["stored"]
    assert count(QuarantinedInput) == counts["quarantined"]
    # Files that share a Message-ID are one message; every stored one kept its bytes.
    assert count(RawSource) == counts["stored"]
    # Some files are the same mail in another MIME dress under the same Message-ID;
    # they are kept as messages of their own. Only byte-for-byte content repeats dedupe.
    assert counts["quarantined"] < 0.02 * len(files)
    assert counts["stored"] > 0.9 * len(files)

    # Bounces from the corpus are recognised as automatic mail, not as customers asking.
    automatic = Counter(
        details.get("automatic") for details in db.session.scalars(select(Message.details))
    )
    assert automatic["bounce"] > 400

    again = import_mail(corpus, sources=sources)
    assert set(again.counts) <= {"duplicate"}
    assert count(Message) == counts["stored"]
