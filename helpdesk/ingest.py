"""The single entry point for inbound messages from every channel.

`ingest()` stores one `InboundMessage` with everything it implies (customer,
ticket, attachments, intents, events) as one unit inside the caller's
transaction. A message the store already has is not stored again: the unique
constraint on (channel, external_id) decides, so two workers racing on the same
delivery end with one row, not two.

This is the hottest write path of the application, so it speaks SQLAlchemy Core
with statements built once, not the ORM's unit of work (five times slower here,
see bench/RESULTS.md). The rare cases (merging customers) use the ORM services.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Connection, and_, bindparam, case, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.util import identity_key

from channel_adapters.base import Identity, InboundMessage
from classifiers.base import Classification, Classifier
from helpdesk.extensions import db
from helpdesk.models import (
    Attachment,
    Customer,
    CustomerIdentity,
    Event,
    IntentTag,
    Message,
    RawSource,
    Ticket,
    TicketMetricsDue,
)
from helpdesk.models.types import utcnow
from helpdesk.services import rules, webhooks_out
from helpdesk.services.classification import current_classifier
from helpdesk.services.customers import resolve_customer
from helpdesk.services.escalation import link_on_ingest as link_dm_to_open_ticket
from helpdesk.services.html import sanitise_html
from helpdesk.services.order_links import link_on_ingest
from helpdesk.services.threading import TICKET_TOKEN
from helpdesk.services.ticket_metrics import refresh_later

log = logging.getLogger(__name__)

#: A customer writing again on a ticket that waits for them or was solved wants an answer.
_REOPENED_BY_CUSTOMER = ("pending", "solved")


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Where a message went. `message` and `ticket` load the rows when asked for."""

    message_id: int
    ticket_id: int
    created_ticket: bool
    duplicate: bool
    #: The intents recorded with this message and their confidence (None: sure), in order,
    #: and whether an order was linked to the ticket: for a new ticket that is all it has,
    #: so its rules need not read it back.
    intents: tuple[tuple[str, float | None], ...] = ()
    order_linked: bool = False
    #: Whether the ticket has an order now (None: not known), read under the row lock
    #: ingest takes on the ticket, so the rules need not ask the store for a reply either.
    has_order: bool | None = None

    @property
    def message(self) -> Message:
        return db.session.get(Message, self.message_id)

    @property
    def ticket(self) -> Ticket:
        return db.session.get(Ticket, self.ticket_id)


@dataclass(frozen=True, slots=True)
class _Thread:
    ticket_id: int
    status: str
    customer_id: int
    language: str | None
    solved_at: datetime | None


# Statements are built once; each call only binds values.
_FIND_MESSAGE = select(Message.id, Message.ticket_id).where(
    Message.channel == bindparam("channel"), Message.external_id == bindparam("external_id")
)
_FIND_IDENTITY = (
    select(CustomerIdentity.customer_id, Customer.name, Customer.language)
    .join(Customer, Customer.id == CustomerIdentity.customer_id)
    .where(CustomerIdentity.kind == bindparam("kind"), CustomerIdentity.value == bindparam("value"))
)
_THREAD_COLUMNS = (
    Ticket.id,
    Ticket.status,
    Ticket.customer_id,
    Ticket.language,
    Ticket.solved_at,
)
_FIND_BY_REFERENCES = (
    select(*_THREAD_COLUMNS)
    .join(Message, Message.ticket_id == Ticket.id)
    .where(Message.channel == "email", Message.external_id.in_(bindparam("refs", expanding=True)))
    .order_by(Message.id.desc())
    .limit(1)
)
_FIND_BY_THREAD_KEY = (
    select(*_THREAD_COLUMNS)
    .join(Message, Message.ticket_id == Ticket.id)
    .where(Message.channel == bindparam("channel"), Message.thread_key == bindparam("key"))
    .order_by(Message.id.desc())
    .limit(1)
)
_FIND_TICKET = select(*_THREAD_COLUMNS).where(Ticket.id == bindparam("ticket_id"))
_MERGED_INTO = select(Ticket.merged_into_id).where(Ticket.id == bindparam("ticket_id"))
_REOPENING = and_(bindparam("reopen"), Ticket.status.in_(_REOPENED_BY_CUSTOMER))
_CONTINUE_TICKET = (
    update(Ticket)
    .where(Ticket.id == bindparam("ticket_id"))
    .values(
        # Never move last activity backwards when an import replays older mail.
        last_activity_at=case(
            (Ticket.last_activity_at < bindparam("at"), bindparam("at")),
            else_=Ticket.last_activity_at,
        ),
        status=case((_REOPENING, "open"), else_=Ticket.status),
        solved_at=case((_REOPENING, None), else_=Ticket.solved_at),
        language=func.coalesce(Ticket.language, bindparam("language")),
    )
    .returning(Ticket.order_id)  # read under the row lock the update takes
)
_INSERTS = {
    model: insert(model)
    for model in (
        Attachment,
        Customer,
        CustomerIdentity,
        Event,
        IntentTag,
        Message,
        RawSource,
        Ticket,
    )
}


_MESSAGE_KEYS = (
    "ticket_id",
    "channel",
    "direction",
    "author_kind",
    "external_id",
    "thread_key",
    "counterpart",
    "subject",
    "text",
    "quoted_text",
    "html",
    "auto_submitted",
    "sent_at",
    "created_at",
    "details",
)
_RAW_KEYS = ("content_type", "sha256", "size", "data", "created_at")
# PostgreSQL: the raw source and the message in one round trip (a data-modifying WITH).
# The parameters are prefixed so that no execution key names a column of the other table.
_RAW_ROW = (
    insert(RawSource)
    .values({key: bindparam(f"r_{key}") for key in _RAW_KEYS})
    .returning(RawSource.id)
    .cte("raw")
)
# The ticket is noted for the worker's metrics job in the same round trip: what
# `refresh_later` does after the rules, one statement less for every message.
_NOTE_ROW = (
    postgresql_insert(TicketMetricsDue)
    .values(
        ticket_id=bindparam("n_ticket_id", type_=TicketMetricsDue.ticket_id.type),
        since=bindparam("n_since", type_=TicketMetricsDue.since.type),
    )
    .on_conflict_do_nothing()
    .cte("noted")
)
_MESSAGE_WITH_RAW = (
    insert(Message)
    .values(
        {key: bindparam(f"m_{key}") for key in _MESSAGE_KEYS}
        | {"raw_source_id": select(_RAW_ROW.c.id).scalar_subquery()}
    )
    .returning(Message.id)
    .add_cte(_NOTE_ROW)
)


# PostgreSQL: a new customer and their one identity in one round trip, the same way.
_NEW_CUSTOMER = (
    insert(Customer)
    .values(
        name=bindparam("c_name"), language=bindparam("c_language"), created_at=bindparam("c_at")
    )
    .returning(Customer.id)
    .cte("customer")
)
_CUSTOMER_WITH_IDENTITY = (
    insert(CustomerIdentity)
    .from_select(
        ["customer_id", "kind", "value", "display_name", "created_at"],
        select(
            _NEW_CUSTOMER.c.id,
            bindparam("i_kind", type_=CustomerIdentity.kind.type),
            bindparam("i_value", type_=CustomerIdentity.value.type),
            bindparam("i_display_name", type_=CustomerIdentity.display_name.type),
            bindparam("c_at", type_=CustomerIdentity.created_at.type),
        ),
    )
    .returning(CustomerIdentity.customer_id)
)


def ingest(
    inbound: InboundMessage,
    *,
    classifier: Classifier | None = None,
    received_at: datetime | None = None,
    savepoint: bool = True,
) -> IngestResult:
    """Store `inbound` and return where it went; a redelivery returns the stored message.

    `received_at` is when the helpdesk got the message (now, unless an import
    replays history). The caller commits.

    `savepoint=False` is for a caller that owns the whole transaction: a redelivery (or
    a race) then raises IntegrityError instead, the caller rolls everything back and
    tries again with a savepoint. Where redeliveries are rare, that saves two of a
    message's dozen round trips (the webhooks: `helpdesk.webhooks.social.receive`).
    """
    db.session.flush()  # pending ORM changes first, so the rows below see them
    conn = db.session.connection()
    inbound = fit_to_columns(inbound)
    received_at = received_at or utcnow()
    classifier = classifier or current_classifier()
    if not savepoint:
        return _after_store(*_store(conn, inbound, classifier, received_at), inbound)
    # No look-up first: the unique index answers "seen before?" as part of the insert.
    # The second try is for a race on a new customer's identity, found on the retry.
    for attempt in range(2):
        guard = conn.begin_nested()
        try:
            result, noted = _store(conn, inbound, classifier, received_at)
        except IntegrityError:
            guard.rollback()
            db.session.expire_all()  # ORM changes made inside the savepoint are gone
            existing = _stored(conn, inbound)
            if existing is not None:
                return existing
            if attempt:
                raise
        except BaseException:
            guard.rollback()
            raise
        else:
            guard.commit()
            return _after_store(result, noted, inbound)
    raise AssertionError("unreachable")


def _after_store(result: IngestResult, noted: bool, inbound: InboundMessage) -> IngestResult:
    """The rules, and the ticket noted for the metrics job unless the message's INSERT
    did (`noted`)."""
    rules.after_ingest(result, inbound)  # routing and answers; never loses the message
    if not noted:
        refresh_later(result.ticket_id)  # KPIs and SLA: the worker computes them
    return result


def fit_to_columns(inbound: InboundMessage) -> InboundMessage:
    """Shorten what senders may make arbitrarily long to what the columns hold.

    Nothing is lost by it: the raw source is kept whole. (PostgreSQL refuses an
    over-long value; SQLite would store it, so both behave the same only this way.)
    """

    if (
        len(inbound.subject) <= 500
        and len(inbound.external_id) <= 998
        and len(inbound.thread_key or "") <= 255
        and all(len(i.value) <= 200 for i in inbound.identities)
        and all(len(i.display_name or "") <= 200 for i in inbound.identities)
        and all(len(a.filename) <= 255 and len(a.content_type) <= 255 for a in inbound.attachments)
        and all(len(a.content_id or "") <= 255 for a in inbound.attachments)
    ):
        return inbound  # the usual case, without copying

    def clip(value: str | None, limit: int) -> str | None:
        return value[:limit] if value and len(value) > limit else value

    def identity(found: Identity) -> Identity:
        return replace(
            found, value=clip(found.value, 320), display_name=clip(found.display_name, 200)
        )

    attachments = tuple(
        replace(
            a,
            filename=clip(a.filename, 255),
            content_type=clip(a.content_type, 255),
            content_id=clip(a.content_id, 255),
        )
        for a in inbound.attachments
    )
    return replace(
        inbound,
        external_id=clip(inbound.external_id, 998),
        subject=clip(inbound.subject, 500),
        thread_key=clip(inbound.thread_key, 255),
        sender=identity(inbound.sender),
        also_known_as=tuple(identity(i) for i in inbound.also_known_as),
        attachments=attachments,
    )


def _stored(conn: Connection, inbound: InboundMessage) -> IngestResult | None:
    params = {"channel": inbound.channel, "external_id": inbound.external_id}
    row = conn.execute(_FIND_MESSAGE, params).first()
    if row is None:
        return None
    return IngestResult(row.id, row.ticket_id, created_ticket=False, duplicate=True)


def _store(
    conn: Connection, inbound: InboundMessage, classifier: Classifier, received_at: datetime
) -> tuple[IngestResult, bool]:
    """Store the message; returns where it went and whether its ticket was noted for the
    metrics job on the way (see `_insert_message`)."""
    classification = classifier.classify(inbound.text, subject=inbound.subject)
    language = classification.language or inbound.language
    events: list[dict[str, Any]] = []
    customer_id, new_customer = _customer_for(
        conn, inbound.identities, language, received_at, events
    )
    thread = _find_thread(conn, inbound, customer_id)
    follow_up_of = None
    if thread is not None and _is_finished(thread, received_at):
        follow_up_of, thread = thread.ticket_id, None

    if thread is None:
        ticket_id = _insert(
            conn,
            Ticket,
            {
                "subject": _subject_of(inbound),
                "channel": inbound.channel,
                "customer_id": customer_id,
                "status": "new",
                "priority": "normal",
                "language": language,
                "created_at": received_at,
                "last_activity_at": received_at,
                "follow_up_of_id": follow_up_of,
            },
        )
        events.append(
            _event(
                "ticket.created",
                received_at,
                ticket_id=ticket_id,
                customer_id=customer_id,
                channel=inbound.channel,
                **({"follow_up_of": follow_up_of} if follow_up_of else {}),
            )
        )
        # A customer created just now has no ticket but this one (and no order): nothing
        # to look up for them (the foreign keys make sure no row names them yet).
        had_order = False
        if not new_customer:
            events += link_dm_to_open_ticket(conn, ticket_id=ticket_id, customer_id=customer_id,
                                             channel=inbound.channel, at=received_at)  # fmt: skip
    else:
        ticket_id = thread.ticket_id
        had_order = _continue_ticket(conn, thread, inbound, language, received_at, events)

    message_id, noted = _insert_message(
        conn,
        {
            "ticket_id": ticket_id,
            "channel": inbound.channel,
            "direction": "inbound",
            "author_kind": "customer",
            "external_id": inbound.external_id,
            "thread_key": inbound.thread_key,
            "counterpart": inbound.sender.value,
            "subject": inbound.subject,
            "text": inbound.text,
            "quoted_text": inbound.quoted_text,
            "html": sanitise_html(inbound.html),
            "auto_submitted": inbound.auto_submitted,
            "sent_at": inbound.sent_at,
            "created_at": received_at,
            "details": _details(inbound, classification, language),
        },
        _raw_source(inbound, received_at),
    )
    _insert_attachments(conn, message_id, inbound)
    _insert_intents(conn, ticket_id, message_id, classification, received_at)
    events.append(
        _event(
            "message.received",
            received_at,
            ticket_id=ticket_id,
            message_id=message_id,
            channel=inbound.channel,
        )
    )
    owner_id = thread.customer_id if thread is not None else customer_id
    # The customer's latest order only for a ticket without one, of a customer who may have
    # orders: for the others that look-up could not change anything.
    recent = not had_order and not (thread is None and new_customer)
    link = link_on_ingest(conn, ticket_id=ticket_id, customer_id=owner_id,
                          entities=classification.entities, at=received_at,
                          recent=recent)  # fmt: skip
    if link is not None:
        events.append(
            _event("ticket.order_linked", received_at, ticket_id=ticket_id, **link.event_data())
        )
        _expire(Ticket, ticket_id)
    conn.execute(_INSERTS[Event], events)
    webhooks_out.emit_ingested(conn, events, received_at)  # ticket.created to subscribers
    intents = tuple((i, classification.scores.get(i)) for i in classification.intents)
    result = IngestResult(message_id, ticket_id, created_ticket=thread is None, duplicate=False,
                          intents=intents, order_linked=link is not None,
                          has_order=had_order or link is not None)  # fmt: skip
    return result, noted


def _customer_for(
    conn: Connection,
    identities: tuple[Identity, ...],
    language: str | None,
    at: datetime,
    events: list[dict[str, Any]],
) -> tuple[int, bool]:
    """The id of the customer behind `identities`, created or completed as needed, and
    whether it was created just now."""
    found: dict[int, Any] = {}
    unknown: list[Identity] = []
    for identity in identities:
        row = conn.execute(_FIND_IDENTITY, {"kind": identity.kind, "value": identity.value}).first()
        if row is None:
            unknown.append(identity)
        else:
            found[row.customer_id] = row
    if len(found) > 1:
        # The message proves two customers are one person: the ORM service merges them.
        customer = resolve_customer(identities)
        db.session.flush()
        return customer.id, False

    name = next((i.display_name for i in identities if i.display_name), None)
    if found:
        customer_id, row = next(iter(found.items()))
        wanted = {"name": name, "language": language}
        changes = {k: v for k, v in wanted.items() if v and not getattr(row, k)}
        if changes:
            conn.execute(update(Customer).where(Customer.id == customer_id).values(**changes))
            _expire(Customer, customer_id)
    elif len(unknown) == 1 and conn.dialect.name == "postgresql":
        identity, unknown = unknown[0], []  # the usual new customer, in one round trip
        params = {"c_name": name, "c_language": language, "c_at": at, "i_kind": identity.kind,
                  "i_value": identity.value, "i_display_name": identity.display_name}  # fmt: skip
        customer_id = conn.execute(_CUSTOMER_WITH_IDENTITY, params).scalar_one()
    else:
        customer_id = _insert(
            conn, Customer, {"name": name, "language": language, "created_at": at}
        )
    if not found:
        events.append(
            _event(
                "customer.created",
                at,
                customer_id=customer_id,
                identities=[f"{i.kind}:{i.value}" for i in identities],
            )
        )
    for identity in unknown:
        conn.execute(
            _INSERTS[CustomerIdentity],
            {
                "customer_id": customer_id,
                "kind": identity.kind,
                "value": identity.value,
                "display_name": identity.display_name,
                "created_at": at,
            },
        )
        if found:
            events.append(
                _event(
                    "customer.identity_added",
                    at,
                    customer_id=customer_id,
                    identity=f"{identity.kind}:{identity.value}",
                )
            )
    return customer_id, not found


def _find_thread(conn: Connection, inbound: InboundMessage, customer_id: int) -> _Thread | None:
    """The ticket `inbound` belongs to, or None for a new conversation.

    E-mail: a Message-ID it references (also the original of a bounce), else
    the ticket token in the subject, else Outlook's conversation (thread key);
    the last two count only from the ticket's own customer, because ticket
    numbers can be guessed. Chat, social and phone: the conversation key.
    """
    row = None
    references = list(inbound.references)
    if inbound.metadata.get("bounced_message_id"):
        references.append(inbound.metadata["bounced_message_id"])
    if references:
        row = conn.execute(_FIND_BY_REFERENCES, {"refs": references}).first()
    is_email = inbound.channel == "email"
    if row is None and is_email:
        for match in TICKET_TOKEN.finditer(inbound.subject):
            ticket_id = _merge_target(conn, int(match.group(1)))
            row = _own(conn.execute(_FIND_TICKET, {"ticket_id": ticket_id}), customer_id)
            if row is not None:
                break
    if row is None and inbound.thread_key:
        found = conn.execute(
            _FIND_BY_THREAD_KEY, {"channel": inbound.channel, "key": inbound.thread_key}
        )
        row = _own(found, customer_id) if is_email else found.first()
    return None if row is None else _Thread(*row)


def _merge_target(conn: Connection, ticket_id: int) -> int:
    """The ticket `ticket_id` was merged into (following a chain), else itself: mail that
    names a merged ticket's token continues where its messages went."""
    for _ in range(5):  # merges refuse merged targets, so chains stay short
        into = conn.execute(_MERGED_INTO, {"ticket_id": ticket_id}).scalar()
        if into is None:
            break
        ticket_id = into
    return ticket_id


def _own(result, customer_id: int):
    """The row of `result` if its ticket belongs to `customer_id`."""
    row = result.first()
    return row if row is not None and row.customer_id == customer_id else None


def _is_finished(thread: _Thread, at: datetime) -> bool:
    """A closed ticket, or one solved longer ago than the follow-up window, stays as it is."""
    if thread.status == "closed":
        return True
    window = timedelta(days=current_app.config["FOLLOW_UP_AFTER_DAYS"])
    return (
        thread.status == "solved"
        and thread.solved_at is not None
        and (at - thread.solved_at > window)
    )


def _continue_ticket(
    conn: Connection,
    thread: _Thread,
    inbound: InboundMessage,
    language: str | None,
    at: datetime,
    events: list[dict[str, Any]],
) -> bool:
    """Bring the ticket up to date for a new message; returns whether it has an order."""
    reopen = thread.status in _REOPENED_BY_CUSTOMER and not inbound.auto_submitted
    if reopen:
        events.append(
            _event(
                "ticket.status_changed",
                at,
                ticket_id=thread.ticket_id,
                old=thread.status,
                new="open",
                reason="customer wrote again",
            )
        )
    params = {"ticket_id": thread.ticket_id, "at": at, "reopen": reopen, "language": language}
    order_id = conn.execute(_CONTINUE_TICKET, params).scalar()
    _expire(Ticket, thread.ticket_id)
    return order_id is not None


def _insert(conn: Connection, model: type, values: dict[str, Any]) -> int:
    return conn.execute(_INSERTS[model], values).inserted_primary_key[0]


def _raw_source(inbound: InboundMessage, at: datetime) -> dict[str, Any] | None:
    if inbound.raw is None:
        return None
    return {
        "content_type": inbound.raw_content_type or "application/octet-stream",
        "sha256": hashlib.sha256(inbound.raw).hexdigest(),
        "size": len(inbound.raw),
        "data": inbound.raw,
        "created_at": at,
    }


def _insert_message(
    conn: Connection, values: dict[str, Any], raw: dict[str, Any] | None
) -> tuple[int, bool]:
    """Insert the message (and its raw source, if any); returns the message's id and
    whether the ticket was noted for the metrics job with it (PostgreSQL, with a raw
    source: one round trip for all three)."""
    if raw is not None and conn.dialect.name == "postgresql":
        params = {f"m_{k}": v for k, v in values.items()}
        params.update({f"r_{k}": v for k, v in raw.items()})
        params.update(n_ticket_id=values["ticket_id"], n_since=utcnow())
        return conn.execute(_MESSAGE_WITH_RAW, params).scalar_one(), True
    values["raw_source_id"] = _insert(conn, RawSource, raw) if raw is not None else None
    return _insert(conn, Message, values), False


def _insert_attachments(conn: Connection, message_id: int, inbound: InboundMessage) -> None:
    if not inbound.attachments:
        return
    conn.execute(
        _INSERTS[Attachment],
        [
            {
                "message_id": message_id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
                "data": a.data,
                "content_id": a.content_id,
                "inline": a.inline,
                "omitted_reason": a.omitted_reason,
            }
            for a in inbound.attachments
        ],
    )


def _insert_intents(
    conn: Connection, ticket_id: int, message_id: int, result: Classification, at: datetime
) -> None:
    """Record what the classifier said, whatever it said; it decides what is sure enough."""
    if not result.intents:
        return
    conn.execute(
        _INSERTS[IntentTag],
        [
            {
                "ticket_id": ticket_id,
                "message_id": message_id,
                "intent": intent,
                "confidence": result.scores.get(intent),
                "source": "model",
                "model_version": result.model_version,
                "rejected": False,
                "created_at": at,
            }
            for intent in result.intents
        ],
    )
    _expire(Ticket, ticket_id)


def _details(
    inbound: InboundMessage, result: Classification, language: str | None
) -> dict[str, Any]:
    details = dict(inbound.metadata)
    if inbound.recipient:
        details["recipient"] = inbound.recipient
    if language:
        details["language"] = language
    if result.entities:
        details["entities"] = [
            {"kind": e.kind, "value": e.value, "start": e.start, "end": e.end}
            | ({"label": e.label} if e.label else {})
            for e in result.entities
        ]
    return details


def _event(kind: str, at: datetime, **fields: Any) -> dict[str, Any]:
    columns = {"ticket_id": None, "customer_id": None, "message_id": None}
    data = {k: v for k, v in fields.items() if k not in columns}
    columns.update({k: v for k, v in fields.items() if k in columns})
    return {
        "kind": kind,
        "created_at": at,
        "actor": "ingest",
        "user_id": None,
        "data": data,
        **columns,
    }


def _expire(model: type, row_id: int) -> None:
    """Make an ORM object loaded earlier in this session read the row again."""
    obj = db.session.identity_map.get(identity_key(model, row_id))
    if obj is not None:
        db.session.expire(obj)


def _subject_of(inbound: InboundMessage) -> str:
    if inbound.subject.strip():
        return inbound.subject.strip()[:500]
    first_line = next((line.strip() for line in inbound.text.splitlines() if line.strip()), "")
    return (first_line[:77] + "...") if len(first_line) > 80 else first_line
