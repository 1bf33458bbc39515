"""The single entry point for inbound messages from every channel.

`ingest()` stores one `InboundMessage` with everything it implies (customer,
ticket, attachments, intents, events) as one unit inside the caller's
transaction. A message the store already has is not stored again: the unique
constraint on (channel, external_id) decides, so two workers racing on the same
delivery end with one row, not two.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from channel_adapters.base import InboundMessage
from classifiers.base import Classification, Classifier, NullClassifier
from helpdesk.extensions import db
from helpdesk.models import Attachment, IntentTag, Message, RawSource, Ticket
from helpdesk.models.types import utcnow
from helpdesk.services.customers import resolve_customer
from helpdesk.services.events import record_event
from helpdesk.services.html import sanitise_html
from helpdesk.services.threading import find_thread

log = logging.getLogger(__name__)

#: A customer writing again on a ticket that waits for them or was solved wants an answer.
_REOPENED_BY_CUSTOMER = {"pending", "solved"}


@dataclass(frozen=True, slots=True)
class IngestResult:
    message: Message
    ticket: Ticket
    created_ticket: bool
    duplicate: bool


def ingest(
    inbound: InboundMessage,
    *,
    classifier: Classifier | None = None,
    received_at: datetime | None = None,
) -> IngestResult:
    """Store `inbound` and return where it went; a redelivery returns the stored message.

    `received_at` is when the helpdesk got the message (now, unless an import
    replays history). The caller commits.
    """
    existing = _stored(inbound)
    if existing is not None:
        return IngestResult(existing, existing.ticket, created_ticket=False, duplicate=True)
    received_at = received_at or utcnow()
    classifier = classifier or NullClassifier()
    # Two tries: a race on a new customer's identity loses the first and finds it on the second.
    for attempt in range(2):
        try:
            with db.session.begin_nested():
                return _store(inbound, classifier, received_at)
        except IntegrityError:
            existing = _stored(inbound)
            if existing is not None:
                log.info(
                    "%s %s was stored by someone else meanwhile",
                    inbound.channel,
                    inbound.external_id,
                )
                return IngestResult(existing, existing.ticket, created_ticket=False, duplicate=True)
            if attempt:
                raise
    raise AssertionError("unreachable")


def _stored(inbound: InboundMessage) -> Message | None:
    return db.session.scalar(
        select(Message).where(
            Message.channel == inbound.channel, Message.external_id == inbound.external_id
        )
    )


def _store(inbound: InboundMessage, classifier: Classifier, received_at: datetime) -> IngestResult:
    customer = resolve_customer(inbound.identities)
    ticket = find_thread(inbound, customer)
    created = ticket is None
    if ticket is None:
        ticket = Ticket(
            subject=_subject_of(inbound),
            channel=inbound.channel,
            customer=customer,
            status="new",
            created_at=received_at,
            last_activity_at=received_at,
        )
        db.session.add(ticket)

    message = Message(
        ticket=ticket,
        channel=inbound.channel,
        direction="inbound",
        author_kind="customer",
        external_id=inbound.external_id,
        thread_key=inbound.thread_key,
        counterpart=inbound.sender.value,
        subject=inbound.subject,
        text=inbound.text,
        quoted_text=inbound.quoted_text,
        html=sanitise_html(inbound.html),
        auto_submitted=inbound.auto_submitted,
        sent_at=inbound.sent_at,
        created_at=received_at,
        raw_source=_raw_source(inbound),
        details={
            **inbound.metadata,
            **({"recipient": inbound.recipient} if inbound.recipient else {}),
        },
    )
    message.attachments = [
        Attachment(
            filename=a.filename,
            content_type=a.content_type,
            size=a.size,
            sha256=a.sha256,
            data=a.data,
            content_id=a.content_id,
            inline=a.inline,
            omitted_reason=a.omitted_reason,
        )
        for a in inbound.attachments
    ]
    db.session.add(message)

    if created:
        record_event(
            "ticket.created",
            ticket=ticket,
            customer=customer,
            actor="ingest",
            channel=inbound.channel,
        )
    else:
        ticket.last_activity_at = max(ticket.last_activity_at, received_at)
        if ticket.status in _REOPENED_BY_CUSTOMER and not inbound.auto_submitted:
            record_event(
                "ticket.status_changed",
                ticket=ticket,
                actor="ingest",
                old=ticket.status,
                new="open",
                reason="customer wrote again",
            )
            ticket.status = "open"
            ticket.solved_at = None
    record_event(
        "message.received", ticket=ticket, message=message, actor="ingest", channel=inbound.channel
    )

    classification = classifier.classify(inbound.text, subject=inbound.subject)
    _apply_classification(ticket, message, classification, hint=inbound.language)
    db.session.flush()
    return IngestResult(message, ticket, created_ticket=created, duplicate=False)


def _apply_classification(
    ticket: Ticket, message: Message, result: Classification, *, hint: str | None
) -> None:
    """Record what the classifier said, whatever it said; it decides what is sure enough."""
    for intent in result.intents:
        ticket.intent_tags.append(
            IntentTag(
                message=message,
                intent=intent,
                confidence=result.scores.get(intent),
                source="model",
                model_version=result.model_version,
            )
        )
    if result.entities:
        message.details = {
            **message.details,
            "entities": [
                {"kind": e.kind, "value": e.value, "start": e.start, "end": e.end}
                for e in result.entities
            ],
        }
    language = result.language or hint
    if language:
        message.details = {**message.details, "language": language}
        ticket.language = ticket.language or language
        ticket.customer.language = ticket.customer.language or language


def _subject_of(inbound: InboundMessage) -> str:
    if inbound.subject.strip():
        return inbound.subject.strip()[:500]
    first_line = next((line.strip() for line in inbound.text.splitlines() if line.strip()), "")
    return (first_line[:77] + "...") if len(first_line) > 80 else first_line


def _raw_source(inbound: InboundMessage) -> RawSource | None:
    if inbound.raw is None:
        return None
    return RawSource(
        content_type=inbound.raw_content_type or "application/octet-stream",
        sha256=hashlib.sha256(inbound.raw).hexdigest(),
        size=len(inbound.raw),
        data=inbound.raw,
    )
