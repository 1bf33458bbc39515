"""Live chat from the visitor's side: conversations, their signed tokens, messages in and
out, limits, and whether a person is around to take over.

A visitor's token is the visitor id signed with the secret key (it lives in the
browser's localStorage, so a reload continues the conversation). Every visitor message
enters through `ingest()` with channel "chat"; the chatbot (`helpdesk.services.chatbot`)
answers on the ticket right after. Replies reach the visitor from the store: the widget
reads the conversation's messages, so any web worker serves any visitor.
The caller commits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from channel_adapters.base import ParseError
from channel_adapters.chat import EMAIL, parse_payload
from helpdesk.errors import HelpdeskError, InvalidInput
from helpdesk.extensions import db
from helpdesk.ingest import IngestResult, ingest
from helpdesk.models import (
    AgentAvailability,
    ChatSession,
    Event,
    Message,
    OutboxItem,
    Presence,
    Ticket,
    User,
)
from helpdesk.models.types import utcnow

TOKEN_SALT = "chat-visitor"
#: Roles whose members answer chats.
CARE_ROLES = ("agent", "lead", "admin")
DEFAULTS: dict[str, Any] = {
    "CHAT_TOKEN_MAX_AGE_DAYS": 30,
    "CHAT_MESSAGES_PER_MINUTE": 20,
    "CHAT_STARTS_PER_IP_PER_HOUR": 30,
    "CHAT_AGENT_ONLINE_SECONDS": 150,
    "CHAT_MAX_BODY_BYTES": 16 * 1024,
    # A reply the visitor's widget has not picked up after this long (the visitor left)
    # goes by e-mail when they gave an address (helpdesk/services/delivery.py).
    "CHAT_EMAIL_FALLBACK_MINUTES": 15,
}


class ChatError(HelpdeskError):
    """Base of what the chat endpoints answer with a clear error."""


class ChatAuthError(ChatError):
    status_code = 401


class TooManyRequests(ChatError):
    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def setting(name: str) -> Any:
    return type(DEFAULTS[name])(current_app.config.get(name, DEFAULTS[name]))


# --- tokens and conversations --------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=TOKEN_SALT)


def token_for(chat: ChatSession) -> str:
    return _serializer().dumps(chat.visitor)


def chat_for_token(token: str | None) -> ChatSession:
    """The conversation a token names; `ChatAuthError` for a missing, forged or old one."""
    if not token:
        raise ChatAuthError("this needs the visitor token from /chat/api/start")
    max_age = int(timedelta(days=setting("CHAT_TOKEN_MAX_AGE_DAYS")).total_seconds())
    try:
        visitor = _serializer().loads(token, max_age=max_age)
    except BadSignature:
        raise ChatAuthError("the visitor token is not valid (or too old): start again") from None
    chat = db.session.scalar(select(ChatSession).where(ChatSession.visitor == visitor))
    if chat is None:
        raise ChatAuthError("this conversation no longer exists: start again")
    return chat


def client_hash(address: str | None) -> str:
    """The client address keyed with the secret: countable, not readable."""
    key = current_app.secret_key.encode() if isinstance(current_app.secret_key, str) else b""
    return hmac.new(key, (address or "").encode(), hashlib.sha256).hexdigest()


def start_chat(
    *,
    address: str | None,
    language: str,
    name: str | None = None,
    email: str | None = None,
    page: str | None = None,
    now: datetime | None = None,
) -> ChatSession:
    """A new conversation, unless this client started too many lately."""
    now = now or utcnow()
    ip_hash = client_hash(address)
    limit = setting("CHAT_STARTS_PER_IP_PER_HOUR")
    started = db.session.scalar(
        select(func.count())
        .select_from(ChatSession)
        .where(ChatSession.ip_hash == ip_hash, ChatSession.created_at > now - timedelta(hours=1))
    )
    if started >= limit:
        raise TooManyRequests("too many new conversations from this address; try later", 600)
    chat = ChatSession(
        visitor="v-" + secrets.token_urlsafe(18),
        language=language if language in ("de", "en") else "de",
        state="bot",
        data={},
        ip_hash=ip_hash,
        page=(page or "")[:500] or None,
        created_at=now,
        last_seen_at=now,
    )
    identify(chat, name=name, email=email)
    db.session.add(chat)
    db.session.flush()
    return chat


def identify(chat: ChatSession, *, name: str | None, email: str | None) -> None:
    """Name and e-mail the visitor gave; they travel with every later message, where
    ingest makes the address an e-mail identity of the customer."""
    if name is not None:
        name = name.strip()
        if len(name) > 200:
            raise InvalidInput("a name has at most 200 characters")
        chat.name = name or chat.name
    if email is not None:
        email = email.strip()
        if email and not EMAIL.match(email):
            raise InvalidInput("that is not an e-mail address")
        chat.email = email.lower() or chat.email


# --- messages in ----------------------------------------------------------------------------


def check_message_rate(chat: ChatSession, now: datetime) -> None:
    """At most CHAT_MESSAGES_PER_MINUTE messages per visitor, counted in the store."""
    sent = db.session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.channel == "chat",
            Message.thread_key == chat.visitor,
            Message.direction == "inbound",
            Message.created_at > now - timedelta(minutes=1),
        )
    )
    if sent >= setting("CHAT_MESSAGES_PER_MINUTE"):
        raise TooManyRequests("too many messages in a minute; wait a moment", 30)


def visitor_says(
    chat: ChatSession, *, client_id: str, text: str, now: datetime | None = None
) -> IngestResult:
    """Store what the visitor wrote (through ingest) and let the bot answer; returns what
    ingest did. Sending the same `client_id` again stores nothing new."""
    from helpdesk.services import chatbot  # the bot uses this module's helpers

    now = now or utcnow()
    check_message_rate(chat, now)
    chatbot.before_ingest(chat, text)
    payload = {
        "visitor": chat.visitor,
        "id": client_id,
        "text": text,
        "name": chat.name,
        "email": chat.email,
        "language": chat.language,
    }
    payload = {key: value for key, value in payload.items() if value is not None}
    try:
        inbound = parse_payload(payload, raw=json.dumps(payload, ensure_ascii=False).encode(),
                                received_at=now)  # fmt: skip
    except ParseError as error:
        raise InvalidInput(str(error)) from None
    result = ingest(inbound, received_at=now)
    if result.created_ticket and chat.ticket_id is not None:
        # A follow-up of a closed conversation starts afresh with the bot.
        chat.state, chat.data = "bot", {}
    chat.ticket_id = result.ticket_id
    chat.last_seen_at = now
    if not result.duplicate:
        chatbot.answer(chat, text, result.ticket_id, now=now)
    return result


# --- messages out ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatLine:
    """One message as the widget shows it. `author` is "visitor", "bot" or "agent"."""

    id: int
    author: str
    name: str | None
    text: str
    at: str

    def as_json(self) -> dict:
        return {"id": self.id, "author": self.author, "name": self.name, "text": self.text,
                "at": self.at}  # fmt: skip


def conversation(
    session: Session, visitor: str, *, after: int = 0, limit: int = 200
) -> list[ChatLine]:
    """The visitor's messages and our answers after message id `after`, oldest first.

    Read by the thread key (the visitor id), so the conversation goes on across a
    follow-up ticket; internal notes are never among them."""
    rows = session.execute(
        select(
            Message.id,
            Message.direction,
            Message.author_kind,
            Message.text,
            Message.created_at,
            User.name,
        )  # fmt: skip
        .outerjoin(User, User.id == Message.author_id)
        .where(
            Message.channel == "chat",
            Message.thread_key == visitor,
            Message.direction.in_(("inbound", "outbound")),
            Message.id > after,
        )
        .order_by(Message.id)
        .limit(limit)
    ).all()
    lines = []
    for row in rows:
        if row.direction == "inbound":
            author, name = "visitor", None
        elif row.author_kind == "bot":
            author, name = "bot", None
        else:
            # Colleagues' first names only: the visitor needs no one's full name.
            author, name = "agent", (row.name or "").split(" ")[0] or None
        lines.append(ChatLine(row.id, author, name, row.text, row.created_at.isoformat()))
    return lines


def mark_delivered(session: Session, message_ids: list[int], now: datetime) -> int:
    """The visitor's browser has these replies: their outbox rows are done, and the
    ticket shows them delivered. Returns how many were still owed.

    This is chat's way of sending (the worker has no chat sender on purpose): a reply
    counts as delivered when the visitor's stream handed it over, not before."""
    if not message_ids:
        return 0
    items = session.scalars(
        select(OutboxItem)
        .where(
            OutboxItem.message_id.in_(message_ids),
            OutboxItem.channel == "chat",
            OutboxItem.status == "pending",
        )
        .with_for_update(skip_locked=True)
    ).all()
    for item in items:
        item.status, item.sent_at, item.last_error = "sent", now, None
        message = session.get(Message, item.message_id)
        delivery = {"status": "sent", "response": "shown in the visitor's chat"}
        message.details = {**(message.details or {}), "delivery": delivery}
        session.add(
            Event(kind="message.delivered", ticket_id=message.ticket_id, message_id=message.id,
                  actor="chat", data={"response": delivery["response"]}, created_at=now)
        )  # fmt: skip
    return len(items)


def agent_typing(session: Session, ticket_id: int | None, now: datetime | None = None) -> bool:
    """Whether a colleague is typing on the chat's ticket right now (their composer beats)."""
    if ticket_id is None:
        return False
    from helpdesk.services.presence import TYPING_EXPIRY

    now = now or utcnow()
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Presence)
            .where(
                Presence.ticket_id == ticket_id,
                Presence.state == "typing",
                Presence.updated_at >= now - TYPING_EXPIRY,
            )
        )
    )


# --- who is around --------------------------------------------------------------------------


def note_agent_seen(user: User, now: datetime | None = None) -> None:
    """`user` is using the helpdesk now (an upsert, harmless when two workers race)."""
    now = now or utcnow()
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(AgentAvailability).values(user_id=user.id, seen_at=now)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[AgentAvailability.user_id], set_={"seen_at": statement.excluded.seen_at}
        )
    )


def agents_online(now: datetime | None = None) -> bool:
    """Someone who answers chats, and is not away, was seen within
    CHAT_AGENT_ONLINE_SECONDS or has a ticket open right now (presence beats)."""
    now = now or utcnow()
    since = now - timedelta(seconds=setting("CHAT_AGENT_ONLINE_SECONDS"))
    care = (User.active.is_(True), User.away.is_(False), User.role.in_(CARE_ROLES))
    seen = db.session.scalar(
        select(func.count())
        .select_from(AgentAvailability)
        .join(User, User.id == AgentAvailability.user_id)
        .where(AgentAvailability.seen_at >= since, AgentAvailability.seen_at <= now, *care)
    )
    if seen:
        return True
    from helpdesk.services.presence import EXPIRY, GONE

    present = db.session.scalar(
        select(func.count())
        .select_from(Presence)
        .join(User, User.id == Presence.user_id)
        .where(Presence.updated_at >= now - EXPIRY, Presence.updated_at <= now, *care)
        .where(Presence.state != GONE)  # a tab's goodbye, kept until it expires
    )
    return bool(present)


def chat_ticket(chat: ChatSession) -> Ticket | None:
    return db.session.get(Ticket, chat.ticket_id) if chat.ticket_id else None
