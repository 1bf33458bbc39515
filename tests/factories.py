"""Builders for test data: inbound messages as adapters would produce them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from channel_adapters.base import SENDER_IDENTITY_KIND, Identity, InboundMessage

_ids = itertools.count(1)


def inbound(
    channel: str = "email",
    sender: str = "kunde@example.com",
    text: str = "Hallo, wo bleibt meine Bestellung 100234?",
    **fields,
) -> InboundMessage:
    """An `InboundMessage` with a fresh external id unless one is given."""
    fields.setdefault("external_id", f"<test-{next(_ids)}@example.com>")
    fields.setdefault("sent_at", datetime.now(UTC) - timedelta(minutes=1))
    display_name = fields.pop("display_name", None)
    return InboundMessage(
        channel=channel,
        sender=Identity(SENDER_IDENTITY_KIND[channel], sender, display_name),
        text=text,
        **fields,
    )
