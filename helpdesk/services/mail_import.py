"""`helpdesk import-mail`: a Maildir, an mbox or a folder of .eml files, through the intake.

Each mail goes through the same path as IMAP mail and is committed on its own;
running the import again adds nothing, because Message-IDs (or, for mail
without one, a hash of its bytes) are unique in the store.
"""

from __future__ import annotations

import mailbox
from collections.abc import Callable, Iterator
from pathlib import Path

from helpdesk.extensions import db
from helpdesk.services.mail_intake import IntakeReport, take_in_mail
from helpdesk.services.mailboxes import own_addresses

COMMIT_EVERY = 50

#: Files in a folder that are documentation, not mail.
_NOT_MAIL = ("readme", "license", "licence", "copying")


def mail_sources(path: str | Path) -> list[tuple[str, Callable[[], bytes]]]:
    """Every mail at `path` as (name for messages, loader of its bytes), in a stable order."""
    path = Path(path)
    if path.is_dir() and all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
        box = mailbox.Maildir(path, factory=None, create=False)
        return [(f"{path.name}/{key}", _loader(box, key)) for key in sorted(box.keys())]
    if path.is_file() and _starts_with(path, b"From "):
        box = mailbox.mbox(path, factory=None, create=False)
        return [(f"{path.name}#{key}", _loader(box, key)) for key in box.iterkeys()]
    if path.is_file():
        return [(path.name, path.read_bytes)]
    return [(str(file.relative_to(path)), file.read_bytes) for file in _mail_files(path)]


def _starts_with(path: Path, prefix: bytes) -> bool:
    with path.open("rb") as file:
        return file.read(len(prefix)) == prefix


def _loader(box: mailbox.Mailbox, key: str) -> Callable[[], bytes]:
    return lambda: box.get_bytes(key)


def _mail_files(folder: Path) -> Iterator[Path]:
    for file in sorted(folder.rglob("*")):
        name = file.name.lower()
        if file.is_file() and not name.startswith(".") and not name.startswith(_NOT_MAIL):
            yield file


def import_mail(
    path: str | Path,
    *,
    sources: list[tuple[str, Callable[[], bytes]]] | None = None,
    on_mail: Callable[[str], None] | None = None,
) -> IntakeReport:
    """Take in every mail at `path`; return what became of them.

    Commits every `COMMIT_EVERY` mails: an interrupted import loses at most that
    many, and running it again fills them in (everything else is a duplicate).
    """
    report = IntakeReport()
    own = own_addresses()
    for number, (name, load) in enumerate(
        sources if sources is not None else mail_sources(path), start=1
    ):
        outcome = take_in_mail(load(), source=f"import {name}", own=own)
        if number % COMMIT_EVERY == 0:
            db.session.commit()
        report.add(outcome)
        if on_mail:
            on_mail(outcome)
    db.session.commit()
    return report
