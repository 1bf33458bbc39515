"""WhatsApp Cloud API: webhook bodies in, text replies out.

Webhook body:

    {"object": "whatsapp_business_account", "entry": [{"id": "<WABA id>", "changes": [
      {"field": "messages", "value": {
         "messaging_product": "whatsapp",
         "metadata": {"display_phone_number": "...", "phone_number_id": "..."},
         "contacts": [{"profile": {"name": "..."}, "wa_id": "4917..."}],
         "messages": [{"from": "4917...", "id": "wamid...", "timestamp": "1700000000",
                       "type": "text", "text": {"body": "..."}}],
         "statuses": [{"id": "wamid...", "status": "delivered", "timestamp": "...",
                       "recipient_id": "4917...", "errors": [...]}]}}]}]}

Messages of every type become text an agent can read (media as a labelled reference
to Meta's media id, not downloaded; locations, contacts, button and list replies,
orders); reactions, deletions, edits and system notices are skipped with the reason.
`statuses` are receipts for what we sent (sent, delivered, read, failed).
`smb_message_echoes` (messages the business sent from the WhatsApp Business app) are
echoes. The sender is a phone number: the identity a phone call from them shares.

Sending: POST {api_base}/{version}/{phone-number-id}/messages with a Bearer token and
{"messaging_product": "whatsapp", "recipient_type": "individual", "to": "<wa_id>",
"type": "text", "text": {"preview_url": false, "body": "..."}}.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from channel_adapters.base import (
    ChannelAdapter,
    ConfigError,
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
    from_seconds,
    load_object,
    post_json,
    required_text,
    translated,
)
from channel_adapters.social.meta import DEFAULT_API_BASE, DEFAULT_GRAPH_VERSION

CHANNEL = "whatsapp"
TEXT_LIMIT = 4096
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
SKIPPED_TYPES = {
    "reaction": "reactions are not messages",
    "revoke": "the customer deleted a message (kept as it was)",
    "edit": "edits keep the message as first received",
    "system": "a system notice (number or identity changed)",
    "request_welcome": "the customer opened the chat without writing",
}
RECEIPT_STATUSES = {"sent": "sent", "delivered": "delivered", "read": "read",
                    "played": "read", "failed": "failed"}  # fmt: skip


@translated
def parse_whatsapp(raw: bytes) -> SocialDelivery:
    """Everything a WhatsApp Cloud API webhook body says; `ParseError` if unreadable."""
    body = load_object(raw)
    if body.get("object") != "whatsapp_business_account":
        raise ParseError(
            f'"object" must be "whatsapp_business_account", not {body.get("object")!r}'
        )
    found = DeliveryBuilder(topic="whatsapp_business_account")
    for index, entry in enumerate(as_list(body.get("entry"), "entry")):
        entry = as_dict(entry, f"entry[{index}]")
        for number, change in enumerate(as_list(entry.get("changes"), f"entry[{index}].changes")):
            where = f"entry[{index}].changes[{number}]"
            change = as_dict(change, where)
            field = change.get("field")
            value = as_dict(change.get("value"), f"{where}.value")
            if field == "messages":
                _messages(found, value, where)
            elif field == "smb_message_echoes":
                for echo in as_list(value.get("message_echoes"), f"{where}.message_echoes"):
                    echo = as_dict(echo, where)
                    found.echoes.append(
                        Echo(CHANNEL, required_text(echo, "id", where), "+" + str(echo.get("to")),
                             _text_of(echo, where)[0])
                    )  # fmt: skip
            else:
                found.skip(CHANNEL, f"change:{field}", "an account notice, not a conversation")
    return found.build()


def _messages(found: DeliveryBuilder, value: dict, where: str) -> None:
    meta = as_dict(value.get("metadata"), f"{where}.value.metadata")
    number_id = str(meta.get("phone_number_id") or "")
    names = {}
    for contact in as_list(value.get("contacts"), f"{where}.value.contacts"):
        contact = as_dict(contact, f"{where}.value.contacts")
        profile = as_dict(contact.get("profile"), f"{where}.value.contacts.profile")
        if contact.get("wa_id") and profile.get("name"):
            names[str(contact["wa_id"])] = str(profile["name"])
    for number, message in enumerate(as_list(value.get("messages"), f"{where}.value.messages")):
        here = f"{where}.value.messages[{number}]"
        found.take(CHANNEL, message, here, _message, found, message, number_id, names, here)
    for number, status in enumerate(as_list(value.get("statuses"), f"{where}.value.statuses")):
        here = f"{where}.value.statuses[{number}]"
        found.take(CHANNEL, status, here, _status, found, status, here)
    for error in as_list(value.get("errors"), f"{where}.value.errors"):
        found.skip(CHANNEL, "error", f"WhatsApp reports: {_error_text([error])}")


def _message(found: DeliveryBuilder, message: Any, number_id: str, names: dict, where: str):
    message = as_dict(message, where)
    kind = str(message.get("type") or "unknown")
    if kind in SKIPPED_TYPES:
        found.skip(CHANNEL, kind, SKIPPED_TYPES[kind])
        return
    sender = required_text(message, "from", where)
    text, metadata = _text_of(message, where)
    context = message.get("context") if isinstance(message.get("context"), dict) else {}
    if context.get("id"):
        metadata["reply_to"] = str(context["id"])
    if context.get("forwarded") or context.get("frequently_forwarded"):
        metadata["forwarded"] = True
    if isinstance(message.get("referral"), dict):
        metadata["referral"] = {k: message["referral"].get(k)
                                for k in ("source_url", "source_type", "headline")}  # fmt: skip
    found.messages.append(
        InboundMessage(
            channel=CHANNEL,
            external_id=required_text(message, "id", where),
            sender=Identity("phone", "+" + sender, names.get(sender)),
            text=text,
            sent_at=from_seconds(message.get("timestamp"), f"{where}.timestamp"),
            thread_key=f"{number_id}:{sender}",
            recipient=number_id or None,
            raw=compact_json(message),
            raw_content_type="application/json",
            metadata={"platform": CHANNEL, "type": kind, **metadata},
        )
    )


def _text_of(message: dict, where: str) -> tuple[str, dict[str, Any]]:
    """What the customer sent, as text an agent can read, and what else to keep."""
    kind = str(message.get("type") or "unknown")
    part = message.get(kind) if isinstance(message.get(kind), dict) else {}
    if kind == "text":
        return str(part.get("body") or ""), {}
    if kind in MEDIA_TYPES:
        label = "voice message" if part.get("voice") else kind
        name = f" {part['filename']}" if part.get("filename") else ""
        lines = [str(part["caption"])] if part.get("caption") else []
        lines.append(f"[{label}{name}] ({part.get('mime_type') or 'unknown type'}, "
                     f"WhatsApp media {part.get('id')}, not downloaded)")  # fmt: skip
        media = {k: part.get(k) for k in ("id", "mime_type", "filename") if part.get(k)}
        if part.get("sha256"):
            media["sha256"] = _hex(str(part["sha256"]))
        return "\n".join(lines), {"media": media}
    if kind == "location":
        place = ", ".join(str(part[k]) for k in ("name", "address") if part.get(k))
        where_ = f"{part.get('latitude')}, {part.get('longitude')}"
        return f"[location] {place} ({where_})" if place else f"[location] {where_}", {}
    if kind == "contacts":
        people = []
        for contact in as_list(message.get("contacts"), f"{where}.contacts"):
            contact = contact if isinstance(contact, dict) else {}
            name = as_dict(contact.get("name"), f"{where}.contacts.name").get("formatted_name")
            name = name or "?"
            phones = ", ".join(str(p.get("phone")) for p in contact.get("phones") or []
                               if isinstance(p, dict))  # fmt: skip
            people.append(f"[contact] {name} {phones}".rstrip())
        return "\n".join(people), {}
    if kind == "button":
        return str(part.get("text") or ""), {"quick_reply": part.get("payload")}
    if kind == "interactive":
        for reply_kind in ("button_reply", "list_reply"):
            reply = part.get(reply_kind)
            if isinstance(reply, dict):
                text = " – ".join(str(reply[k]) for k in ("title", "description") if reply.get(k))
                return text, {"quick_reply": reply.get("id")}
        form = part.get("nfm_reply")
        if isinstance(form, dict):  # a WhatsApp Flow (form) the customer completed
            return f"[form: {form.get('name') or 'flow'}] {form.get('response_json') or ''}", {}
        return f"[{part.get('type') or 'interactive'}]", {}
    if kind == "order":
        items = [i for i in part.get("product_items") or [] if isinstance(i, dict)]
        listing = ", ".join(f"{i.get('quantity')} × {i.get('product_retailer_id')}" for i in items)
        lines = [str(part["text"])] if part.get("text") else []
        lines.append(f"[order] {listing}")
        return "\n".join(lines), {"order": {"catalog_id": part.get("catalog_id"), "items": items}}
    # "unsupported" and types newer than this parser: the customer wrote something.
    problem = _error_text(message.get("errors"))
    return f"[{kind} message: open it in WhatsApp]", ({"error": problem} if problem else {})


def _status(found: DeliveryBuilder, status: Any, where: str) -> None:
    status = as_dict(status, where)
    state = RECEIPT_STATUSES.get(str(status.get("status")))
    if state is None:
        found.skip(CHANNEL, f"status:{status.get('status')}", "a status we do not use")
        return
    found.receipts.append(
        Receipt(
            CHANNEL,
            state,
            from_seconds(status.get("timestamp"), f"{where}.timestamp"),
            "+" + str(status.get("recipient_id") or ""),
            message_id=required_text(status, "id", where),
            error=_error_text(status.get("errors")) or None,
        )
    )


def _error_text(errors: Any) -> str:
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return ""
    first = errors[0]
    details = (first.get("error_data") or {}).get("details") if isinstance(
        first.get("error_data"), dict) else None  # fmt: skip
    parts = [str(first.get("title") or first.get("message") or "error")]
    if first.get("code"):
        parts.append(f"code {first['code']}")
    if details:
        parts.append(str(details))
    return ", ".join(parts)


def _hex(value: str) -> str:
    """WhatsApp gives a media file's SHA-256 in base64; we keep hex like everywhere else."""
    try:
        return base64.b64decode(value, validate=False).hex()[:64]
    except (binascii.Error, ValueError):
        return ""


# --- sending ---------------------------------------------------------------------------------


def send_request(message: OutboundMessage) -> dict[str, Any]:
    """The Cloud API body for a text reply to `message.recipient` (a phone number)."""
    if message.attachments:
        raise SendError("whatsapp: attachments cannot be sent yet", retryable=False)
    if len(message.text) > TEXT_LIMIT:
        raise SendError(f"whatsapp: the text is longer than {TEXT_LIMIT} characters",
                        retryable=False)  # fmt: skip
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.recipient.value.lstrip("+"),
        "type": "text",
        "text": {"preview_url": False, "body": message.text},
    }


@registry.register
class WhatsAppAdapter(ChannelAdapter):
    """Parse Cloud API webhook bodies; send text from the number the customer wrote to."""

    kind = CHANNEL
    config_schema = (
        ConfigField("access_token", secret=True, help="a system user's access token"),
        ConfigField("phone_number_id", required=False, help="the sender when none is known"),
        ConfigField("api_base", required=False, help=DEFAULT_API_BASE),
        ConfigField("graph_version", required=False, help=DEFAULT_GRAPH_VERSION),
    )

    def parse(self, raw: bytes) -> Sequence[InboundMessage]:
        return list(parse_whatsapp(raw).messages)

    def send(self, message: OutboundMessage) -> str:
        """Send and return the wamid that the status webhooks will name."""
        number_id = message.sender or self.config.get("phone_number_id")
        if not number_id:
            raise ConfigError("whatsapp: no phone number id to send from "
                              "(set HELPDESK_WHATSAPP_PHONE_NUMBER_ID)")  # fmt: skip
        base = (self.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        version = self.config.get("graph_version") or DEFAULT_GRAPH_VERSION
        answer = post_json(
            f"{base}/{version}/{number_id}/messages",
            send_request(message),
            headers={"Authorization": f"Bearer {self.config['access_token']}"},
            platform="WhatsApp",
        )
        sent = answer.get("messages")
        if not isinstance(sent, list) or not sent or not isinstance(sent[0], dict):
            raise SendError(f"whatsapp: the answer names no message id: {answer}")
        return str(sent[0].get("id"))
