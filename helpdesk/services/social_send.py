"""Replies on the social channels: may we answer now, and the outbox worker's send step.

The platforms accept a reply only within 24 hours of the customer's last message
(Messenger and Instagram: up to 7 days from a person, with the HUMAN_AGENT tag, when
Meta granted it; WhatsApp: then only approved templates, which we do not send). The
composer asks `check_reply` before anything is queued, so the agent learns at once;
the worker asks again when it sends (a reply may have waited for a retry), and a
reply that has missed its window fails with the reason on the ticket.

A reply on a public comment conversation (`public_comments`) is posted under the
customer's comment, where everyone can read it: no window applies, the composer says it
is public, and only a person's answer is posted (an automatic one fails on the ticket).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from channel_adapters.base import (
    SENDER_IDENTITY_KIND,
    ConfigError,
    Identity,
    InboundAttachment,
    OutboundMessage,
    SendError,
    registry,
)
from channel_adapters.social.common import (
    HUMAN_AGENT_WINDOW,
    TAGGABLE,
    WINDOWED,
    OutsideWindow,
    messaging_tag,
)

# Importing the adapter modules registers them.
from channel_adapters.social.meta import TEXT_LIMITS as META_TEXT_LIMITS
from channel_adapters.social.meta import text_too_long
from channel_adapters.social.meta_comments import (
    COMMENT_TEXT_LIMITS,
    COMMENT_THREAD_PREFIX,
    REPLY_TO_COMMENT,
    is_comment_thread,
)
from channel_adapters.social.whatsapp import TEXT_LIMIT as WHATSAPP_TEXT_LIMIT
from channel_adapters.social.x import TEXT_LIMIT as X_TEXT_LIMIT
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import ChannelState, Message, Ticket
from helpdesk.models.types import utcnow
from helpdesk.services.public_comments import answered_comment, comment_thread

SOCIAL_SEND_CHANNELS: tuple[str, ...] = ("messenger", "instagram", "whatsapp", "x")
NAMES = {"messenger": "Messenger", "instagram": "Instagram", "whatsapp": "WhatsApp", "x": "X"}
TEXT_LIMITS = {**META_TEXT_LIMITS, "whatsapp": WHATSAPP_TEXT_LIMIT, "x": X_TEXT_LIMIT}


# --- before queueing: the composer ---------------------------------------------------------


def check_reply(
    ticket: Ticket,
    channel: str,
    text: str,
    attachments: tuple[InboundAttachment, ...] | list = (),
    *,
    now: datetime | None = None,
) -> None:
    """Raise `InvalidInput` with words for the agent when `channel` cannot take this reply."""
    if channel not in SOCIAL_SEND_CHANNELS:
        return
    name = NAMES[channel]
    if attachments:
        raise InvalidInput(
            _("%(channel)s: files cannot be sent on this channel yet. Send the text alone, "
              "or answer by e-mail.", channel=name)
        )  # fmt: skip
    if comment_thread(ticket, channel):  # a public reply: no window, the comment's limit
        if len(text) > COMMENT_TEXT_LIMITS[channel]:
            raise InvalidInput(
                _("The text is too long for %(channel)s (at most %(limit)s characters).",
                  channel=name, limit=COMMENT_TEXT_LIMITS[channel])
            )  # fmt: skip
        return
    if text_too_long(channel, text) or len(text) > TEXT_LIMITS[channel]:
        raise InvalidInput(
            _("The text is too long for %(channel)s (at most %(limit)s characters).",
              channel=name, limit=TEXT_LIMITS[channel])
        )  # fmt: skip
    recipient = ticket.customer.identity(SENDER_IDENTITY_KIND[channel])
    last = last_customer_message_at(ticket.customer_id, channel, recipient)
    try:
        messaging_tag(channel, last, now or utcnow(), human_agent=_human_agent())
    except OutsideWindow as error:
        raise InvalidInput(outside_window_text(channel, error)) from None


def outside_window_text(channel: str, error: OutsideWindow) -> str:
    name = NAMES[channel]
    if error.limit == HUMAN_AGENT_WINDOW:
        return _(
            "Cannot send: %(channel)s accepts a reply from a person only within 7 days of "
            "the customer's last message, and theirs is older. Answer on another channel, "
            "or wait until they write again.",
            channel=name,
        )
    return _(
        "Cannot send: outside the 24-hour window. %(channel)s accepts a reply only within "
        "24 hours of the customer's last message. Answer on another channel, or wait "
        "until they write again.",
        channel=name,
    )


def window_notice(ticket: Ticket, channel: str | None) -> str | None:
    """What the composer shows beside a social channel whose window has closed, or that
    answers a public comment; else None."""
    if comment_thread(ticket, channel):
        return public_reply_notice(channel)
    if channel not in WINDOWED:
        return None
    recipient = ticket.customer.identity(SENDER_IDENTITY_KIND[channel])
    last = last_customer_message_at(ticket.customer_id, channel, recipient)
    try:
        tag = messaging_tag(channel, last, utcnow(), human_agent=_human_agent())
    except OutsideWindow as error:
        return outside_window_text(channel, error)
    if tag:
        return _(
            "More than 24 hours since the customer's last %(channel)s message: the reply "
            "goes out as a person's answer (human agent tag), possible for 7 days.",
            channel=NAMES[channel],
        )
    return None


def public_reply_notice(channel: str) -> str:
    """The composer's warning on a public comment conversation."""
    return _(
        "Public comment on %(platform)s: your reply appears under the customer's comment, "
        "where everyone can read it. Write nothing personal (order numbers, addresses); "
        "for that, ask the customer to send a direct message or an e-mail.",
        platform="Facebook" if channel == "messenger" else NAMES[channel],
    )


def last_customer_message_at(
    customer_id: int, channel: str, counterpart: str | None
) -> datetime | None:
    """When the customer last wrote on `channel` (from `counterpart`, when given). Public
    comments do not count: they open no messaging window."""
    query = (
        select(func.max(Message.sent_at))
        .join(Ticket, Message.ticket_id == Ticket.id)
        .where(
            Ticket.customer_id == customer_id,
            Message.channel == channel,
            Message.direction == "inbound",
            or_(
                Message.thread_key.is_(None),
                ~Message.thread_key.startswith(COMMENT_THREAD_PREFIX, autoescape=True),
            ),
        )
    )
    if counterpart:
        query = query.where(Message.counterpart == counterpart)
    return db.session.scalar(query)


def _human_agent() -> bool:
    return bool(current_app.config.get("META_HUMAN_AGENT_TAG", True))


# --- the worker's send step -----------------------------------------------------------------


def adapter_config(channel: str) -> dict[str, Any] | None:
    """The adapter's settings from the app config, or None when the channel has no token
    (then its replies wait in the outbox until one is configured)."""
    config = current_app.config
    meta_base = config.get("META_API_BASE")
    version = config.get("META_GRAPH_VERSION")
    if channel == "messenger":
        token = config.get("META_PAGE_ACCESS_TOKEN")
        return _settings(token, api_base=meta_base, graph_version=version)
    if channel == "instagram":
        token = config.get("INSTAGRAM_ACCESS_TOKEN") or config.get("META_PAGE_ACCESS_TOKEN")
        return _settings(token, api_base=meta_base, graph_version=version)
    if channel == "whatsapp":
        return _settings(
            config.get("WHATSAPP_ACCESS_TOKEN"),
            api_base=config.get("WHATSAPP_API_BASE") or meta_base,
            graph_version=version,
            phone_number_id=config.get("WHATSAPP_PHONE_NUMBER_ID"),
        )
    if channel == "x":
        return _settings(config.get("X_ACCESS_TOKEN"), api_base=config.get("X_API_BASE"))
    return None


def _settings(token: str | None, **settings: Any) -> dict[str, Any] | None:
    return {"access_token": token, **settings} if token else None


def outbound_for(message: Message) -> OutboundMessage:
    """The reply as the adapter sends it: addressed to the customer's platform id, tagged
    when the window asks for it. `SendError` (not retryable) once the window has closed."""
    channel = message.channel
    if channel in COMMENT_TEXT_LIMITS and is_comment_thread(message.thread_key):
        return _comment_reply_for(message)
    ticket = message.ticket
    kind = SENDER_IDENTITY_KIND[channel]
    recipient = message.counterpart or ticket.customer.identity(kind)
    if not recipient:
        raise ConfigError(f"ticket {ticket.number}: the customer has no {NAMES[channel]} id")
    last = last_customer_message_at(ticket.customer_id, channel, recipient)
    try:
        tag = messaging_tag(channel, last, utcnow(), human_agent=_human_agent())
    except OutsideWindow as error:
        raise SendError(str(error), retryable=False) from None
    answered = _last_inbound(ticket, channel, recipient)
    return OutboundMessage(
        channel=channel,
        recipient=Identity(kind, recipient),
        text=message.text,
        message_id=message.external_id,
        # WhatsApp answers from the number the customer wrote to.
        sender=(answered.details or {}).get("recipient") if answered is not None else None,
        thread_key=message.thread_key,
        attachments=tuple(
            InboundAttachment(a.filename, a.content_type, a.size, a.sha256, a.data)
            for a in message.attachments
        ),
        headers={"messaging_tag": tag} if tag and channel in TAGGABLE else {},
    )


def _comment_reply_for(message: Message) -> OutboundMessage:
    """The reply as a public answer under the customer's latest comment of the
    conversation (on Instagram under its top-level comment: replies nest one level)."""
    if message.author_kind != "agent":
        # A rule's automatic answer may name an order or a tracking number: never in public.
        raise SendError(f"{NAMES[message.channel]}: automatic answers are not posted as public "
                        "comments; answer this comment yourself", retryable=False)  # fmt: skip
    comment = answered_comment(message.ticket, message.thread_key)
    if comment is None or not comment.counterpart:
        raise ConfigError(f"ticket {message.ticket.number}: no comment to answer")
    target = (comment.details or {}).get("reply_to") or comment.external_id
    return OutboundMessage(
        channel=message.channel,
        recipient=Identity(SENDER_IDENTITY_KIND[message.channel], comment.counterpart),
        text=message.text,
        message_id=message.external_id,
        thread_key=message.thread_key,
        attachments=tuple(
            InboundAttachment(a.filename, a.content_type, a.size, a.sha256, a.data)
            for a in message.attachments
        ),
        headers={REPLY_TO_COMMENT: target},
    )


def transmit(channel: str, outbound: OutboundMessage) -> str:
    """Send through the channel's adapter; the platform's id for the message comes back."""
    config = adapter_config(channel)
    if config is None:
        raise ConfigError(f"{NAMES[channel]}: no access token configured")
    return registry.create(channel, config).send(outbound)


#: The send API's health is kept on one ChannelState row per channel, under this name.
HEALTH_NAME = "send API"


def record_health(channel: str, error: str | None) -> None:
    """Note that sending on `channel` worked just now, or failed with `error`. The caller
    (the outbox worker) commits with the delivery's outcome."""
    state = db.session.scalar(
        select(ChannelState).where(ChannelState.kind == channel, ChannelState.name == HEALTH_NAME)
    )
    if state is None:
        state = ChannelState(kind=channel, name=HEALTH_NAME, config={}, state={})
        db.session.add(state)
    now = utcnow()
    if error is None:
        state.last_success_at = now
        state.last_error = None
    else:
        state.last_error = error[:2000]
        state.last_error_at = now


def _last_inbound(ticket: Ticket, channel: str, counterpart: str) -> Message | None:
    return db.session.scalars(
        select(Message)
        .where(
            Message.ticket_id == ticket.id,
            Message.channel == channel,
            Message.direction == "inbound",
            Message.counterpart == counterpart,
        )
        .order_by(Message.id.desc())
        .limit(1)
    ).first()
