"""The contract between the outside world and the helpdesk.

Every channel turns what it receives into one frozen `InboundMessage` and sends
an `OutboundMessage` back the way it came. Adapters register themselves by kind
in `registry`; the application looks them up there and never imports a channel
module by name.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

#: Every channel a message can arrive on, grouped into the families people talk about.
CHANNEL_FAMILIES: Mapping[str, str] = {
    "email": "email",
    "chat": "chat",
    "messenger": "social",
    "instagram": "social",
    "whatsapp": "social",
    "x": "social",
    "phone": "phone",
}
CHANNELS: tuple[str, ...] = tuple(CHANNEL_FAMILIES)

#: Kinds of identity a customer can be known by. A WhatsApp sender is a phone
#: number, so WhatsApp and phone calls from one person meet on one identity.
IDENTITY_KINDS: tuple[str, ...] = (
    "email",
    "phone",
    "chat_visitor",
    "messenger",
    "instagram",
    "x",
)

#: The kind of identity a channel's sender has.
SENDER_IDENTITY_KIND: Mapping[str, str] = {
    "email": "email",
    "chat": "chat_visitor",
    "messenger": "messenger",
    "instagram": "instagram",
    "whatsapp": "phone",
    "x": "x",
    "phone": "phone",
}


class AdapterError(Exception):
    """Base of everything a channel adapter raises."""


class ParseError(AdapterError):
    """Raw input that cannot become an `InboundMessage`; the caller quarantines it."""


class SendError(AdapterError):
    """A reply could not be delivered. `retryable` says whether trying later may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class ConfigError(AdapterError):
    """An adapter was configured with missing or invalid settings."""


def normalise_identity(kind: str, value: str) -> str:
    """Return the canonical form of an identity value, so lookups match.

    E-mail addresses compare case-insensitively in practice; phone numbers are
    reduced to `+` and digits (a leading `00` becomes `+`).
    """
    value = value.strip()
    if kind == "email":
        return value.lower()
    if kind == "phone":
        digits = re.sub(r"[^\d+]", "", value)
        if digits.startswith("00"):
            digits = "+" + digits[2:]
        if not digits.startswith("+"):
            digits = "+" + digits
        return "+" + digits[1:].replace("+", "")
    return value


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a message is from on one channel: an address, a number or a platform id."""

    kind: str
    value: str
    display_name: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in IDENTITY_KINDS:
            raise ValueError(f"unknown identity kind {self.kind!r}")
        value = normalise_identity(self.kind, self.value)
        if not value or value == "+":
            raise ValueError(f"empty {self.kind} identity")
        object.__setattr__(self, "value", value)


@dataclass(frozen=True, slots=True)
class InboundAttachment:
    """A file that came with a message. `data` is None when it was too large to keep."""

    filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes | None = None
    content_id: str | None = None
    inline: bool = False
    omitted_reason: str | None = None

    @classmethod
    def from_bytes(
        cls,
        filename: str,
        content_type: str,
        data: bytes,
        *,
        content_id: str | None = None,
        inline: bool = False,
        max_size: int | None = None,
    ) -> InboundAttachment:
        """Describe `data`, keeping the bytes only when they fit within `max_size`."""
        too_large = max_size is not None and len(data) > max_size
        return cls(
            filename=filename,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=None if too_large else data,
            content_id=content_id,
            inline=inline,
            omitted_reason=f"larger than the limit of {max_size} bytes" if too_large else None,
        )


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a customer, in the same shape whatever channel it came from.

    `external_id` is the channel's own id (Message-ID, platform message id); the
    store refuses a second message with the same channel and external id, which
    makes every delivery idempotent. `thread_key` names the conversation on
    channels that have one (chat session, social conversation, caller number);
    e-mail threads by `references` instead.
    """

    channel: str
    external_id: str
    sender: Identity
    text: str
    sent_at: datetime
    subject: str = ""
    html: str | None = None
    quoted_text: str = ""
    thread_key: str | None = None
    references: tuple[str, ...] = ()
    also_known_as: tuple[Identity, ...] = ()
    attachments: tuple[InboundAttachment, ...] = ()
    recipient: str | None = None
    language: str | None = None  # the channel's hint, e.g. the chat widget's page language
    auto_submitted: bool = False
    raw: bytes | None = None
    raw_content_type: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.channel not in CHANNEL_FAMILIES:
            raise ValueError(f"unknown channel {self.channel!r}")
        if not self.external_id:
            raise ValueError("an inbound message needs the channel's external id")
        if self.sent_at.tzinfo is None:
            raise ValueError("sent_at must be timezone-aware")
        object.__setattr__(self, "sent_at", self.sent_at.astimezone(UTC))

    @property
    def identities(self) -> tuple[Identity, ...]:
        """The sender's identity first, then any others the message revealed."""
        return (self.sender, *self.also_known_as)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A reply on its way out. `message_id` is ours and doubles as idempotency key.

    `references` lists the conversation's earlier message ids, oldest first; the
    last one is what this message answers. `sender` is the address or account
    it leaves from (e.g. the mailbox's From). `auto_submitted` marks mail no
    person wrote (acknowledgements, notifications), so other robots do not answer.
    """

    channel: str
    recipient: Identity
    text: str
    message_id: str
    subject: str = ""
    html: str | None = None
    sender: str | None = None
    cc: tuple[str, ...] = ()
    thread_key: str | None = None
    references: tuple[str, ...] = ()
    attachments: tuple[InboundAttachment, ...] = ()
    auto_submitted: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConfigField:
    """One setting an adapter needs. Secrets are read from the environment variable named."""

    name: str
    required: bool = True
    secret: bool = False
    help: str = ""


class ChannelAdapter(ABC):
    """What every channel can do: parse what arrives, send replies, check its connection."""

    kind: ClassVar[str]
    config_schema: ClassVar[tuple[ConfigField, ...]] = ()

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        config = dict(config or {})
        missing = [f.name for f in self.config_schema if f.required and not config.get(f.name)]
        if missing:
            raise ConfigError(f"{self.kind}: missing settings {', '.join(missing)}")
        self.config = config

    @abstractmethod
    def parse(self, raw: bytes) -> Sequence[InboundMessage]:
        """Turn one raw delivery into messages; raise `ParseError` if it cannot be read."""

    @abstractmethod
    def send(self, message: OutboundMessage) -> str:
        """Deliver `message` and return the channel's id for it; raise `SendError`."""

    def test_connection(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Raise `AdapterError` if the outside system cannot be reached with this config."""


class AdapterRegistry:
    """Adapters by kind. Modules register their class with `@registry.register`."""

    def __init__(self) -> None:
        self._adapters: dict[str, type[ChannelAdapter]] = {}

    def register(self, adapter: type[ChannelAdapter]) -> type[ChannelAdapter]:
        kind = adapter.kind
        if kind in self._adapters and self._adapters[kind] is not adapter:
            raise ValueError(f"an adapter for {kind!r} is registered already")
        self._adapters[kind] = adapter
        return adapter

    def get(self, kind: str) -> type[ChannelAdapter]:
        try:
            return self._adapters[kind]
        except KeyError:
            raise ConfigError(
                f"no adapter for channel {kind!r}; known: {', '.join(sorted(self._adapters))}"
            ) from None

    def create(self, kind: str, config: Mapping[str, Any] | None = None) -> ChannelAdapter:
        return self.get(kind)(config)

    def kinds(self) -> list[str]:
        return sorted(self._adapters)


registry = AdapterRegistry()


def utcnow() -> datetime:
    return datetime.now(UTC)
