"""Writing to the event trail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import insert
from sqlalchemy.orm import Session

from helpdesk.extensions import db
from helpdesk.models import Customer, Event, Message, Ticket, User
from helpdesk.models.types import utcnow

#: Where `events_written_together` collects, in the session's `info`.
_BATCH = "events.batch"
_INSERT = insert(Event)


def record_event(
    kind: str,
    *,
    ticket: Ticket | None = None,
    customer: Customer | None = None,
    message: Message | None = None,
    user: User | None = None,
    actor: str = "system",
    **data: Any,
) -> Event:
    """Append one event to the trail in the current transaction."""
    event = Event(
        kind=kind,
        ticket=ticket,
        customer=customer,
        message=message,
        user=user,
        actor=f"user:{user.id}" if user is not None and actor == "system" else actor,
        data=data,
    )
    batch = db.session.info.get(_BATCH)
    if batch is None:
        db.session.add(event)
    else:
        batch.append(event)
    from helpdesk.services import webhooks_out  # it imports delivery, which imports us

    webhooks_out.emit_for_event(event)  # ticket events other systems subscribed to
    return event


@contextmanager
def events_written_together() -> Iterator[None]:
    """Write the events recorded inside the block with one statement per flush instead
    of one per event; nothing if the block raises.

    For code that records several events between flushes, such as a rule's actions: the
    unit of work would insert them one at a time, with RETURNING. They are written when
    the session flushes (after the rows they name, which then have ids; see
    `_write_with_flush`), so whoever reads the trail after a flush still finds them, and
    at the end of the block. They stay outside the session (their ids are not read back),
    in the order recorded, and their fields are read when written (a caller may still
    set `created_at`).
    """
    session = db.session()
    if _BATCH in session.info:  # an enclosing block writes them
        yield
        return
    batch: list[Event] = []
    session.info[_BATCH] = batch
    try:
        yield
        session.flush()
        _write(session, batch)  # when the flush had nothing else to do
    finally:
        del session.info[_BATCH]


def _write(session: Session, batch: list[Event]) -> None:
    if batch:
        rows = [_values(event) for event in batch]
        batch.clear()
        session.connection().execute(_INSERT, rows)


def _write_with_flush(session: Session, flush_context) -> None:
    batch = session.info.get(_BATCH)
    if batch:
        _write(session, batch)


def _values(event: Event) -> dict[str, Any]:
    def id_of(row: Any, column_value: int | None) -> int | None:
        return row.id if row is not None else column_value

    return {
        "created_at": event.created_at or utcnow(),
        "kind": event.kind,
        "ticket_id": id_of(event.ticket, event.ticket_id),
        "customer_id": id_of(event.customer, event.customer_id),
        "message_id": id_of(event.message, event.message_id),
        "user_id": id_of(event.user, event.user_id),
        "actor": event.actor,
        "data": event.data,
    }


if not sqlalchemy_event.contains(Session, "after_flush", _write_with_flush):
    sqlalchemy_event.listen(Session, "after_flush", _write_with_flush)
