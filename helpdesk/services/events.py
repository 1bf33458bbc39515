"""Writing to the event trail."""

from __future__ import annotations

from typing import Any

from helpdesk.extensions import db
from helpdesk.models import Customer, Event, Message, Ticket, User


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
    db.session.add(event)
    from helpdesk.services import webhooks_out  # it imports delivery, which imports us

    webhooks_out.emit_for_event(event)  # ticket events other systems subscribed to
    return event
