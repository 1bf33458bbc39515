"""The rows of an inbox page, read with plain queries.

Fifty tickets with customer, assignee, intent tags and tags as ORM objects cost more
Python time than the database needs to find them; a row here is a small frozen record
built from four queries for the whole page (the intents come with the ticket as
bits, see helpdesk/services/inbox_intents.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row as SqlRow
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Customer, CustomerIdentity, Ticket, TicketTag, User
from helpdesk.services.inbox_intents import intents_of

#: The ticket columns a page selects: what a row shows and what the sorts page by.
COLUMNS = (
    Ticket.id,
    Ticket.subject,
    Ticket.status,
    Ticket.priority,
    Ticket.channel,
    Ticket.language,
    Ticket.sla_due_at,
    Ticket.last_activity_at,
    Ticket.customer_id,
    Ticket.assignee_id,
    Ticket.intent_bits,
)


@dataclass(frozen=True, slots=True)
class Row:
    """One ticket as the list shows it."""

    id: int
    subject: str
    status: str
    priority: str
    channel: str
    language: str | None
    sla_due_at: datetime | None
    last_activity_at: datetime
    customer: str
    assignee: str | None
    intents: list[str]
    tags: list[str]

    @property
    def number(self) -> int:
        return self.id


def build_rows(found: Sequence[SqlRow]) -> list[Row]:
    """Rows for the selected `COLUMNS`, with names and tags added in one query each for
    the whole page."""
    if not found:
        return []
    ids = [r.id for r in found]
    customers = _customer_names({r.customer_id for r in found})
    assignees = dict(
        db.session.execute(
            select(User.id, User.name).where(User.id.in_({r.assignee_id for r in found}))
        ).all()
    )
    tags: dict[int, list[str]] = defaultdict(list)
    for ticket_id, name in db.session.execute(
        select(TicketTag.ticket_id, TicketTag.name)
        .where(TicketTag.ticket_id.in_(ids))
        .order_by(TicketTag.name)
    ):
        tags[ticket_id].append(name)
    return [
        Row(
            id=r.id,
            subject=r.subject,
            status=r.status,
            priority=r.priority,
            channel=r.channel,
            language=r.language,
            sla_due_at=r.sla_due_at,
            last_activity_at=r.last_activity_at,
            customer=customers.get(r.customer_id, f"#{r.customer_id}"),
            assignee=assignees.get(r.assignee_id),
            intents=intents_of(r.intent_bits),
            tags=tags.get(r.id, []),
        )
        for r in found
    ]


def _customer_names(customer_ids: set[int]) -> dict[int, str]:
    """As `Customer.display_name`: the name, else the first identity's display name or
    value, else the number."""
    names: dict[int, str | None] = dict(
        db.session.execute(
            select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids))
        ).all()
    )
    nameless = [cid for cid, name in names.items() if not name]
    if nameless:
        for cid, display_name, value in db.session.execute(
            select(
                CustomerIdentity.customer_id,
                CustomerIdentity.display_name,
                CustomerIdentity.value,
            )
            .where(CustomerIdentity.customer_id.in_(nameless))
            .order_by(CustomerIdentity.id.desc())  # newest first: the oldest is written last
        ):
            names[cid] = display_name or value
    return {cid: name or f"#{cid}" for cid, name in names.items()}
