"""What a rule looks at: one ticket, the message that triggered the run, and the shop's
facts beside them, each found out only when a condition first asks for it.

A run on ingest is given what ingest already knows (channel, mailbox, whether the
message is an auto-reply), so a rule that does not match usually costs no query at all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import bindparam, func, select, union_all

from helpdesk.errors import HelpdeskError
from helpdesk.extensions import db
from helpdesk.models import UNSOLVED_STATUSES, IntentTag, Message, Ticket, TicketTag
from helpdesk.models.types import utcnow
from helpdesk.services.canned import Facts, facts_for

log = logging.getLogger(__name__)

# Statements the hot path runs on the connection, without the ORM's overhead.
_INTENTS = (
    select(IntentTag.intent, IntentTag.confidence, IntentTag.rejected)
    .where(IntentTag.ticket_id == bindparam("ticket_id"))
    .order_by(IntentTag.id)
)
_TAGS = select(TicketTag.name).where(TicketTag.ticket_id == bindparam("ticket_id"))
_ESCALATED = union_all(
    select(TicketTag.ticket_id).where(
        TicketTag.ticket_id == bindparam("ticket_id"), TicketTag.name == "escalated"
    ),
    select(Ticket.id).where(Ticket.escalated_to_id == bindparam("ticket_id")),
).limit(1)


class RuleContext:
    """The ticket `ticket_id` as a rule sees it when `events` happened."""

    def __init__(
        self,
        ticket_id: int,
        events: frozenset[str],
        *,
        message_id: int | None = None,
        seed: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> None:
        self.ticket_id = ticket_id
        self.events = events
        self.message_id = message_id
        self.seed = dict(seed or {})
        self.now = now or utcnow()
        #: Ticket columns the acting rule changed and has not written yet (see
        #: `actions.change_ticket`), by column name.
        self.changes: dict[str, Any] = {}

    # --- rows ------------------------------------------------------------------------------

    @cached_property
    def ticket(self) -> Ticket:
        return db.session.get(Ticket, self.ticket_id)

    @cached_property
    def message(self) -> Message | None:
        """The triggering message, else the ticket's latest from the customer."""
        if self.message_id is not None:
            return db.session.get(Message, self.message_id)
        return db.session.scalar(
            select(Message)
            .where(Message.ticket_id == self.ticket_id, Message.direction == "inbound")
            .order_by(Message.id.desc())
            .limit(1)
        )

    @cached_property
    def facts(self) -> Facts:
        return facts_for(self.ticket)

    # --- values conditions ask for ----------------------------------------------------------

    def value(self, field: str) -> Any:
        if field in self.seed:
            return self.seed[field]
        return getattr(self, "_" + field.replace(".", "_"))()

    @cached_property
    def intents(self) -> dict[str, float]:
        """The ticket's current intents with their confidence: per intent the latest tag
        decides (an agent's rejection removes it; an agent's or rule's tag counts as sure)."""
        if "intent" in self.seed:  # known before the run (see engine.after_ingest)
            return self.seed["intent"]
        rows = db.session.connection().execute(_INTENTS, {"ticket_id": self.ticket_id})
        latest: dict[str, float | None] = {}
        for intent, confidence, rejected in rows:
            if rejected:
                latest.pop(intent, None)
            else:
                latest[intent] = 1.0 if confidence is None else confidence
        return latest

    def _intent(self) -> dict[str, float]:
        return self.intents

    def _channel(self) -> str:
        message = self.message
        return message.channel if message is not None else self.ticket.channel

    def _mailbox(self) -> str | None:
        message = self.message
        recipient = (message.details or {}).get("recipient") if message is not None else None
        return recipient.lower() if recipient else None

    def _message_auto_submitted(self) -> bool:
        message = self.message
        return bool(message is not None and message.auto_submitted)

    def _message_text(self) -> str:
        message = self.message
        return f"{message.subject}\n{message.text}" if message is not None else ""

    def _language(self) -> str | None:
        return self.ticket.language

    def _entity(self) -> set[str]:
        message = self.message
        found = (message.details or {}).get("entities", []) if message is not None else []
        return {entity.get("kind") for entity in found}

    def _ticket_status(self) -> str:
        return self.ticket.status

    def _ticket_priority(self) -> str:
        return self.ticket.priority

    def _ticket_team(self) -> str | None:
        return self.ticket.team.name if self.ticket.team is not None else None

    def _ticket_assignee(self) -> str | None:
        return self.ticket.assignee.email if self.ticket.assignee is not None else None

    def _ticket_tags(self) -> frozenset[str]:
        """The ticket's tag names, read on the connection (the ORM would load the ticket
        and its tags) and kept in the seed from then on: the actions that change the tags
        keep it current (`add_tags`, `remove_tags`). The session is flushed before
        conditions are tested, so the store has what the session has."""
        rows = db.session.connection().execute(_TAGS, {"ticket_id": self.ticket_id})
        self.seed["ticket.tags"] = tags = frozenset(rows.scalars())
        return tags

    def _ticket_subject(self) -> str:
        return self.ticket.subject

    def _ticket_escalated(self) -> bool:
        """Handed over from social: tagged so, or a social ticket points here."""
        found = db.session.connection().execute(_ESCALATED, {"ticket_id": self.ticket_id})
        return found.first() is not None

    @cached_property
    def other_open_tickets(self) -> int:
        return db.session.scalar(
            select(func.count(Ticket.id)).where(
                Ticket.customer_id == self.ticket.customer_id,
                Ticket.id != self.ticket_id,
                Ticket.status.in_(UNSOLVED_STATUSES),
            )
        )

    def _customer(self) -> str:
        """ "returning" once the customer has another ticket, or wrote before on this one."""
        earlier = db.session.scalar(
            select(Ticket.id)
            .where(Ticket.customer_id == self.ticket.customer_id, Ticket.id != self.ticket_id)
            .limit(1)
        )
        if earlier is not None:
            return "returning"
        inbound = db.session.scalar(
            select(func.count(Message.id)).where(
                Message.ticket_id == self.ticket_id, Message.direction == "inbound"
            )
        )
        return "returning" if inbound > 1 else "new"

    def _customer_open_tickets(self) -> int:
        return self.other_open_tickets

    def _order(self) -> str | None:
        return self.facts.order.number if self.facts.order is not None else None

    def _shipment_status(self) -> str | None:
        return self.facts.shipment.status if self.facts.shipment is not None else None

    def _shipment_tracking(self) -> str | None:
        shipment = self.facts.shipment
        return shipment.tracking_number if shipment is not None else None

    def _invoice(self) -> set[str]:
        invoice = self.facts.invoice
        if invoice is None:
            return set()
        states = {invoice.status}
        if invoice.status == "open" and invoice.amount_due_cents > 0 and invoice.reminder_level:
            states.add("in_dunning")
        if invoice.on_hold:
            states.add("on_hold")
        return states

    def _return(self) -> str | None:
        return self.facts.return_.status if self.facts.return_ is not None else None

    def _business_hours(self) -> bool:
        # The team a rule before this one set counts, though not written yet.
        return within_business_hours(self.now, self.changes.get("team_id", self.ticket.team_id))


# --- business hours ----------------------------------------------------------------------


def within_business_hours(at: datetime, team_id: int | None = None) -> bool:
    """Whether `at` falls into the opening hours of the team's calendar (with its public
    holidays and closed days), else the shop's default one: the calendars the KPIs and SLA
    use. A calendar that cannot be read (say, a country without known holidays) is
    logged, and the built-in default hours decide, so the rule still runs."""
    from helpdesk.services.business_time import Calendar, calendar_for

    try:
        calendar = calendar_for(team_id)
    except HelpdeskError:
        log.exception("business hours of team %s unreadable; the default hours decide", team_id)
        calendar = Calendar()
    local_day = at.astimezone(calendar.zone).date()
    return any(start <= at < end for start, end in calendar.open_intervals(local_day))
