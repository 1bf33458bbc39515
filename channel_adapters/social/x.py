"""X (Twitter) direct messages through the Account Activity API's webhook.

The CRC check: a GET with `crc_token` is answered {"response_token": "sha256=" +
base64(HMAC-SHA256(consumer secret, crc_token))}; every POST carries
`x-twitter-webhooks-signature` computed the same way over the raw body. Body:

    {"for_user_id": "<our account>",
     "direct_message_events": [{"type": "message_create", "id": "<event id>",
        "created_timestamp": "1700000000000",
        "message_create": {"target": {"recipient_id": "..."}, "sender_id": "...",
                           "message_data": {"text": "...", "attachment": {...}}}}],
     "users": {"<id>": {"id": "...", "name": "...", "screen_name": "..."}}}

A DM our own account sent (`sender_id` == `for_user_id`) is an echo. Read receipts
(`direct_message_mark_read_events`) are receipts; typing indicators, posts, likes,
follows and the rest are skipped by name.

Sending: POST {api_base}/2/dm_conversations/with/{participant_id}/messages {"text"} with
the account's OAuth 2.0 user access token as Bearer; the answer names the dm_event_id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from channel_adapters.base import (
    ChannelAdapter,
    ConfigField,
    Identity,
    InboundMessage,
    OutboundMessage,
    SendError,
    registry,
)
from channel_adapters.social.common import (
    DeliveryBuilder,
    Echo,
    Receipt,
    SocialDelivery,
    as_dict,
    as_list,
    compact_json,
    from_millis,
    load_object,
    post_json,
    required_text,
    translated,
    x_signature,
)

CHANNEL = "x"
DEFAULT_API_BASE = "https://api.x.com"
TEXT_LIMIT = 10000
#: Account activity that is not a DM: posts, likes, follows... (acknowledged, not stored).
_OTHER_ACTIVITY = frozenset({
    "tweet_create_events", "tweet_delete_events", "favorite_events", "follow_events",
    "unfollow_events", "block_events", "unblock_events", "mute_events", "unmute_events",
})  # fmt: skip
_EVENT_LISTS = ("direct_message_events", "direct_message_mark_read_events",
                "direct_message_indicate_typing_events")  # fmt: skip


def crc_response(consumer_secret: str, crc_token: str) -> dict[str, str]:
    """The answer to X's challenge-response check."""
    return {"response_token": x_signature(consumer_secret, crc_token.encode())}


@translated
def parse_x(raw: bytes) -> SocialDelivery:
    """Everything an Account Activity webhook body says; `ParseError` if unreadable."""
    body = load_object(raw)
    account = str(body.get("for_user_id") or "")
    users = as_dict(body.get("users"), "users")
    found = DeliveryBuilder(topic="account_activity")
    dms = as_list(body.get("direct_message_events"), "direct_message_events")
    for index, event in enumerate(dms):
        where = f"direct_message_events[{index}]"
        found.take(CHANNEL, event, where, _dm, found, event, account, users, where)
    reads = as_list(body.get("direct_message_mark_read_events"), "direct_message_mark_read_events")
    for index, event in enumerate(reads):
        where = f"direct_message_mark_read_events[{index}]"
        found.take(CHANNEL, event, where, _read, found, event, where)
    for _ in as_list(body.get("direct_message_indicate_typing_events"), "typing events"):
        found.skip(CHANNEL, "typing", "typing indicators are not stored")
    for key in body:
        if key.endswith("_events") and key not in _EVENT_LISTS:
            found.skip(CHANNEL, key, "not a direct message", known=key in _OTHER_ACTIVITY)
        elif key == "user_event":
            found.skip(CHANNEL, key, "an account notice (e.g. a revoked subscription)")
    return found.build()


def _read(found: DeliveryBuilder, event: Any, where: str) -> None:
    event = as_dict(event, where)
    found.receipts.append(
        Receipt(CHANNEL, "read", from_millis(event.get("created_timestamp"), where),
                str(event.get("sender_id") or ""),
                message_id=required_text(event, "last_read_event_id", where))
    )  # fmt: skip


def _dm(found: DeliveryBuilder, event: Any, account: str, users: dict, where: str) -> None:
    event = as_dict(event, where)
    if event.get("type") != "message_create":
        found.skip(CHANNEL, f"dm:{event.get('type')}", "a DM event that is not a message")
        return
    event_id = required_text(event, "id", where)
    create = as_dict(event.get("message_create"), f"{where}.message_create")
    sender = required_text(create, "sender_id", f"{where}.message_create")
    recipient = str(as_dict(create.get("target"), where).get("recipient_id") or "")
    data = as_dict(create.get("message_data"), f"{where}.message_data")
    text, metadata = _content(data)
    if account and sender == account:
        found.echoes.append(Echo(CHANNEL, event_id, recipient, text))
        return
    person = users.get(sender) if isinstance(users.get(sender), dict) else {}
    metadata.update({k: person[k] for k in ("screen_name",) if person.get(k)})
    found.messages.append(
        InboundMessage(
            channel=CHANNEL,
            external_id=event_id,
            sender=Identity("x", sender, person.get("name") or None),
            text=text,
            sent_at=from_millis(event.get("created_timestamp"), f"{where}.created_timestamp"),
            # X names a one-to-one conversation by both ids, the smaller first.
            thread_key="-".join(sorted((sender, recipient or account), key=_as_number)),
            recipient=account or recipient or None,
            raw=compact_json(event),
            raw_content_type="application/json",
            metadata={"platform": CHANNEL, **metadata},
        )
    )


def _content(data: dict) -> tuple[str, dict[str, Any]]:
    lines = [str(data["text"])] if data.get("text") else []
    metadata: dict[str, Any] = {}
    attachment = data.get("attachment") if isinstance(data.get("attachment"), dict) else {}
    media = attachment.get("media") if isinstance(attachment.get("media"), dict) else {}
    if media:
        url = media.get("media_url_https") or media.get("url") or ""
        kind = media.get("type") or "media"
        metadata["attachments"] = [{"type": kind, "url": url}]
        # The text ends with the media's t.co link; the label says what it is.
        lines.append(f"[{kind}] {url}".rstrip())
    quick = data.get("quick_reply_response")
    if isinstance(quick, dict) and quick.get("metadata"):
        metadata["quick_reply"] = str(quick["metadata"])
    return "\n".join(lines), metadata


def _as_number(value: str) -> tuple[int, str]:
    return (int(value), value) if value.isdigit() else (0, value)


# --- sending ---------------------------------------------------------------------------------


@registry.register
class XAdapter(ChannelAdapter):
    """Parse Account Activity bodies; send DMs through the v2 Direct Messages API."""

    kind = CHANNEL
    config_schema = (
        ConfigField("access_token", secret=True, help="OAuth 2.0 user access token (dm.write)"),
        ConfigField("api_base", required=False, help=DEFAULT_API_BASE),
    )

    def parse(self, raw: bytes) -> Sequence[InboundMessage]:
        return list(parse_x(raw).messages)

    def send(self, message: OutboundMessage) -> str:
        """Send and return the dm_event_id (the id the webhook's echo will carry)."""
        if message.attachments:
            raise SendError("x: attachments cannot be sent yet", retryable=False)
        if len(message.text) > TEXT_LIMIT:
            raise SendError(f"x: the text is longer than {TEXT_LIMIT} characters",
                            retryable=False)  # fmt: skip
        base = (self.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        answer = post_json(
            f"{base}/2/dm_conversations/with/{message.recipient.value}/messages",
            {"text": message.text},
            headers={"Authorization": f"Bearer {self.config['access_token']}"},
            platform="X",
        )
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        if not data.get("dm_event_id"):
            raise SendError(f"x: the answer names no dm_event_id: {answer}")
        return str(data["dm_event_id"])
