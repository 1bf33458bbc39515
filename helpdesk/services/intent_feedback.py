"""Agents correct intent tags; their corrections become training data for the next model.

A correction is kept beside the model's guess: an added intent is an agent tag,
a removed one an agent tag marked rejected. `feedback_examples` turns the
corrected messages into corpus examples that join the training split only.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from classifiers.base import INTENTS, specific_first
from classifiers.corpus import Example
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import IntentTag, Message, Ticket, User
from helpdesk.models.tickets import current_intents
from helpdesk.services.events import record_event

#: A correction counts like this many corpus examples: one agent's word against thousands.
FEEDBACK_WEIGHT = 5


def correct_intents(
    ticket: Ticket, user: User, *, add: Iterable[str] = (), remove: Iterable[str] = ()
) -> None:
    """Add and remove intents on `ticket` as `user`, on its latest customer message."""
    add, remove = set(add), set(remove)
    unknown = (add | remove) - set(INTENTS)
    if unknown:
        raise InvalidInput(f"unknown intents: {', '.join(sorted(unknown))}")
    message = _latest_inbound(ticket)
    for intent in sorted(add - set(ticket.intents)):
        ticket.intent_tags.append(
            IntentTag(
                intent=intent,
                source="agent",
                created_by_id=user.id,
                message_id=message.id if message else None,
            )
        )
    for intent in sorted(remove & set(ticket.intents)):
        ticket.intent_tags.append(
            IntentTag(
                intent=intent,
                source="agent",
                rejected=True,
                created_by_id=user.id,
                message_id=message.id if message else None,
            )
        )
    if add or remove:
        record_event(
            "ticket.intents_corrected",
            ticket=ticket,
            user=user,
            added=sorted(add),
            removed=sorted(remove),
        )
        from helpdesk.services.ticket_metrics import refresh_ticket  # KPIs: intent and SLA

        refresh_ticket(ticket)


def _latest_inbound(ticket: Ticket) -> Message | None:
    inbound = [m for m in ticket.messages if m.direction == "inbound" and m.text.strip()]
    return inbound[-1] if inbound else None


def feedback_examples() -> list[Example]:
    """Every message an agent corrected, with the intents it really carries."""
    corrected = db.session.scalars(
        select(Message)
        .where(
            Message.id.in_(
                select(IntentTag.message_id).where(
                    IntentTag.source == "agent", IntentTag.message_id.is_not(None)
                )
            )
        )
        .order_by(Message.id)
    ).all()
    examples = []
    for message in corrected:
        tags = [t for t in message.ticket.intent_tags if t.message_id == message.id]
        intents = specific_first(tuple(sorted(current_intents(tags))))
        language = message.details.get("language")
        if not intents or language not in ("de", "en"):
            continue
        example = Example(f"feedback-{message.id}", message.text, intents, language, "email")
        examples.extend([example] * FEEDBACK_WEIGHT)
    return examples
