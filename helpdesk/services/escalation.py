"""Social to care: a DM the social team cannot settle becomes (or joins) a care ticket.

The social ticket points at the care ticket (`Ticket.escalated_to_id`); the inbox's
"Escalated from social" view lists tickets pointed at. One step does it all: the
care ticket is created (or an open one of the customer's is chosen), gets the
priority and team, and the social manager's note; both tickets carry an event. Care
sees the social conversation on the care ticket page and answers in the social
channel or by e-mail through the normal composer (the customer's identities decide).
The social manager sees the care ticket's status on the social ticket.

A DM from a customer who is waiting for us on another channel is linked to that open
ticket as it arrives (`link_on_ingest`, Core only: it runs inside ingest's hot path,
and only for a social message that opens a new ticket).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Connection,
    bindparam,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.orm.util import identity_key

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, Message, Team, Ticket, User
from helpdesk.models.tickets import UNSOLVED_STATUSES
from helpdesk.models.types import utcnow
from helpdesk.services import ticket_actions
from helpdesk.services.events import record_event
from helpdesk.services.inbox import SOCIAL_CHANNELS, may_see
from helpdesk.services.replies import add_note, set_status

CARE_TICKET_LIMIT = 10

_SOURCE = aliased(Ticket)


def care_ticket() -> ColumnElement[bool]:
    """A care ticket: on a care channel, or one a social ticket was escalated to (a care
    ticket opened by an escalation keeps the social channel it came from)."""
    return or_(
        Ticket.channel.not_in(SOCIAL_CHANNELS),
        Ticket.id.in_(select(_SOURCE.escalated_to_id).where(_SOURCE.escalated_to_id.is_not(None))),
    )


# Built once: the customer's most recently active open care ticket.
_OPEN_CARE_TICKET = (
    select(Ticket.id)
    .where(
        Ticket.customer_id == bindparam("customer_id"),
        Ticket.status.in_([literal_column(f"'{s}'") for s in UNSOLVED_STATUSES]),
        Ticket.merged_into_id.is_(None),
        care_ticket(),
    )
    .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
    .limit(1)
)
_LINK = (
    update(Ticket)
    .where(Ticket.id == bindparam("dm_id"))
    .values(escalated_to_id=bindparam("care_id"))
)
_NOTE = insert(Message)


def is_social(ticket: Ticket) -> bool:
    """A DM the social team works (not a care ticket that kept its social channel)."""
    if ticket.channel not in SOCIAL_CHANNELS:
        return False
    return not is_care_target(ticket)


def is_care_target(ticket: Ticket) -> bool:
    """Whether some social ticket was escalated to `ticket`."""
    found = select(_SOURCE.id).where(_SOURCE.escalated_to_id == ticket.id).limit(1)
    return db.session.scalar(found) is not None


def care_candidates(ticket: Ticket) -> list[Ticket]:
    """The customer's open care tickets a social ticket could be linked to."""
    return list(
        db.session.scalars(
            select(Ticket)
            .where(
                Ticket.customer_id == ticket.customer_id,
                Ticket.id != ticket.id,
                Ticket.status.in_(UNSOLVED_STATUSES),
                Ticket.merged_into_id.is_(None),
                care_ticket(),
            )
            .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
            .limit(CARE_TICKET_LIMIT)
        )
    )


@dataclass(frozen=True)
class Escalation:
    """What the escalate form says: a note, a priority, a team, and a ticket to join
    (None: open a new care ticket)."""

    note: str
    priority: str
    team: Team | None = None
    target: Ticket | None = None


def escalate(ticket: Ticket, user: User, wanted: Escalation) -> Ticket:
    """Hand social `ticket` over to care in one step; returns the care ticket."""
    if not is_social(ticket):
        raise InvalidInput(_("Only social tickets are escalated to care."))
    if ticket.merged_into_id is not None:
        raise InvalidInput(_("This ticket is merged into #%(number)s; answer there.",
                             number=ticket.merged_into_id))  # fmt: skip
    linked = db.session.get(Ticket, ticket.escalated_to_id) if ticket.escalated_to_id else None
    if linked is not None:
        # Linked before (on ingest, or escalated earlier): hand over to that ticket again,
        # with this note, priority and team; never to a second one.
        if wanted.target is not None and wanted.target.id != linked.id:
            raise InvalidInput(_("This ticket is escalated to #%(number)s already.",
                                 number=linked.number))  # fmt: skip
        wanted = replace(wanted, target=linked)
    if not wanted.note.strip():
        raise InvalidInput(_("Tell care what the customer needs: the note is empty."))
    if wanted.priority not in PRIORITIES:
        raise InvalidInput(_("Unknown priority %(value)s.", value=wanted.priority))
    care = wanted.target
    if care is not None:
        if care.id == ticket.id or care.customer_id != ticket.customer_id:
            raise InvalidInput(_("Choose one of this customer's other tickets."))
        if care.merged_into_id is not None:
            raise InvalidInput(_("Ticket #%(number)s is not open.", number=care.number))
        if care.status not in UNSOLVED_STATUSES:
            if care.id != ticket.escalated_to_id:
                raise InvalidInput(_("Ticket #%(number)s is not open.", number=care.number))
            set_status(care, "open", user=user)  # care solved it, but the customer is back
    else:
        care = Ticket(
            subject=ticket.subject,
            channel=ticket.channel,
            customer_id=ticket.customer_id,
            status="open",
            priority=wanted.priority,
            team=wanted.team,
            language=ticket.language,
            order_id=ticket.order_id,
            order_link=ticket.order_link,
        )
        db.session.add(care)
        db.session.flush()
        record_event("ticket.created", ticket=care, user=user, reason="escalation",
                     escalated_from=ticket.id)  # fmt: skip
    ticket_actions.set_priority(care, wanted.priority, user=user)
    if wanted.team is not None:
        ticket_actions.set_team(care, wanted.team, user=user)
    again = ticket.escalated_to_id == care.id
    ticket.escalated_to_id = care.id
    care.last_activity_at = utcnow()
    add_note(care, user, wanted.note.strip())
    record_event("ticket.escalated", ticket=ticket, user=user, to=care.id,
                 priority=wanted.priority, **({"again": True} if again else {}))  # fmt: skip
    record_event("ticket.escalation_received", ticket=care, user=user, source=ticket.id)
    return care


# --- what the ticket page shows ----------------------------------------------------------


@dataclass(frozen=True)
class Handover:
    """Around one ticket: the social tickets escalated to it (with their messages, for
    care to read the whole story), and the care ticket it was escalated to."""

    sources: list[tuple[Ticket, list[Message]]]
    target: Ticket | None
    target_visible: bool


def handover(ticket: Ticket, user: User, sources: list[Ticket]) -> Handover:
    """`sources`: the tickets escalated to `ticket` (the ticket page reads them with the
    tickets merged into it, in one statement)."""
    stories = []
    for found in sources:
        if not may_see(user, found):
            continue
        messages = list(
            db.session.scalars(
                select(Message)
                .where(Message.ticket_id == found.id, Message.direction != "note")
                .options(selectinload(Message.author))
                .order_by(Message.created_at, Message.id)
            )
        )
        stories.append((found, messages))
    target = db.session.get(Ticket, ticket.escalated_to_id) if ticket.escalated_to_id else None
    return Handover(stories, target, target is not None and may_see(user, target))


# --- on ingest ---------------------------------------------------------------------------


def link_on_ingest(
    conn: Connection, *, ticket_id: int, customer_id: int, channel: str, at: datetime
) -> list[dict[str, Any]]:
    """A new social ticket from a customer with an open care ticket points at it, and the
    care ticket gets a note; returns the events to record (none, usually)."""
    if channel not in SOCIAL_CHANNELS:
        return []
    care_id = conn.execute(_OPEN_CARE_TICKET, {"customer_id": customer_id}).scalar()
    if care_id is None:
        return []
    conn.execute(_LINK, {"dm_id": ticket_id, "care_id": care_id})
    conn.execute(
        _NOTE,
        {
            "ticket_id": care_id,
            "channel": channel,
            "direction": "note",
            "author_kind": "system",
            "text": _AUTO_NOTE.format(channel=_PLATFORMS.get(channel, channel), number=ticket_id),
            "sent_at": at,
            "created_at": at,
            "details": {"escalated_from": ticket_id, "automatic": True},
        },
    )
    care = db.session.identity_map.get(identity_key(Ticket, care_id))
    if care is not None:  # loaded earlier in this session: let it read its new note
        db.session.expire(care)
    data = {"actor": "ingest", "user_id": None, "customer_id": None, "message_id": None}
    return [
        {"kind": "ticket.escalated", "created_at": at, "ticket_id": ticket_id,
         "data": {"to": care_id, "automatic": True}, **data},
        {"kind": "ticket.escalation_received", "created_at": at, "ticket_id": care_id,
         "data": {"source": ticket_id, "automatic": True}, **data},
    ]  # fmt: skip


_PLATFORMS = {"messenger": "Messenger", "instagram": "Instagram", "whatsapp": "WhatsApp", "x": "X"}
# Stored text, written for both languages of the team (a note is not translated later).
_AUTO_NOTE = (
    "Linked automatically: the customer also wrote on {channel} (#{number}) while this "
    "ticket is open. / Automatisch verknüpft: Die Kundin bzw. der Kunde hat zusätzlich "
    "über {channel} geschrieben (#{number})."
)
