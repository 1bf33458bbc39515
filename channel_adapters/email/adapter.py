"""The e-mail channel as the application sees it: parse with threading hints, send by SMTP."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from channel_adapters.base import (
    ChannelAdapter,
    ConfigError,
    ConfigField,
    InboundMessage,
    OutboundMessage,
    registry,
)
from channel_adapters.email.parse import parse_email
from channel_adapters.email.smtp import SmtpSender, SmtpSettings, build_email

#: Outlook's Thread-Index starts with 22 bytes that name the conversation.
_CONVERSATION_BYTES = 22


def conversation_key(thread_index: str | None) -> str | None:
    """The conversation an Outlook Thread-Index belongs to, as a thread key, or None."""
    if not thread_index:
        return None
    try:
        data = base64.b64decode(thread_index.strip(), validate=False)
    except (binascii.Error, ValueError):
        return None
    if len(data) < _CONVERSATION_BYTES:
        return None
    return "outlook:" + base64.b64encode(data[:_CONVERSATION_BYTES]).decode()


def parse_mail(
    raw: bytes,
    *,
    max_attachment_bytes: int | None = None,
    recipient: str | None = None,
    received_at: datetime | None = None,
) -> InboundMessage:
    """`parse_email`, plus the Outlook conversation as thread key when the mail has one."""
    message = parse_email(
        raw, max_attachment_bytes=max_attachment_bytes, recipient=recipient, received_at=received_at
    )
    key = conversation_key(message.metadata.get("thread_index"))
    return replace(message, thread_key=key) if key else message


@registry.register
class EmailAdapter(ChannelAdapter):
    """Mail in from raw RFC 822 bytes; mail out through the SMTP server in `smtp_url`."""

    kind = "email"
    config_schema = (
        ConfigField("smtp_url", secret=True, help="smtp://user:pass@host:587, smtps://..."),
        ConfigField("ca_file", required=False, help="CA to trust for the SMTP server"),
        ConfigField("max_attachment_bytes", required=False),
    )

    def parse(self, raw: bytes) -> Sequence[InboundMessage]:
        return [parse_mail(raw, max_attachment_bytes=self.config.get("max_attachment_bytes"))]

    def send(self, message: OutboundMessage) -> str:
        """Send by SMTP and return the server's answer; `SendError` says why not."""
        if not message.sender or "@" not in message.sender:
            raise ConfigError("an e-mail needs a From address (the mailbox's address)")
        domain = message.sender.rstrip(">").rsplit("@", 1)[1]
        return SmtpSender(self._settings()).send(build_email(message, domain=domain))

    def _settings(self) -> SmtpSettings:
        settings = SmtpSettings.from_url(self.config["smtp_url"])
        if self.config.get("ca_file"):
            settings = replace(settings, ca_file=self.config["ca_file"])
        return settings
