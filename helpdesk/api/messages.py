"""A ticket's messages over the API: read them, answer the customer, write a note.

Sending goes through the composer (services/composer.py), as the ticket page does: the
channels the customer can be answered on, @mentions in notes, the outbox row written in
the same transaction as the reply, and the optional status afterwards.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import g
from sqlalchemy import select

from channel_adapters.base import CHANNELS
from helpdesk.api import ApiError
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
)
from helpdesk.extensions import db
from helpdesk.models import Message, OutboxItem
from helpdesk.models.outbox import OUTBOX_STATUSES
from helpdesk.models.tickets import AUTHOR_KINDS, DIRECTIONS
from helpdesk.services import composer
from helpdesk.services.inbox import get_ticket

NUMBER = path("number", ID, "the ticket's number")

MESSAGE = obj(
    {
        "id": ID,
        "ticket": ID,
        "direction": {"enum": list(DIRECTIONS)},
        "channel": {"enum": list(CHANNELS)},
        "author_kind": {"enum": list(AUTHOR_KINDS)},
        "author": nullable(obj({"id": ID, "name": STRING})),
        "counterpart": nullable(STRING),
        "subject": STRING,
        "text": STRING,
        "created_at": TIME,
        "sent_at": TIME,
        "delivery": nullable(
            {
                "enum": list(OUTBOX_STATUSES),
                "description": "for replies: pending, sent, failed (retrying) or dead (given up)",
            }
        ),
        "attachments": {
            "type": "array",
            "items": obj(
                {
                    "id": ID,
                    "filename": STRING,
                    "content_type": STRING,
                    "size": {"type": "integer", "minimum": 0},
                }
            ),  # fmt: skip
        },
    }
)


@endpoint(
    "GET",
    "/tickets/{number}/messages",
    summary="A ticket's messages and notes, oldest first",
    roles=("agent", "lead", "social"),
    tag="messages",
    params=(NUMBER, CURSOR, LIMIT),
    responses={
        200: (
            "one page",
            obj(
                {"messages": {"type": "array", "items": MESSAGE}, "next_cursor": nullable(STRING)}
            ),  # fmt: skip
        )
    },
)
def list_messages(number: int, query: dict[str, Any]):
    ticket = get_ticket(g.api_user, number)
    after = _decode(query["cursor"]) if query["cursor"] else 0
    limit = query["limit"]
    found = list(
        db.session.scalars(
            select(Message)
            .where(Message.ticket_id == ticket.id, Message.id > after)
            .order_by(Message.id)
            .limit(limit + 1)
        )
    )
    shown = found[:limit]
    cursor = _encode(shown[-1].id) if len(found) > limit else None
    return {"messages": messages_json(shown), "next_cursor": cursor}


SEND = obj(
    {
        "kind": {"enum": ["reply", "note"]},
        "text": {"type": "string", "minLength": 1, "maxLength": 100_000},
        "channel": {
            "enum": list(CHANNELS),
            "description": "for a reply; default: the channel the customer last wrote on",
        },
        "status": {
            "enum": list(composer.STATUSES_AFTER_SENDING),
            "description": "set the ticket's status in the same step",
        },  # fmt: skip
    },
    optional=("channel", "status"),
)


@endpoint(
    "POST",
    "/tickets/{number}/messages",
    summary="Answer the customer (kind reply) or write an internal note (kind note)",
    description="A reply leaves through the outbox once stored; `delivery` shows how it went.",
    roles=("agent", "lead", "social"),
    tag="messages",
    params=(NUMBER,),
    body=SEND,
    responses={201: ("stored", obj({"message": MESSAGE}))},
)
def send_message(number: int, query: dict[str, Any], body: dict[str, Any]):
    user = g.api_user
    ticket = get_ticket(user, number)
    channel = body.get("channel")
    if body["kind"] == "reply" and channel is None:
        used = composer.used_channels(ticket)
        options = composer.reply_channels(ticket, user, used)
        channel = composer.default_channel(ticket, options, used)
        if channel is None:
            raise ApiError(422, "invalid_input", "this customer cannot be answered on any channel")
    if not body["text"].strip():
        raise ApiError(422, "invalid_input", "text: write something")
    draft = composer.Draft(body["kind"], body["text"], channel, body.get("status"))
    message = composer.send(ticket, user, draft)
    db.session.commit()
    return {"message": messages_json([message])[0]}, 201


def messages_json(messages: list[Message]) -> list[dict[str, Any]]:
    ids = [m.id for m in messages if m.direction == "outbound"]
    delivery = dict(
        db.session.execute(
            select(OutboxItem.message_id, OutboxItem.status).where(OutboxItem.message_id.in_(ids))
        ).all()
        if ids
        else []
    )
    return [
        {
            "id": m.id,
            "ticket": m.ticket_id,
            "direction": m.direction,
            "channel": m.channel,
            "author_kind": m.author_kind,
            "author": {"id": m.author.id, "name": m.author.name} if m.author else None,
            "counterpart": m.counterpart,
            "subject": m.subject or "",
            "text": m.text or "",
            "created_at": m.created_at.isoformat(),
            "sent_at": m.sent_at.isoformat(),
            "delivery": delivery.get(m.id),
            "attachments": [
                {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
                for a in m.attachments
            ],  # fmt: skip
        }
        for m in messages
    ]


def _encode(message_id: int) -> str:
    return base64.urlsafe_b64encode(f"m{message_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("m") or not raw[1:].isdigit() or len(raw) > 12:
            raise ValueError(raw)
        return int(raw[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(
            400, "invalid_cursor", "this cursor is broken; start from the first page"
        ) from None
