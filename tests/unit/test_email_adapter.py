"""The e-mail channel's own threading hints and its place in the adapter registry."""

from __future__ import annotations

import base64

import pytest

import channel_adapters.email.adapter  # noqa: F401  (registers the e-mail channel)
from channel_adapters.base import ConfigError, Identity, OutboundMessage, registry
from channel_adapters.email.adapter import conversation_key


def test_outlook_replies_share_the_conversation_key():
    conversation = bytes(range(22))
    first = base64.b64encode(conversation).decode()
    reply = base64.b64encode(conversation + b"\x00\x01\x02\x03\x04").decode()
    other = base64.b64encode(bytes(range(1, 23)) + b"\x00\x01\x02\x03\x04").decode()
    assert conversation_key(first) == conversation_key(reply)
    assert conversation_key(other) != conversation_key(first)
    assert conversation_key(first).startswith("outlook:")


@pytest.mark.parametrize("value", [None, "", "not base64 at all!!", base64.b64encode(b"short")])
def test_no_conversation_key_from_missing_or_broken_thread_index(value):
    if isinstance(value, bytes):
        value = value.decode()
    assert conversation_key(value) is None


def test_email_adapter_is_registered_and_needs_an_smtp_url():
    assert "email" in registry.kinds()
    with pytest.raises(ConfigError, match="smtp_url"):
        registry.create("email", {})


def test_email_without_from_address_is_refused_before_connecting():
    adapter = registry.create("email", {"smtp_url": "smtp+plain://127.0.0.1:1"})
    message = OutboundMessage("email", Identity("email", "kunde@example.com"), "Hallo", "<1@x>")
    with pytest.raises(ConfigError, match="From address"):
        adapter.send(message)
