"""E-mail in: from raw bytes (an IMAP mailbox or a file) to a stored message, losing nothing.

The order of steps is what keeps mail safe: parse, store (or quarantine),
commit (with the mailbox's last UID), and only then flag the message as
processed on the server. A crash before the commit leaves the mail for the next
poll (the unique Message-ID makes a second delivery a no-op); a crash between the
commit and the flag leaves a stored mail unflagged below the last UID, which the
next connection flags first.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import select

from channel_adapters.base import AdapterError, InboundMessage, ParseError
from channel_adapters.email.adapter import parse_mail
from channel_adapters.email.imap import ImapMailbox, ImapSettings, backoff_delays
from classifiers.base import Classifier
from helpdesk.errors import HelpdeskError
from helpdesk.extensions import db
from helpdesk.ingest import IngestResult, ingest
from helpdesk.models import ChannelState, Message, QuarantinedInput
from helpdesk.models.types import utcnow
from helpdesk.services.acknowledgements import acknowledge
from helpdesk.services.events import record_event
from helpdesk.services.mailboxes import imap_settings, own_addresses

log = logging.getLogger(__name__)

#: What became of one mail: stored, duplicate, quarantined, or own (our own mail, skipped).
OUTCOMES = ("stored", "duplicate", "quarantined", "own")


@dataclass
class IntakeReport:
    """Counts per outcome, for progress lines and the one-line summary."""

    counts: Counter = field(default_factory=Counter)

    def add(self, outcome: str) -> None:
        self.counts[outcome] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __str__(self) -> str:
        parts = ", ".join(f"{self.counts[o]} {o}" for o in OUTCOMES if self.counts[o])
        noun = "mail" if self.total == 1 else "mails"
        return f"{self.total} {noun}: {parts or 'nothing new'}"


def take_in_mail(
    raw: bytes,
    *,
    source: str,
    recipient: str | None = None,
    classifier: Classifier | None = None,
    received_at: datetime | None = None,
    own: set[str] | None = None,
    acknowledge_new: bool = False,
) -> str:
    """Store one raw mail (or quarantine it) in the current transaction; return the outcome.

    `own` are our own addresses (looked up when not given); `acknowledge_new` asks
    for an automatic acknowledgement when the mail opens a ticket.
    """
    try:
        inbound = parse_mail(
            raw,
            max_attachment_bytes=current_app.config["ATTACHMENT_MAX_BYTES"],
            recipient=recipient,
            received_at=received_at or utcnow(),
        )
    except ParseError as error:
        return (
            "quarantined"
            if quarantine("email", raw, reason=str(error), source=source)
            else ("duplicate")
        )
    if inbound.sender.value in (own if own is not None else own_addresses()):
        log.info("%s: skipped our own mail %s", source, inbound.external_id)
        return "own"
    inbound = _distinguish_reused_message_id(inbound)
    result = ingest(inbound, classifier=classifier, received_at=received_at)
    if result.duplicate:
        return "duplicate"
    if inbound.metadata.get("automatic") == "bounce":
        record_bounce(inbound, result)
    elif result.created_ticket and acknowledge_new:
        acknowledge(result.ticket, inbound)
    return "stored"


def _distinguish_reused_message_id(inbound: InboundMessage) -> InboundMessage:
    """Give a mail whose Message-ID we have, but whose content differs, an id of its own.

    The same mail fetched again, or sent to two of our mailboxes, has the same
    content and stays a duplicate. Some senders reuse Message-IDs for different
    mail; dropping those as duplicates would lose what the customer wrote.
    """
    fingerprint = _content_fingerprint(inbound)
    inbound = replace(inbound, metadata={**inbound.metadata, "content_sha256": fingerprint})
    stored = db.session.scalar(
        select(Message.details).where(
            Message.channel == "email", Message.external_id == inbound.external_id
        )
    )
    if stored is None or stored.get("content_sha256") in (None, fingerprint):
        return inbound
    return replace(inbound, external_id=f"{inbound.external_id}#{fingerprint[:16]}")


def _content_fingerprint(inbound: InboundMessage) -> str:
    digest = hashlib.sha256()
    for part in (
        inbound.sender.value,
        inbound.subject,
        inbound.text,
        inbound.quoted_text,
        inbound.html or "",
        *(a.sha256 for a in inbound.attachments),
    ):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\x00")
    return digest.hexdigest()


def quarantine(
    channel: str, raw: bytes, *, reason: str, source: str, content_type: str = "message/rfc822"
) -> QuarantinedInput | None:
    """Keep input we could not read, whole, with the reason; admins see it.

    Returns None when exactly these bytes are in quarantine already.
    """
    digest = hashlib.sha256(raw).hexdigest()
    if db.session.scalar(
        select(QuarantinedInput.id).where(
            QuarantinedInput.channel == channel, QuarantinedInput.sha256 == digest
        )
    ):
        return None
    item = QuarantinedInput(
        channel=channel,
        sha256=digest,
        source=source,
        reason=reason[:2000],
        content_type=content_type,
        size=len(raw),
        data=raw,
    )
    db.session.add(item)
    log.warning("%s: quarantined %d bytes: %s", source, len(raw), reason)
    return item


def record_bounce(inbound: InboundMessage, result: IngestResult) -> None:
    """Flag the outbound message that bounced, on its ticket, with the server's report."""
    bounced = db.session.scalar(
        select(Message).where(
            Message.channel == "email",
            Message.direction == "outbound",
            Message.external_id == inbound.metadata.get("bounced_message_id"),
        )
    )
    if bounced is None:
        return
    report = {
        "status": "bounced",
        "report_message_id": result.message_id,
        "recipients": inbound.metadata.get("bounce_recipients") or [],
        "error": inbound.subject,
    }
    bounced.details = {**bounced.details, "delivery": report}
    record_event("message.bounced", ticket=bounced.ticket, message=bounced, actor="mail", **report)


@dataclass(frozen=True)
class PollResult:
    mailbox: str
    report: IntakeReport


Opener = Callable[[ImapSettings], AbstractContextManager[ImapMailbox]]


def poll_mailbox(
    mailbox: ChannelState,
    *,
    classifier: Classifier | None = None,
    open_mailbox: Opener = ImapMailbox,
    on_mail: Callable[[str], None] | None = None,
) -> PollResult:
    """Fetch what is new in `mailbox` and store it, committing mail by mail.

    Connection and protocol errors are recorded as the mailbox's health and
    raised again; mail stored before the error stays stored and flagged.
    """
    report = IntakeReport()
    try:
        with open_mailbox(imap_settings(mailbox)) as box:
            _poll_open_box(mailbox, box, report, classifier, on_mail)
    except (AdapterError, HelpdeskError) as error:
        db.session.rollback()
        _record_health(mailbox, error=str(error))
        raise
    _record_health(mailbox, error=None)
    return PollResult(mailbox.name, report)


def _poll_open_box(
    mailbox: ChannelState,
    box: ImapMailbox,
    report: IntakeReport,
    classifier: Classifier | None,
    on_mail: Callable[[str], None] | None,
    *,
    first: bool = True,
) -> None:
    """Store what came after the last UID. `first` (a new connection): mail a crash left
    stored but unmarked is marked first."""
    state = dict(mailbox.state or {})
    if state.get("uidvalidity") != box.uidvalidity:
        if state.get("uidvalidity") is not None:
            # The server renumbered the folder: read it all again; Message-IDs dedupe.
            log.warning("%s: UIDVALIDITY changed, reading the folder again", mailbox.name)
            record_event(
                "mailbox.uidvalidity_changed",
                actor="mail",
                name=mailbox.name,
                old=state["uidvalidity"],
                new=box.uidvalidity,
            )
        state = {"uidvalidity": box.uidvalidity, "last_uid": 0}
        mailbox.state = state
        db.session.commit()
    if first:
        for uid in box.unprocessed_up_to(state.get("last_uid", 0)):
            log.warning(
                "%s: UID %s was stored but not marked (a crash?); marking it", mailbox.name, uid
            )
            box.mark_processed(uid)
    uids = box.uids_after(state.get("last_uid", 0))
    # Read once: after each commit the row would be loaded again for every mail.
    name, config, own = mailbox.name, dict(mailbox.config), own_addresses()
    for uid, raw in box.fetch(uids):
        outcome = take_in_mail(
            raw,
            source=f"mailbox {name}, UID {uid}",
            recipient=config.get("address"),
            classifier=classifier,
            own=own,
            acknowledge_new=bool(config.get("acknowledge")),
        )
        state = {**state, "last_uid": uid}
        mailbox.state = state
        db.session.commit()  # the mail is safe from here on ...
        box.mark_processed(uid)  # ... so now, and only now, the server may forget it
        report.add(outcome)
        if on_mail:
            on_mail(outcome)


def _record_health(mailbox: ChannelState, *, error: str | None) -> None:
    now = utcnow()
    if error is None:
        mailbox.last_success_at = now
        mailbox.last_error = None
    else:
        mailbox.last_error = error
        mailbox.last_error_at = now
    db.session.commit()


def _watch_open_box(
    mailbox: ChannelState,
    box: ImapMailbox,
    stop: threading.Event,
    idle_seconds: float,
    poll_seconds: float,
) -> None:
    news, first = True, True
    while not stop.is_set():
        if news:
            report = IntakeReport()
            _poll_open_box(mailbox, box, report, None, None, first=first)
            first = False
            _record_health(mailbox, error=None)
            if report.total:
                log.info("mailbox %s: %s", mailbox.name, report)
        db.session.commit()  # never wait with a transaction open: on SQLite it holds the lock
        if box.supports_idle():
            # Short IDLE rounds, so that a stopping worker is never kept waiting long.
            news = box.wait_for_news(idle_seconds)
        else:
            news = not stop.wait(poll_seconds)


def watch_mailbox(
    app: Flask,
    mailbox_id: int,
    stop: threading.Event,
    *,
    idle_seconds: float = 30,
    poll_seconds: float = 60,
) -> None:
    """Keep one mailbox read until `stop` is set: IDLE where offered, polling otherwise,
    and reconnecting with growing pauses after errors."""
    delays = backoff_delays()
    while not stop.is_set():
        pause = None
        with app.app_context():
            mailbox = db.session.get(ChannelState, mailbox_id)
            if mailbox is None or not mailbox.enabled:
                return
            name = mailbox.name
            try:
                with ImapMailbox(imap_settings(mailbox)) as box:
                    delays = backoff_delays()  # connected: the next error starts small again
                    _watch_open_box(mailbox, box, stop, idle_seconds, poll_seconds)
            except (AdapterError, HelpdeskError) as error:
                db.session.rollback()
                _record_health(mailbox, error=str(error))
                pause = next(delays)
                log.error("mailbox %s: %s; trying again in %.0f s", name, error, pause)
            finally:
                db.session.remove()  # no transaction (nor, on SQLite, lock) held while waiting
        if pause is not None:
            stop.wait(pause)
