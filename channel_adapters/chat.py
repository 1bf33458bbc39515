"""The live chat widget's messages as `InboundMessage`.

The widget posts JSON: `{"id": "<the browser's id for this message>", "text": "...",
"name": "...", "email": "...", "language": "de"}`. The helpdesk adds the visitor id it
took from the visitor's signed token (`"visitor"`), never from what the browser says,
and hands the whole object to `parse`. The browser's message id makes a retried send
(a flaky connection, a double click) the same message: the external id is
`<visitor>:<id>`, unique per channel in the store.

Replies reach the visitor from the store itself (the widget's event stream reads the
conversation's messages), so `send` has nothing to transmit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from channel_adapters.base import (
    ChannelAdapter,
    Identity,
    InboundMessage,
    OutboundMessage,
    ParseError,
    registry,
    utcnow,
)

#: Longest message text the widget may send (characters).
MAX_TEXT = 4000
#: The browser's message id: letters, digits, "-" and "_".
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_VISITOR = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
#: Good enough to refuse typos; the address is only used, never trusted, until it is proven.
EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
LANGUAGES = ("de", "en")


def _text(payload: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError(f"{name!r} must be a string")
    value = value.strip()
    if len(value) > limit:
        raise ParseError(f"{name!r} is longer than {limit} characters")
    return value or None


def parse_payload(
    payload: Any, *, raw: bytes | None = None, received_at: datetime | None = None
) -> InboundMessage:
    """One widget message as an `InboundMessage`; `ParseError` says what is wrong."""
    if not isinstance(payload, Mapping):
        raise ParseError("a chat message is a JSON object")
    visitor = payload.get("visitor")
    if not isinstance(visitor, str) or not _VISITOR.match(visitor):
        raise ParseError("the message names no valid visitor")
    client_id = payload.get("id")
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise ParseError("'id' must be 8 to 64 letters, digits, '-' or '_'")
    text = _text(payload, "text", MAX_TEXT)
    if not text:
        raise ParseError("'text' is empty")
    name = _text(payload, "name", 200)
    email = _text(payload, "email", 254)
    if email is not None and not EMAIL.match(email):
        raise ParseError("'email' is not an e-mail address")
    language = payload.get("language")
    if language not in LANGUAGES:
        language = None
    return InboundMessage(
        channel="chat",
        external_id=f"{visitor}:{client_id}",
        sender=Identity("chat_visitor", visitor, name),
        also_known_as=(Identity("email", email, name),) if email else (),
        text=text,
        sent_at=received_at or utcnow(),
        thread_key=visitor,
        language=language,
        raw=raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode(),
        raw_content_type="application/json",
    )


@registry.register
class ChatAdapter(ChannelAdapter):
    """The website chat: JSON from our own widget in, replies read from the store."""

    kind = "chat"

    def parse(self, raw: bytes) -> Sequence[InboundMessage]:
        try:
            payload = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ParseError(f"not JSON: {error}") from None
        return [parse_payload(payload, raw=raw)]

    def send(self, message: OutboundMessage) -> str:
        # The visitor's stream reads the reply from the store; nothing leaves from here.
        return f"chat:{message.message_id}"
