"""The adapter contract: InboundMessage, identities, the registry; and package boundaries."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from channel_adapters.base import (
    AdapterRegistry,
    ChannelAdapter,
    ConfigError,
    ConfigField,
    Identity,
    InboundAttachment,
    InboundMessage,
    OutboundMessage,
)

ROOT = Path(__file__).resolve().parents[2]


def message(**fields) -> InboundMessage:
    values = dict(
        channel="email",
        external_id="<1@x>",
        sender=Identity("email", "a@example.com"),
        text="hi",
        sent_at=datetime(2026, 11, 23, 12, tzinfo=timezone(timedelta(hours=1))),
    )
    values.update(fields)
    return InboundMessage(**values)


def test_inbound_message_is_frozen_and_in_utc():
    msg = message()
    assert msg.sent_at.utcoffset() == timedelta(0) and msg.sent_at.hour == 11
    with pytest.raises(dataclasses.FrozenInstanceError):
        msg.text = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"channel": "fax"}, "unknown channel"),
        ({"external_id": ""}, "external id"),
        ({"sent_at": datetime(2026, 1, 1)}, "timezone-aware"),
    ],
)
def test_inbound_message_refuses_what_the_store_could_not_use(fields, error):
    with pytest.raises(ValueError, match=error):
        message(**fields)


@pytest.mark.parametrize(
    ("kind", "raw", "canonical"),
    [
        ("email", "  Anna.Weber@Example.COM ", "anna.weber@example.com"),
        ("phone", "+49 (151) 1234-5678", "+4915112345678"),
        ("phone", "0049 151 12345678", "+4915112345678"),
        ("phone", "4915112345678", "+4915112345678"),
        ("messenger", " 2476113579 ", "2476113579"),
    ],
)
def test_identities_are_normalised_so_lookups_match(kind, raw, canonical):
    assert Identity(kind, raw).value == canonical


def test_identity_refuses_unknown_kind_and_empty_value():
    with pytest.raises(ValueError):
        Identity("fax", "123")
    with pytest.raises(ValueError):
        Identity("phone", " - ")


def test_attachment_over_the_limit_keeps_metadata_not_bytes():
    data = b"x" * 11
    small = InboundAttachment.from_bytes("a.txt", "text/plain", data, max_size=20)
    large = InboundAttachment.from_bytes("a.txt", "text/plain", data, max_size=10)
    assert small.data == data and small.omitted_reason is None
    assert large.data is None and large.size == 11
    assert large.sha256 == hashlib.sha256(data).hexdigest()


class EchoAdapter(ChannelAdapter):
    kind = "chat"
    config_schema = (ConfigField("token", secret=True),)

    def parse(self, raw: bytes) -> Sequence[InboundMessage]:
        return [message(channel="chat", text=raw.decode())]

    def send(self, outbound: OutboundMessage) -> str:
        return outbound.message_id


def test_registry_creates_adapters_by_kind_with_their_config():
    registry = AdapterRegistry()
    registry.register(EchoAdapter)
    adapter = registry.create("chat", {"token": "t"})
    assert registry.kinds() == ["chat"]
    assert [m.text for m in adapter.parse(b"hallo")] == ["hallo"]
    with pytest.raises(ConfigError, match="missing settings token"):
        registry.create("chat", {})
    with pytest.raises(ConfigError, match="no adapter for channel 'x'"):
        registry.get("x")


def test_a_kind_cannot_be_registered_twice():
    registry = AdapterRegistry()
    registry.register(EchoAdapter)
    other = type("Other", (EchoAdapter,), {})
    with pytest.raises(ValueError, match="registered already"):
        registry.register(other)


@pytest.mark.parametrize("package", ["channel_adapters", "classifiers"])
def test_adapters_and_classifiers_import_neither_flask_nor_helpdesk(package):
    offenders = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.split(".")[0] in {"flask", "flask_sqlalchemy", "helpdesk"}
            ]
    assert offenders == []
