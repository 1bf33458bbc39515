"""What the social platforms share: signed webhooks, the parsed delivery, the messaging
window, and one JSON POST to a send API with its errors translated.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from channel_adapters.base import AdapterError, InboundMessage, ParseError, SendError

log = logging.getLogger(__name__)

#: How long a send API may take before the attempt counts as failed (and is retried).
SEND_TIMEOUT_SECONDS = 15


# --- signatures ---------------------------------------------------------------------------


def hub_signature(secret: str, raw: bytes) -> str:
    """Meta's X-Hub-Signature-256 header for `raw`: "sha256=" + hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def hub_signature_matches(secret: str, raw: bytes, header: str | None) -> bool:
    """Whether `header` signs `raw` with the app secret, compared in constant time.

    Meta signs the body's bytes as sent (with its escaped Unicode), so the check runs
    on the raw body, before anything parses it.
    """
    expected = hub_signature(secret, raw).encode()
    return hmac.compare_digest(expected, (header or "").strip().lower().encode("utf-8", "replace"))


def x_signature(consumer_secret: str, data: bytes) -> str:
    """X's signature of a body or a CRC token: "sha256=" + base64 HMAC-SHA256."""
    digest = hmac.new(consumer_secret.encode(), data, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def x_signature_matches(consumer_secret: str, raw: bytes, header: str | None) -> bool:
    """Whether `x-twitter-webhooks-signature` signs `raw`, compared in constant time."""
    expected = x_signature(consumer_secret, raw).encode()
    return hmac.compare_digest(expected, (header or "").strip().encode("utf-8", "replace"))


def verify_token_matches(expected: str, given: str | None) -> bool:
    """The GET handshake's hub.verify_token, compared in constant time."""
    return hmac.compare_digest(expected.encode(), (given or "").encode("utf-8", "replace"))


# --- what a delivery contains ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Receipt:
    """The platform says a message we sent was delivered, read or failed.

    Either `message_id` names it, or (Messenger) `watermark` says "everything sent to
    `counterpart` up to this time".
    """

    channel: str
    status: str  # "sent", "delivered", "read", "failed"
    at: datetime
    counterpart: str
    message_id: str | None = None
    watermark: datetime | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Echo:
    """A message the business account sent, reported back; ours when `reference` names it."""

    channel: str
    message_id: str
    counterpart: str
    text: str
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    """An event we acknowledge without storing, with the reason (logged)."""

    channel: str
    kind: str
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """One event of a readable body that could not be read itself: kept (quarantined)
    with the reason, while the body's other events are stored."""

    channel: str
    raw: bytes
    reason: str


@dataclass(frozen=True, slots=True)
class SocialDelivery:
    """Everything one webhook body says, sorted by what the helpdesk does with it."""

    messages: tuple[InboundMessage, ...] = ()
    echoes: tuple[Echo, ...] = ()
    receipts: tuple[Receipt, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    topic: str = ""
    rejected: tuple[Rejected, ...] = ()

    def summary(self) -> dict[str, Any]:
        """Counts for the webhook's answer and the delivery record."""
        skipped: dict[str, int] = {}
        for item in self.skipped:
            skipped[item.kind] = skipped.get(item.kind, 0) + 1
        return {
            "messages": len(self.messages),
            "echoes": len(self.echoes),
            "receipts": len(self.receipts),
            "skipped": skipped,
            "rejected": len(self.rejected),
        }


@dataclass
class DeliveryBuilder:
    """Collects what a parser finds; `build()` freezes it."""

    topic: str
    messages: list[InboundMessage] = field(default_factory=list)
    echoes: list[Echo] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def skip(self, channel: str, kind: str, reason: str, *, known: bool = True) -> None:
        """Acknowledge an event without storing it. One we do not know at all is logged
        as a warning: the platform may have started sending something worth handling."""
        log.log(logging.INFO if known else logging.WARNING,
                "%s webhook: %s skipped: %s", channel, kind, reason)  # fmt: skip
        self.skipped.append(Skipped(channel, kind, reason))

    def take(self, channel: str, event: Any, where: str, handle: Callable, *args: Any) -> None:
        """`handle(*args)` for one event. An event it cannot read is set aside with the
        reason instead of failing the body: the platform would send the same body again
        and again, and its readable events would never be stored."""
        try:
            handle(*args)
        except (
            ParseError,
            TypeError,
            AttributeError,
            KeyError,
            ValueError,
            OverflowError,
        ) as error:
            reason = str(error) if str(error).startswith(where) else f"{where}: {error}"
            log.warning("%s webhook: event rejected: %s", channel, reason)
            self.rejected.append(Rejected(channel, compact_json(event), reason))

    def build(self) -> SocialDelivery:
        return SocialDelivery(
            tuple(self.messages),
            tuple(self.echoes),
            tuple(self.receipts),
            tuple(self.skipped),
            self.topic,
            tuple(self.rejected),
        )


def translated(parse: Callable[[bytes], SocialDelivery]) -> Callable[[bytes], SocialDelivery]:
    """Any surprise deep inside a body the platform never documented (a number where an
    object belongs) becomes a `ParseError` naming it, so the caller quarantines the body
    instead of failing with a server error the platform would retry for days."""

    @functools.wraps(parse)
    def wrapper(raw: bytes) -> SocialDelivery:
        try:
            return parse(raw)
        except ParseError:
            raise
        except (TypeError, AttributeError, KeyError, ValueError, OverflowError) as error:
            raise ParseError(f"a value has an unexpected type or form: {error}") from error

    return wrapper


class BadJSON(ParseError):
    """The body is not a JSON object at all."""


def load_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or `BadJSON` saying what is wrong with it."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadJSON(f"the body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise BadJSON("the body is JSON but not an object")
    return body


def as_list(value: Any, where: str) -> list:
    """`value` when it is a list, [] when missing, else `ParseError` naming `where`."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"{where} must be a list")
    return value


def as_dict(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ParseError(f"{where} must be an object")
    return value


def required_text(container: Mapping, key: str, where: str) -> str:
    value = container.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise ParseError(f"{where}.{key} is missing")
    return str(value).strip()


def from_millis(value: Any, where: str) -> datetime:
    """A Unix time in milliseconds (Meta, X) as an aware datetime."""
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise ParseError(f"{where} is not a time in milliseconds: {value!r}") from None


def from_seconds(value: Any, where: str) -> datetime:
    """A Unix time in seconds (WhatsApp, as a string) as an aware datetime."""
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise ParseError(f"{where} is not a time in seconds: {value!r}") from None


def compact_json(value: Any) -> bytes:
    """One event as JSON bytes, kept as the message's raw source."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


# --- the messaging window -------------------------------------------------------------------

#: Replies are free within 24 hours of the customer's last message (Messenger, Instagram,
#: WhatsApp's customer service window).
STANDARD_WINDOW = timedelta(hours=24)
#: Messenger and Instagram let a person (not a bot) answer for 7 days with the
#: HUMAN_AGENT message tag; WhatsApp then needs an approved template, which we do not send.
HUMAN_AGENT_WINDOW = timedelta(days=7)
HUMAN_AGENT_TAG = "HUMAN_AGENT"
TAGGABLE = frozenset({"messenger", "instagram"})
WINDOWED = frozenset({"messenger", "instagram", "whatsapp"})


class OutsideWindow(AdapterError):
    """The platform does not allow a reply now; `limit` is the window that has passed."""

    def __init__(self, channel: str, limit: timedelta) -> None:
        hours = int(limit.total_seconds() // 3600)
        super().__init__(
            f"{channel}: the customer's last message is more than {hours} hours old; "
            "the platform only accepts a reply after they write again"
        )
        self.channel = channel
        self.limit = limit


def messaging_tag(
    channel: str, last_customer_message_at: datetime | None, now: datetime, *, human_agent: bool
) -> str | None:
    """The message tag a reply now needs (None: a plain reply), or `OutsideWindow`.

    `human_agent` says whether the app may use the HUMAN_AGENT tag (Meta grants it
    per app). A channel without a window (X) never needs a tag.
    """
    if channel not in WINDOWED:
        return None
    if last_customer_message_at is None:
        raise OutsideWindow(channel, STANDARD_WINDOW)
    age = now - last_customer_message_at
    if age <= STANDARD_WINDOW:
        return None
    if human_agent and channel in TAGGABLE and age <= HUMAN_AGENT_WINDOW:
        return HUMAN_AGENT_TAG
    raise OutsideWindow(channel, HUMAN_AGENT_WINDOW if human_agent and channel in TAGGABLE
                        else STANDARD_WINDOW)  # fmt: skip


# --- sending --------------------------------------------------------------------------------

#: Graph API error codes that mean "later": rate limits and temporary trouble.
GRAPH_RETRYABLE_CODES = frozenset(
    {1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131016, 131048, 131056}
)


def post_json(
    url: str,
    body: Mapping[str, Any],
    *,
    headers: Mapping[str, str],
    platform: str,
    session: requests.Session | None = None,
) -> dict[str, Any]:
    """POST `body` as JSON and return the JSON answer; `SendError` says why not.

    Timeouts, connection errors, 5xx and rate limits are retryable; any other refusal
    is not (the same request would be refused again) and carries the platform's words.
    """
    return _request("POST", url, platform, session, json=dict(body), headers=dict(headers))


def get_json(
    url: str, *, params: Mapping[str, str], headers: Mapping[str, str], platform: str
) -> dict[str, Any]:
    """GET a JSON object (a profile, say); `SendError` says why not, as `post_json`."""
    return _request("GET", url, platform, None, params=dict(params), headers=dict(headers))


def _request(
    method: str, url: str, platform: str, session: requests.Session | None, **kwargs: Any
) -> dict[str, Any]:
    try:
        response = (session or requests).request(
            method, url, timeout=SEND_TIMEOUT_SECONDS, **kwargs
        )
    except requests.RequestException as error:
        raise SendError(f"{platform} could not be reached: {error}", retryable=True) from None
    return _answer_of(response, platform)


def _answer_of(response: requests.Response, platform: str) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if 200 <= response.status_code < 300 and isinstance(answer, dict):
        return answer
    if 200 <= response.status_code < 300:
        raise SendError(f"{platform} answered {response.status_code} without JSON")
    reason, code = _error_of(answer, response)
    retryable = (
        response.status_code >= 500
        or response.status_code == 429
        or (code is not None and code in GRAPH_RETRYABLE_CODES)
    )
    raise SendError(f"{platform} refused the message ({response.status_code}): {reason}",
                    retryable=retryable)  # fmt: skip


def _error_of(answer: Any, response: requests.Response) -> tuple[str, int | None]:
    """The platform's explanation and numeric code: Graph's {"error": {...}}, X's problem
    details ({"title", "detail"}) or {"errors": [...]}, else the start of the body."""
    if isinstance(answer, dict):
        error = answer.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            parts = [str(error.get("message") or error.get("type") or "error")]
            if code is not None:
                parts.append(f"code {code}")
            if error.get("error_subcode"):
                parts.append(f"subcode {error['error_subcode']}")
            details = (
                (error.get("error_data") or {}) if isinstance(error.get("error_data"), dict) else {}
            )
            if details.get("details"):
                parts.append(str(details["details"]))
            return ", ".join(parts), code if isinstance(code, int) else None
        if answer.get("detail") or answer.get("title"):
            return str(answer.get("detail") or answer.get("title")), None
        errors = answer.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return str(first.get("message") or first.get("detail") or first), None
    return (response.text or response.reason or "no reason given")[:300], None
