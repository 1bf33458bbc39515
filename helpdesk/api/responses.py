"""Canned responses over the API: the library, and a response filled in for a ticket.

Filling in is services/canned.py's: the sandboxed template with the ticket's facts
(customer, order, shipment, invoice, return). A template that cannot be filled in for
this ticket answers 200 with empty `text` and `missing` saying why, as the ticket page
shows it, because the request was fine.
"""

from __future__ import annotations

from typing import Any

from flask import g
from sqlalchemy import select

from channel_adapters.base import CHANNELS
from helpdesk.api import ApiError
from helpdesk.api.spec import BOOLEAN, ID, STRING, STRINGS, endpoint, nullable, obj, path, query
from helpdesk.extensions import db
from helpdesk.models import CannedResponse
from helpdesk.models.agents import LANGUAGES
from helpdesk.services.canned import facts_for, fill_in, suggestions, template_context
from helpdesk.services.inbox import get_ticket

ROLES = ("agent", "lead", "social")
RESPONSE = obj(
    {
        "id": ID,
        "title": STRING,
        "shortcut": STRING,
        "language": {"enum": list(LANGUAGES)},
        "intents": STRINGS,
        "channels": {"type": "array", "items": {"enum": list(CHANNELS)}},
        "requires": STRINGS,
        "body": {"type": "string", "description": "the template"},
        "active": BOOLEAN,
    }
)
FILLED = obj(
    {
        "response": RESPONSE,
        "text": {"type": "string", "description": "ready to send; empty when `missing` is set"},
        "missing": nullable(STRING),
    }
)


@endpoint(
    "GET",
    "/responses",
    summary="The canned responses (active ones unless asked otherwise)",
    roles=ROLES,
    tag="responses",
    params=(
        query("language", {"enum": list(LANGUAGES)}),
        query("include_inactive", {"enum": ["true", "false"], "default": "false"}),
    ),
    responses={200: ("all of them", obj({"responses": {"type": "array", "items": RESPONSE}}))},
)
def list_responses(query: dict[str, Any]):
    statement = select(CannedResponse).order_by(CannedResponse.title, CannedResponse.id)
    if query["language"]:
        statement = statement.where(CannedResponse.language == query["language"])
    if query["include_inactive"] != "true":
        statement = statement.where(CannedResponse.active.is_(True))
    return {"responses": [response_json(r) for r in db.session.scalars(statement)]}


@endpoint(
    "GET",
    "/tickets/{number}/responses",
    summary="The responses that fit a ticket, best first, filled in for it",
    roles=ROLES,
    tag="responses",
    params=(path("number", ID, "the ticket's number"),),
    responses={200: ("suggestions", obj({"suggestions": {"type": "array", "items": FILLED}}))},
)
def ticket_suggestions(number: int, query: dict[str, Any]):
    ticket = get_ticket(g.api_user, number)
    return {"suggestions": [filled_json(s) for s in suggestions(ticket, agent=g.api_user)]}


@endpoint(
    "GET",
    "/responses/{id}/render",
    summary="One canned response filled in for a ticket",
    roles=ROLES,
    tag="responses",
    params=(
        path("id", ID, "the response's id"),
        query("ticket", ID, "the ticket's number", required=True),
    ),
    responses={200: ("filled in", FILLED)},
)
def render(id: int, query: dict[str, Any]):
    response = db.session.get(CannedResponse, id)
    if response is None:
        raise ApiError(404, "not_found", f"no canned response {id}")
    ticket = get_ticket(g.api_user, query["ticket"])
    context = template_context(ticket, facts_for(ticket), g.api_user)
    return filled_json(fill_in(response, context))


def response_json(response: CannedResponse) -> dict[str, Any]:
    return {
        "id": response.id,
        "title": response.title,
        "shortcut": response.shortcut,
        "language": response.language,
        "intents": list(response.intents or []),
        "channels": list(response.channels or []),
        "requires": list(response.requires or []),
        "body": response.body,
        "active": response.active,
    }


def filled_json(suggestion) -> dict[str, Any]:
    return {
        "response": response_json(suggestion.response),
        "text": suggestion.text,
        "missing": suggestion.missing,
    }
