"""Customers over the API: find them by name or by any identity, read one with its tickets.

A merged customer is a pointer to the one it became: lists leave it out, and asking for
it by id answers with the customer it was merged into (`merged_from` says so).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, or_, select

from channel_adapters.base import CHANNELS, IDENTITY_KINDS
from helpdesk.api import ApiError
from helpdesk.api.messages import _decode, _encode
from helpdesk.api.spec import (
    CURSOR,
    ID,
    LIMIT,
    STRING,
    TIME,
    endpoint,
    nullable,
    obj,
    path,
    query,
)
from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, TICKET_STATUSES, Customer, CustomerIdentity, Ticket

#: Customers are everyone's contacts; social media managers see social tickets only.
ROLES = ("agent", "lead")
TICKETS_SHOWN = 100

IDENTITY = obj(
    {"kind": {"enum": list(IDENTITY_KINDS)}, "value": STRING, "display_name": nullable(STRING)}
)
CUSTOMER_FIELDS = {
    "id": ID,
    "name": nullable(STRING),
    "display_name": STRING,
    "language": nullable(STRING),
    "preferred_channel": nullable({"enum": list(CHANNELS)}),
    "created_at": TIME,
    "identities": {"type": "array", "items": IDENTITY},
}
CUSTOMER_DETAIL = obj(
    {
        **CUSTOMER_FIELDS,
        "merged_from": nullable(ID),
        "tickets": {
            "type": "array",
            "description": f"the latest {TICKETS_SHOWN}",
            "items": obj(
                {
                    "number": ID,
                    "subject": STRING,
                    "status": {"enum": list(TICKET_STATUSES)},
                    "priority": {"enum": list(PRIORITIES)},
                    "channel": {"enum": list(CHANNELS)},
                    "last_activity_at": TIME,
                }
            ),
        },
    }
)


@endpoint(
    "GET",
    "/customers",
    summary="List customers, newest first, or search them by name or identity",
    roles=ROLES,
    tag="customers",
    params=(
        query(
            "q",
            {"type": "string", "minLength": 1, "maxLength": 200},
            "part of the name, e-mail address, phone number or platform id",
        ),  # fmt: skip
        CURSOR,
        LIMIT,
    ),
    responses={
        200: (
            "one page",
            obj(
                {
                    "customers": {"type": "array", "items": obj(CUSTOMER_FIELDS)},
                    "next_cursor": nullable(STRING),
                }
            ),  # fmt: skip
        )
    },
)
def list_customers(query: dict[str, Any]):
    statement = select(Customer).where(Customer.merged_into_id.is_(None))
    if query["q"] and query["q"].strip():
        pattern = "%" + _escape_like(query["q"].strip().lower()) + "%"
        statement = statement.where(
            or_(
                func.lower(Customer.name).like(pattern, escape="\\"),
                exists().where(
                    CustomerIdentity.customer_id == Customer.id,
                    func.lower(CustomerIdentity.value).like(pattern, escape="\\"),
                ),
            )
        )
    if query["cursor"]:
        statement = statement.where(Customer.id < _decode(query["cursor"]))
    limit = query["limit"]
    found = list(db.session.scalars(statement.order_by(Customer.id.desc()).limit(limit + 1)))
    shown = found[:limit]
    cursor = _encode(shown[-1].id) if len(found) > limit else None
    return {"customers": [customer_json(c) for c in shown], "next_cursor": cursor}


@endpoint(
    "GET",
    "/customers/{id}",
    summary="One customer with identities and tickets",
    roles=ROLES,
    tag="customers",
    params=(path("id", ID, "the customer's id"),),
    responses={200: ("the customer", obj({"customer": CUSTOMER_DETAIL}))},
)
def show_customer(id: int, query: dict[str, Any]):
    customer = db.session.get(Customer, id)
    if customer is None:
        raise ApiError(404, "not_found", f"no customer {id}")
    merged_from = None
    for _ in range(50):  # a merge chain is short; a loop in it must not hang the request
        if customer.merged_into_id is None:
            break
        merged_from = merged_from or customer.id
        customer = db.session.get(Customer, customer.merged_into_id)
    tickets = db.session.scalars(
        select(Ticket)
        .where(Ticket.customer_id == customer.id)
        .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
        .limit(TICKETS_SHOWN)
    )
    return {
        "customer": {
            **customer_json(customer),
            "merged_from": merged_from,
            "tickets": [
                {
                    "number": t.number,
                    "subject": t.subject,
                    "status": t.status,
                    "priority": t.priority,
                    "channel": t.channel,
                    "last_activity_at": t.last_activity_at.isoformat(),
                }
                for t in tickets
            ],  # fmt: skip
        }
    }


def customer_json(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "display_name": customer.display_name,
        "language": customer.language,
        "preferred_channel": customer.preferred_channel,
        "created_at": customer.created_at.isoformat(),
        "identities": [
            {"kind": i.kind, "value": i.value, "display_name": i.display_name}
            for i in customer.identities
        ],
    }


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
