"""Two customers become one, and an agent can take it back.

A merge moves the younger customer's identities and tickets to the one kept and
leaves the other as a pointer (`merged_into_id`), so old links still resolve. The
`CustomerMerge` record names the rows that moved; unmerging moves exactly those back
(not what reached the kept customer since) and clears the pointer. Both are events
on the trail. Suggestions of likely duplicates (same name, similar e-mail address)
are only ever shown to an agent, who decides.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm.util import identity_key

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import Customer, CustomerIdentity, CustomerMerge, Ticket, User
from helpdesk.models.types import utcnow
from helpdesk.services.events import record_event

log = logging.getLogger(__name__)

#: How alike two e-mail addresses must be (difflib ratio of the local parts) to suggest.
SIMILAR_EMAIL = 0.8
SUGGESTIONS = 10


def merge_customers(
    keep: Customer, other: Customer, *, actor: str, user: User | None = None
) -> CustomerMerge:
    """Move `other`'s identities and tickets to `keep`; `other` remains as a pointer."""
    db.session.flush()
    identity_ids = list(
        db.session.scalars(
            select(CustomerIdentity.id).where(CustomerIdentity.customer_id == other.id)
        )
    )
    ticket_ids = list(db.session.scalars(select(Ticket.id).where(Ticket.customer_id == other.id)))
    db.session.execute(
        update(CustomerIdentity)
        .where(CustomerIdentity.id.in_(identity_ids))
        .values(customer_id=keep.id)
    )
    db.session.execute(update(Ticket).where(Ticket.id.in_(ticket_ids)).values(customer_id=keep.id))
    taken = {
        field: getattr(other, field)
        for field in ("name", "language")
        if not getattr(keep, field) and getattr(other, field)
    }
    for field, value in taken.items():
        setattr(keep, field, value)
    other.merged_into_id = keep.id
    record = CustomerMerge(kept_id=keep.id, merged_id=other.id, identity_ids=identity_ids,
                           ticket_ids=ticket_ids, taken=taken, actor=actor, user=user)  # fmt: skip
    db.session.add(record)
    db.session.expire(keep, ["identities"])
    db.session.expire(other, ["identities"])
    for ticket_id in ticket_ids:
        _expire_ticket(ticket_id)
    # What moved is in the CustomerMerge record; the event says who became whom.
    record_event("customer.merged", customer=keep, user=user, actor=actor,
                 merged_customer_id=other.id)  # fmt: skip
    log.debug("merged customer %s into %s", other.id, keep.id)
    return record


def merge_by_agent(keep: Customer, other: Customer, user: User) -> CustomerMerge:
    """An agent says `other` is the same person as `keep`."""
    keep, other = surviving(keep), surviving(other)
    if keep.id == other.id:
        raise InvalidInput(_("These are the same customer already."))
    return merge_customers(keep, other, actor="agent", user=user)


def unmerge(record: CustomerMerge, user: User) -> Customer:
    """Take merge `record` back: its identities and tickets return to the customer they
    came from, which stands on its own again. Returns that customer."""
    if record.undone_at is not None:
        raise InvalidInput(_("This merge is undone already."))
    merged = record.merged
    if merged.merged_into_id != record.kept_id:
        raise InvalidInput(_("This customer was merged again since; undo that first."))
    kept = record.kept
    db.session.flush()
    moved_identities = db.session.execute(
        update(CustomerIdentity)
        .where(CustomerIdentity.id.in_(record.identity_ids or [-1]))
        .where(CustomerIdentity.customer_id == kept.id)
        .values(customer_id=merged.id)
    ).rowcount
    moved_tickets = list(
        db.session.scalars(
            select(Ticket.id).where(
                Ticket.id.in_(record.ticket_ids or [-1]), Ticket.customer_id == kept.id
            )
        )
    )
    db.session.execute(
        update(Ticket).where(Ticket.id.in_(moved_tickets or [-1])).values(customer_id=merged.id)
    )
    for field, value in (record.taken or {}).items():
        if getattr(kept, field) == value:
            setattr(kept, field, None)
    merged.merged_into_id = None
    record.undone_at = utcnow()
    record.undone_by_id = user.id
    db.session.expire(kept, ["identities"])
    db.session.expire(merged, ["identities"])
    for ticket_id in moved_tickets:
        _expire_ticket(ticket_id)
    for customer, other in ((kept, merged), (merged, kept)):
        record_event("customer.unmerged", customer=customer, user=user, merge=record.id,
                     other_customer_id=other.id, identities=moved_identities,
                     tickets=moved_tickets)  # fmt: skip
    return merged


def merges_into(customer: Customer) -> list[CustomerMerge]:
    """The merges that brought other customers into `customer`, latest first."""
    return list(
        db.session.scalars(
            select(CustomerMerge)
            .where(CustomerMerge.kept_id == customer.id)
            .order_by(CustomerMerge.created_at.desc(), CustomerMerge.id.desc())
        )
    )


@dataclass(frozen=True)
class Suggestion:
    customer: Customer
    reason: str


def likely_duplicates(customer: Customer) -> list[Suggestion]:
    """Other customers with the same name and a similar e-mail address (for an agent to
    confirm; never merged automatically: two Anna Müllers are common)."""
    if not customer.name or not customer.name.strip():
        return []
    emails = [i.value for i in customer.identities if i.kind == "email"]
    if not emails:
        return []
    same_name = db.session.scalars(
        select(Customer)
        .where(
            func.lower(func.trim(Customer.name)) == customer.name.strip().lower(),
            Customer.id != customer.id,
            Customer.merged_into_id.is_(None),
        )
        .order_by(Customer.id)
        .limit(50)
    )
    found = []
    for other in same_name:
        for theirs in (i.value for i in other.identities if i.kind == "email"):
            best = max(emails, key=lambda mine, theirs=theirs: _email_likeness(mine, theirs))
            if _email_likeness(best, theirs) >= SIMILAR_EMAIL:
                found.append(Suggestion(other, _("same name, e-mail %(theirs)s like %(mine)s",
                                                 theirs=theirs, mine=best)))  # fmt: skip
                break
        if len(found) >= SUGGESTIONS:
            break
    return found


def _email_likeness(a: str, b: str) -> float:
    """How alike two addresses are: the local parts count, the domain a little."""
    local_a, _at, domain_a = a.lower().partition("@")
    local_b, _at, domain_b = b.lower().partition("@")
    local = difflib.SequenceMatcher(None, local_a.replace(".", ""), local_b.replace(".", ""))
    return local.ratio() * 0.85 + (0.15 if domain_a == domain_b else 0.0)


def surviving(customer: Customer) -> Customer:
    """The customer `customer` was merged into, following the chain; itself if none."""
    seen = set()
    while customer.merged_into_id is not None and customer.id not in seen:
        seen.add(customer.id)
        customer = db.session.get(Customer, customer.merged_into_id)
    return customer


def _expire_ticket(ticket_id: int) -> None:
    ticket = db.session.identity_map.get(identity_key(Ticket, ticket_id))
    if ticket is not None:
        db.session.expire(ticket, ["customer_id", "customer"])
