"""The rows of an inbox page, read with plain queries.

Fifty tickets with customer, assignee, intent tags and tags as ORM objects cost more
Python time than the database needs to find them; a row here is a small frozen record
from the page's query (names as subqueries, evaluated for the shown rows only; intents
as bits, see helpdesk/services/inbox_intents.py; tags as one string).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row as SqlRow
from sqlalchemy import func, select

from helpdesk.models import Customer, CustomerIdentity, Ticket, TicketTag, User
from helpdesk.services.inbox_intents import intents_of

#: The customer as `Customer.display_name` names it: the name, else the first identity's
#: display name or value (read per shown row only: the page's LIMIT comes first).
_CUSTOMER_NAME = func.coalesce(
    select(func.nullif(Customer.name, ""))
    .where(Customer.id == Ticket.customer_id)
    .correlate(Ticket)
    .scalar_subquery(),
    select(func.coalesce(func.nullif(CustomerIdentity.display_name, ""), CustomerIdentity.value))
    .where(CustomerIdentity.customer_id == Ticket.customer_id)
    .order_by(CustomerIdentity.id)
    .limit(1)
    .correlate(Ticket)
    .scalar_subquery(),
).label("customer_name")
_ASSIGNEE_NAME = (
    select(User.name)
    .where(User.id == Ticket.assignee_id)
    .correlate(Ticket)
    .scalar_subquery()
    .label("assignee_name")
)

#: The ticket's tags in one string (tags are single words: see normalise_tag), read per
#: shown row like the names: a second statement for them cost the page more.
_TAGS = (
    select(func.aggregate_strings(TicketTag.name, "\n"))
    .where(TicketTag.ticket_id == Ticket.id)
    .correlate(Ticket)
    .scalar_subquery()
    .label("tag_names")
)

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
    Ticket.intent_bits,
    _CUSTOMER_NAME,
    _ASSIGNEE_NAME,
    _TAGS,
)


@dataclass(frozen=True, slots=True)
class Row:
    """One ticket as the list shows it: hashable, so its rendered row can be kept by it."""

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
    intents: tuple[str, ...]
    tags: tuple[str, ...]

    @property
    def number(self) -> int:
        return self.id


def build_rows(found: Sequence[SqlRow]) -> list[Row]:
    """Rows for the selected `COLUMNS`."""
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
            customer=r.customer_name or f"#{r.customer_id}",
            assignee=r.assignee_name,
            intents=tuple(intents_of(r.intent_bits)),
            tags=tuple(sorted(r.tag_names.split("\n"))) if r.tag_names else (),
        )
        for r in found
    ]
