"""The chat widget's JSON as InboundMessage (channel_adapters/chat.py)."""

from __future__ import annotations

import json

import pytest

from channel_adapters.base import ParseError, registry
from channel_adapters.chat import ChatAdapter, parse_payload

VISITOR = "v-Xy3kP9aQ2mN7rT5w"


def parse(payload: dict):
    return ChatAdapter().parse(json.dumps(payload).encode())


def test_a_message_with_name_and_email():
    raw = {
        "visitor": VISITOR,
        "id": "4f2a9c1e77b0",
        "text": "  Was kostet der Versand?  ",
        "name": "Helga Brandt",
        "email": "Helga.Brandt@Example.de",
        "language": "de",
    }
    (message,) = parse(raw)
    assert message.channel == "chat"
    assert message.external_id == f"{VISITOR}:4f2a9c1e77b0"
    assert message.thread_key == VISITOR
    assert message.text == "Was kostet der Versand?"
    assert (message.sender.kind, message.sender.value) == ("chat_visitor", VISITOR)
    assert message.sender.display_name == "Helga Brandt"
    # The e-mail becomes an identity, normalised as every e-mail identity is.
    assert [(i.kind, i.value) for i in message.also_known_as] == [
        ("email", "helga.brandt@example.de")
    ]
    assert message.language == "de"
    assert json.loads(message.raw) == raw and message.raw_content_type == "application/json"
    assert message.sent_at.tzinfo is not None


def test_the_same_browser_message_id_is_the_same_external_id():
    first = parse_payload({"visitor": VISITOR, "id": "retry-000001", "text": "hallo"})
    second = parse_payload({"visitor": VISITOR, "id": "retry-000001", "text": "hallo"})
    assert first.external_id == second.external_id


def test_without_name_and_email_and_with_an_unknown_language():
    message = parse_payload({"visitor": VISITOR, "id": "abcdefgh", "text": "hi", "language": "fr"})
    assert message.also_known_as == () and message.sender.display_name is None
    assert message.language is None


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ([1, 2], "JSON object"),
        ({"id": "abcdefgh", "text": "hi"}, "visitor"),
        ({"visitor": "x", "id": "abcdefgh", "text": "hi"}, "visitor"),
        ({"visitor": VISITOR, "text": "hi"}, "'id'"),
        ({"visitor": VISITOR, "id": "a b c d e f", "text": "hi"}, "'id'"),
        ({"visitor": VISITOR, "id": "abcdefgh", "text": "   "}, "empty"),
        ({"visitor": VISITOR, "id": "abcdefgh", "text": 42}, "string"),
        ({"visitor": VISITOR, "id": "abcdefgh", "text": "x" * 4001}, "longer"),
        ({"visitor": VISITOR, "id": "abcdefgh", "text": "hi", "email": "nope"}, "e-mail"),
    ],
)
def test_what_is_refused(payload, problem):
    with pytest.raises(ParseError, match=problem):
        parse_payload(payload)


def test_bytes_that_are_not_json():
    with pytest.raises(ParseError, match="not JSON"):
        ChatAdapter().parse(b"{broken")
    with pytest.raises(ParseError, match="not JSON"):
        ChatAdapter().parse(b"\xff\xfe")


def test_registered_by_kind():
    assert registry.get("chat") is ChatAdapter
