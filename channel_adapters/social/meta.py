"""Messenger and Instagram DMs through Meta's Messenger Platform.

Webhook body (`object` "page" for Messenger, "instagram" for Instagram):

    {"object": "page", "entry": [{"id": "<page id>", "time": 1700000000000,
      "messaging": [{"sender": {"id": "<PSID>"}, "recipient": {"id": "<page id>"},
                     "timestamp": 1700000000000,
                     "message": {"mid": "m_...", "text": "...",
                                 "attachments": [{"type": "image", "payload": {"url": "..."}}],
                                 "quick_reply": {"payload": "..."},
                                 "reply_to": {"story": {"id": "...", "url": "..."}}}}]}]}

One `messaging` item carries one of: `message` (from the customer; with `is_echo` it is
one the page sent, reported back), `delivery` (mids and a watermark), `read` (a
watermark on Messenger, a mid on Instagram), `postback` (a button tapped), or an event
we do not use (reactions, referrals, opt-ins, handover...), which is skipped with its
name. `standby` items (another app owns the thread) are skipped too. `changes` carry
public comments on the page's posts and the account's media: see `meta_comments`.
Instagram story replies carry `reply_to.story`; story mentions arrive as an attachment of
type `story_mention`. Media stay at Meta's CDN: the link is kept with the message (Meta
asks not to store story media), nothing is downloaded.

Sending: POST {api_base}/{version}/me/messages with the page access token as a Bearer
token, {"recipient": {"id"}, "messaging_type": "RESPONSE", "message": {"text"}}; outside
the 24-hour window "MESSAGE_TAG" with "tag": "HUMAN_AGENT" (see `common.messaging_tag`).
A reply to a public comment goes to the comment instead (`meta_comments`).
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
    ParseError,
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
)
from channel_adapters.social.meta_comments import (
    REPLY_TO_COMMENT,
    comment_reply_request,
    take_change,
)

OBJECTS = {"page": "messenger", "instagram": "instagram"}
DEFAULT_API_BASE = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v21.0"
#: The longest text each platform accepts in one message (Messenger: 2,000 characters;
#: Instagram: 1,000 bytes of UTF-8).
TEXT_LIMITS = {"messenger": 2000, "instagram": 1000}
#: Messaging events we acknowledge without storing, and why.
IGNORED_EVENTS = {
    "reaction": "reactions are not messages",
    "referral": "an ad or link referral without a message",
    "optin": "an opt-in without a message",
    "account_linking": "account linking is not used",
    "policy_enforcement": "a policy notice from Meta (logged)",
    "message_edit": "edits keep the message as first received",
    "pass_thread_control": "handover between apps",
    "take_thread_control": "handover between apps",
    "request_thread_control": "handover between apps",
    "app_roles": "handover roles",
    "game_play": "games are not used",
}
_ENVELOPE = ("sender", "recipient", "timestamp")


@translated
def parse_meta(raw: bytes) -> SocialDelivery:
    """Everything a Messenger or Instagram webhook body says; `ParseError` if unreadable."""
    body = load_object(raw)
    kind = body.get("object")
    if not isinstance(kind, str) or kind not in OBJECTS:
        raise ParseError(f'"object" must be "page" or "instagram", not {kind!r}')
    channel = OBJECTS[kind]
    found = DeliveryBuilder(topic=kind)
    for index, entry in enumerate(as_list(body.get("entry"), "entry")):
        where = f"entry[{index}]"
        entry = as_dict(entry, where)
        account = str(entry.get("id") or "")
        for number, event in enumerate(as_list(entry.get("messaging"), f"{where}.messaging")):
            here = f"{where}.messaging[{number}]"
            found.take(channel, event, here, _event, found, channel, account, event, here)
        for _standby in as_list(entry.get("standby"), f"{where}.standby"):
            found.skip(channel, "standby", "another app owns this conversation (handover)")
        for number, change in enumerate(as_list(entry.get("changes"), f"{where}.changes")):
            here = f"{where}.changes[{number}]"
            found.take(channel, change, here, take_change, found, channel, account, entry,
                       change, here)  # fmt: skip
    return found.build()


def _event(found: DeliveryBuilder, channel: str, account: str, event: Any, where: str) -> None:
    event = as_dict(event, where)
    kind = next((key for key in event if key not in _ENVELOPE), None)
    if kind is None:
        found.skip(channel, "empty", f"{where} names no event")
        return
    if kind == "message":
        _message(found, channel, account, event, where)
    elif kind in ("delivery", "read"):
        _receipt(found, channel, event, kind, where)
    elif kind == "postback":
        _postback(found, channel, account, event, where)
    else:
        reason = IGNORED_EVENTS.get(kind, "an event type we do not know")
        found.skip(channel, kind, reason, known=kind in IGNORED_EVENTS)


def _message(found: DeliveryBuilder, channel: str, account: str, event: dict, where: str) -> None:
    message = as_dict(event.get("message"), f"{where}.message")
    mid = required_text(message, "mid", f"{where}.message")
    sender = required_text(as_dict(event.get("sender"), where), "id", f"{where}.sender")
    recipient = str(as_dict(event.get("recipient"), where).get("id") or "")
    if message.get("is_echo"):
        # Sent by the page: the customer is the recipient. Ours carry our id as metadata.
        found.echoes.append(
            Echo(channel, mid, recipient, str(message.get("text") or ""),
                 str(message["metadata"]) if message.get("metadata") else None)
        )  # fmt: skip
        return
    if message.get("is_deleted"):
        found.skip(channel, "message_deleted", "the customer deleted a message (kept as it was)")
        return
    text, metadata = _content(message, where)
    found.messages.append(
        InboundMessage(
            channel=channel,
            external_id=mid,
            sender=Identity(channel, sender),
            text=text,
            sent_at=from_millis(event.get("timestamp"), f"{where}.timestamp"),
            thread_key=f"{account or recipient}:{sender}",
            recipient=account or recipient or None,
            raw=compact_json(event),
            raw_content_type="application/json",
            metadata={"platform": channel, **metadata},
        )
    )


def _content(message: dict, where: str) -> tuple[str, dict[str, Any]]:
    """The text an agent reads (attachments as labelled links) and what else to keep."""
    lines = [str(message["text"])] if message.get("text") else []
    metadata: dict[str, Any] = {}
    if message.get("is_unsupported"):
        lines.append("[unsupported message: open it in the app]")
        metadata["unsupported"] = True
    quick = message.get("quick_reply")
    if isinstance(quick, dict) and quick.get("payload"):
        metadata["quick_reply"] = str(quick["payload"])
    reply_to = as_dict(message.get("reply_to"), f"{where}.message.reply_to")
    story = as_dict(reply_to.get("story"), f"{where}.message.reply_to.story")
    if story:
        metadata["story"] = {"kind": "reply", "id": story.get("id"), "url": story.get("url")}
        lines.append(f"[story reply] {story.get('url') or ''}".rstrip())
    elif reply_to.get("mid"):
        metadata["reply_to"] = str(reply_to["mid"])
    attachments = []
    for number, item in enumerate(as_list(message.get("attachments"), f"{where}.attachments")):
        item = as_dict(item, f"{where}.attachments[{number}]")
        kind = str(item.get("type") or "file")
        payload = item.get("payload") if isinstance(item.get("payload"), dict) else {}
        link = payload.get("url") or payload.get("title") or ""
        attachments.append({"type": kind, "url": payload.get("url")})
        if kind == "story_mention":
            metadata["story"] = {"kind": "mention", "url": payload.get("url")}
            lines.append(f"[story mention] {link}".rstrip())
        else:
            lines.append(f"[{kind}] {link}".rstrip())
    if attachments:
        metadata["attachments"] = attachments
    return "\n".join(lines), metadata


def _receipt(found: DeliveryBuilder, channel: str, event: dict, kind: str, where: str) -> None:
    data = as_dict(event.get(kind), f"{where}.{kind}")
    customer = str(as_dict(event.get("sender"), where).get("id") or "")
    status = "delivered" if kind == "delivery" else "read"
    at = from_millis(event.get("timestamp") or data.get("watermark"), f"{where}.timestamp")
    watermark = (
        from_millis(data["watermark"], f"{where}.watermark") if data.get("watermark") else None
    )
    mids = [str(m) for m in as_list(data.get("mids"), f"{where}.{kind}.mids") if m]
    if data.get("mid"):
        mids.append(str(data["mid"]))
    for mid in mids:
        found.receipts.append(Receipt(channel, status, at, customer, message_id=mid))
    if watermark is not None:
        found.receipts.append(Receipt(channel, status, at, customer, watermark=watermark))
    if not mids and watermark is None:
        found.skip(channel, kind, "a receipt that names no message")


def _postback(found: DeliveryBuilder, channel: str, account: str, event: dict, where: str) -> None:
    """A button the customer tapped: a message in their words when the platform gives it an id."""
    postback = as_dict(event.get("postback"), f"{where}.postback")
    if not postback.get("mid"):
        found.skip(channel, "postback", "a button tap without a message id")
        return
    answer = {"payload": postback.get("payload")}
    message = {"mid": postback["mid"], "text": postback.get("title") or "", "quick_reply": answer}
    synthetic = {**event, "message": message}
    synthetic.pop("postback")
    _message(found, channel, account, synthetic, where)


# --- sending ---------------------------------------------------------------------------------


def send_request(message: OutboundMessage) -> dict[str, Any]:
    """The Send API body for `message`; `headers["messaging_tag"]` asks for a message tag."""
    if message.attachments:
        raise SendError(f"{message.channel}: attachments cannot be sent yet", retryable=False)
    body: dict[str, Any] = {
        "recipient": {"id": message.recipient.value},
        "messaging_type": "RESPONSE",
        "message": {"text": message.text},
    }
    tag = message.headers.get("messaging_tag")
    if tag:
        body["messaging_type"] = "MESSAGE_TAG"
        body["tag"] = tag
    if message.channel == "messenger":
        # Comes back in the echo, so the echo is recognised as this reply.
        body["message"]["metadata"] = message.message_id[:1000]
    return body


def text_too_long(channel: str, text: str) -> bool:
    limit = TEXT_LIMITS.get(channel)
    if limit is None:
        return False
    return len(text.encode()) > limit if channel == "instagram" else len(text) > limit


class _MetaAdapter(ChannelAdapter):
    """Parse Meta webhook bodies; send through the Send API with the page access token."""

    config_schema = (
        ConfigField("access_token", secret=True, help="the page access token"),
        ConfigField("api_base", required=False, help=DEFAULT_API_BASE),
        ConfigField("graph_version", required=False, help=DEFAULT_GRAPH_VERSION),
    )

    def parse(self, raw: bytes) -> Sequence[InboundMessage]:
        return [m for m in parse_meta(raw).messages if m.channel == self.kind]

    def send(self, message: OutboundMessage) -> str:
        """Send and return Meta's message id (the `mid` its echo and receipts will name),
        or, for a public reply to a comment, the new comment's id."""
        base = (self.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        version = self.config.get("graph_version") or DEFAULT_GRAPH_VERSION
        if message.headers.get(REPLY_TO_COMMENT):
            return self._reply_to_comment(f"{base}/{version}", message)
        if text_too_long(message.channel, message.text):
            raise SendError(f"{message.channel}: the text is longer than "
                            f"{TEXT_LIMITS[message.channel]} allows", retryable=False)  # fmt: skip
        answer = post_json(
            f"{base}/{version}/me/messages",
            send_request(message),
            headers={"Authorization": f"Bearer {self.config['access_token']}"},
            platform=self.kind.title(),
        )
        mid = answer.get("message_id")
        if not mid:
            raise SendError(f"{self.kind}: the answer names no message_id: {answer}")
        return str(mid)

    def _reply_to_comment(self, root: str, message: OutboundMessage) -> str:
        path, body = comment_reply_request(message)
        answer = post_json(
            f"{root}/{path}",
            body,
            headers={"Authorization": f"Bearer {self.config['access_token']}"},
            platform=self.kind.title(),
        )
        if not answer.get("id"):
            raise SendError(f"{self.kind}: the answer names no comment id: {answer}")
        return str(answer["id"])


@registry.register
class MessengerAdapter(_MetaAdapter):
    kind = "messenger"


@registry.register
class InstagramAdapter(_MetaAdapter):
    kind = "instagram"
