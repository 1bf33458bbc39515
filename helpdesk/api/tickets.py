"""Tickets over the API: the inbox's lists and filters, one ticket, and changing its fields.

The list is the inbox's own query (services/inbox.py): the same views, filters, sorts
and keyset cursor, and the same visibility (social tokens see social tickets only).
Changes go through the services the ticket page uses, so each is an event in the trail.
"""

from __future__ import annotations

from typing import Any

from flask import g
from sqlalchemy import select

from channel_adapters.base import CHANNELS
from classifiers.base import INTENTS
from helpdesk.api import ApiError
from helpdesk.api.spec import (
    CURSOR,
    ID,
    LIMIT,
    STRING,
    STRINGS,
    TIME,
    endpoint,
    nullable,
    obj,
    path,
    query,
)
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, TICKET_STATUSES, Team, Ticket, User
from helpdesk.services import ticket_actions
from helpdesk.services.inbox import SORTS, VIEWS, Filters, get_ticket, list_tickets
from helpdesk.services.replies import set_status

WORKERS = ("agent", "lead", "social")
NUMBER = path("number", ID, "the ticket's number")

TICKET_SUMMARY = obj(
    {
        "number": ID,
        "subject": STRING,
        "status": {"enum": list(TICKET_STATUSES)},
        "priority": {"enum": list(PRIORITIES)},
        "channel": {"enum": list(CHANNELS)},
        "language": nullable(STRING),
        "customer": {"type": "string", "description": "the customer's name as shown"},
        "assignee": nullable(STRING),
        "intents": STRINGS,
        "tags": STRINGS,
        "sla_due_at": nullable(TIME),
        "last_activity_at": TIME,
    }
)
PERSON = obj({"id": ID, "name": STRING})
TICKET = obj(
    {
        "number": ID,
        "subject": STRING,
        "status": {"enum": list(TICKET_STATUSES)},
        "priority": {"enum": list(PRIORITIES)},
        "channel": {"enum": list(CHANNELS)},
        "language": nullable(STRING),
        "customer": PERSON,
        "assignee": nullable(PERSON),
        "team": nullable(PERSON),
        "intents": STRINGS,
        "tags": STRINGS,
        "order": nullable(STRING),
        "created_at": TIME,
        "last_activity_at": TIME,
        "first_response_at": nullable(TIME),
        "solved_at": nullable(TIME),
        "sla_due_at": nullable(TIME),
        "merged_into": nullable(ID),
        "escalated_to": nullable(ID),
    }
)
TICKET_ANSWER = obj({"ticket": TICKET})

_FILTERS = (
    query("channel", {"enum": list(CHANNELS)}),
    query("intent", {"enum": list(INTENTS)}),
    query("status", {"enum": list(TICKET_STATUSES)}),
    query(
        "assignee", {"type": "string", "pattern": "^(me|none|[0-9]{1,9})$"}, "me, none or a user id"
    ),  # fmt: skip
    query("team", {"type": "string", "pattern": "^(none|[0-9]{1,9})$"}, "none or a team id"),
    query("language", {"type": "string", "pattern": "^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,4})?$"}),
    query("tag", {"type": "string", "minLength": 1, "maxLength": 60}),
)


@endpoint(
    "GET",
    "/tickets",
    summary="List tickets: one of the inbox's views, filtered, sorted, one page at a time",
    roles=WORKERS,
    tag="tickets",
    params=(
        query("view", {"enum": list(VIEWS), "default": "open"}),
        query("sort", {"enum": list(SORTS)}, "activity (default), sla or priority"),
        *_FILTERS,
        CURSOR,
        LIMIT,
    ),
    responses={
        200: (
            "one page",
            obj(
                {
                    "tickets": {"type": "array", "items": TICKET_SUMMARY},
                    "next_cursor": nullable(STRING),
                }
            ),  # fmt: skip
        )
    },
)
def list_(query: dict[str, Any]):
    filters = Filters.parse({name: query[name] or "" for name in
                             ("channel", "intent", "status", "assignee", "team", "language",
                              "tag")})  # fmt: skip
    page = list_tickets(g.api_user, view=query["view"], filters=filters, sort=query["sort"],
                        cursor=query["cursor"], limit=query["limit"])  # fmt: skip
    return {"tickets": [summary_json(row) for row in page.tickets], "next_cursor": page.next_cursor}


@endpoint(
    "GET",
    "/tickets/{number}",
    summary="One ticket",
    roles=WORKERS,
    tag="tickets",
    params=(NUMBER,),
    responses={200: ("the ticket", TICKET_ANSWER)},
)
def show(number: int, query: dict[str, Any]):
    return {"ticket": ticket_json(get_ticket(g.api_user, number))}


UPDATE = {
    **obj(
        {
            "status": {"enum": list(TICKET_STATUSES)},
            "priority": {"enum": list(PRIORITIES)},
            "assignee_id": nullable(ID),
            "team_id": nullable(ID),
            "tags": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": 60},
                "maxItems": 30,
                "description": "the ticket's tags afterwards (replaces them)",
            },
        },
        optional=("status", "priority", "assignee_id", "team_id", "tags"),
    ),
    "minProperties": 1,
}


@endpoint(
    "PATCH",
    "/tickets/{number}",
    summary="Change a ticket's status, priority, assignee, team or tags",
    description="Only the fields given change; each change is an event in the ticket's trail.",
    roles=WORKERS,
    tag="tickets",
    params=(NUMBER,),
    body=UPDATE,
    responses={200: ("the ticket afterwards", TICKET_ANSWER)},
)
def update(number: int, query: dict[str, Any], body: dict[str, Any]):
    user = g.api_user
    ticket = get_ticket(user, number)
    if "tags" in body:  # checked first: a refused tag must not leave half the changes
        try:
            wanted = {ticket_actions.normalise_tag(name) for name in body["tags"]}
        except InvalidInput as error:
            raise ApiError(422, "invalid_input", f"tags: {error}") from None
    if "assignee_id" in body:
        assignee = _active_user(body["assignee_id"])
        ticket_actions.assign(ticket, assignee, user=user)
    if "team_id" in body:
        team = None if body["team_id"] is None else db.session.get(Team, body["team_id"])
        if body["team_id"] is not None and team is None:
            raise ApiError(422, "invalid_input", f"team_id: no team {body['team_id']}")
        ticket_actions.set_team(ticket, team, user=user)
    if "priority" in body:
        ticket_actions.set_priority(ticket, body["priority"], user=user)
    if "tags" in body:
        current = {tag.name for tag in ticket.tags}
        for name in sorted(wanted - current):
            ticket_actions.add_tag(ticket, name, user=user)
        for name in sorted(current - wanted):
            ticket_actions.remove_tag(ticket, name, user=user)
    if "status" in body:
        set_status(ticket, body["status"], user=user)
    db.session.commit()
    return {"ticket": ticket_json(ticket)}


def _active_user(user_id: int | None) -> User | None:
    if user_id is None:
        return None
    found = db.session.scalar(select(User).where(User.id == user_id, User.active.is_(True)))
    if found is None:
        raise ApiError(422, "invalid_input", f"assignee_id: no active user {user_id}")
    return found


# --- JSON --------------------------------------------------------------------------------


def _when(value) -> str | None:
    return value.isoformat() if value is not None else None


def summary_json(row) -> dict[str, Any]:
    return {
        "number": row.id,
        "subject": row.subject,
        "status": row.status,
        "priority": row.priority,
        "channel": row.channel,
        "language": row.language,
        "customer": row.customer,
        "assignee": row.assignee,
        "intents": list(row.intents),
        "tags": list(row.tags),
        "sla_due_at": _when(row.sla_due_at),
        "last_activity_at": _when(row.last_activity_at),
    }


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    def person(who) -> dict[str, Any] | None:
        return None if who is None else {"id": who.id, "name": who.name}

    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "language": ticket.language,
        "customer": {"id": ticket.customer.id, "name": ticket.customer.display_name},
        "assignee": person(ticket.assignee),
        "team": person(ticket.team),
        "intents": ticket.intents,
        "tags": [tag.name for tag in ticket.tags],
        "order": ticket.order.number if ticket.order is not None else None,
        "created_at": _when(ticket.created_at),
        "last_activity_at": _when(ticket.last_activity_at),
        "first_response_at": _when(ticket.first_response_at),
        "solved_at": _when(ticket.solved_at),
        "sla_due_at": _when(ticket.sla_due_at),
        "merged_into": ticket.merged_into_id,
        "escalated_to": ticket.escalated_to_id,
    }
