"""The social adapters' pure parts: signatures, the platforms' webhook bodies, the window.

Messenger, Instagram and X bodies are built here exactly as the platforms document
them; WhatsApp is also checked against the public samples in ../shared/data.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channel_adapters.base import Identity, OutboundMessage, ParseError, registry
from channel_adapters.social import meta, whatsapp, x
from channel_adapters.social.common import (
    BadJSON,
    OutsideWindow,
    hub_signature,
    hub_signature_matches,
    messaging_tag,
    x_signature_matches,
)

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "webhooks" / "whatsapp-pywa"
PAGE = "104365328934221"
PSID = "7214563827491023"
T0 = 1733390000000  # ms


def body(value) -> bytes:
    return json.dumps(value).encode()


def page_event(event: dict, *, kind: str = "page", account: str = PAGE) -> bytes:
    return body({"object": kind, "entry": [{"id": account, "time": T0, "messaging": [event]}]})


def from_customer(message: dict, *, sender: str = PSID, recipient: str = PAGE) -> dict:
    return {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": T0,
            "message": message}  # fmt: skip


# --- signatures -----------------------------------------------------------------------------


def test_hub_signature_is_hex_hmac_sha256_of_the_raw_body():
    # Computed with: printf body | openssl dgst -sha256 -hmac app-secret
    expected = "sha256=77167e47bd4ec6ebcb0745bc09b14e8f20a2d34b83e11623089895e867227290"
    assert hub_signature("app-secret", b"body") == expected
    assert hub_signature_matches("app-secret", b"body", expected)
    assert hub_signature_matches("app-secret", b"body", expected.upper().replace("SHA", "sha"))
    assert not hub_signature_matches("app-secret", b"body ", expected)
    assert not hub_signature_matches("other", b"body", expected)
    assert not hub_signature_matches("app-secret", b"body", None)
    assert not hub_signature_matches("app-secret", b"body", "sha256=ä")


def test_x_crc_and_signature_are_base64_hmac_sha256():
    # printf challenge-123 | openssl dgst -sha256 -hmac consumer-secret -binary | base64
    token = "sha256=+JKD3xCx1so7H9dYGqEd8qLRIIR3uCpi/4gsvLxmFd4="
    assert x.crc_response("consumer-secret", "challenge-123") == {"response_token": token}
    assert x_signature_matches("consumer-secret", b"challenge-123", token)
    assert not x_signature_matches("consumer-secret", b"challenge-124", token)
    assert not x_signature_matches("consumer-secret", b"challenge-123", "")


# --- Messenger and Instagram ------------------------------------------------------------------


def test_a_messenger_text_becomes_one_inbound_message():
    found = meta.parse_meta(
        page_event(from_customer({"mid": "m_1", "text": "Hallo, wo ist 100457?"}))
    )
    (message,) = found.messages
    assert message.channel == "messenger"
    assert message.external_id == "m_1"
    assert message.sender == Identity("messenger", PSID)
    assert message.text == "Hallo, wo ist 100457?"
    assert message.sent_at == datetime.fromtimestamp(T0 / 1000, UTC)
    assert message.thread_key == f"{PAGE}:{PSID}"
    assert message.recipient == PAGE
    assert json.loads(message.raw)["message"]["mid"] == "m_1"
    assert found.topic == "page" and not found.echoes and not found.receipts


def test_quick_replies_and_attachments_are_kept_readable():
    event = from_customer({
        "mid": "m_2",
        "text": "Größe 42",
        "quick_reply": {"payload": "SIZE_42"},
        "attachments": [{"type": "image", "payload": {"url": "https://cdn.example/a.jpg"}},
                        {"type": "file", "payload": {"url": "https://cdn.example/r.pdf"}}],
    })  # fmt: skip
    (message,) = meta.parse_meta(page_event(event)).messages
    assert message.text.splitlines() == [
        "Größe 42", "[image] https://cdn.example/a.jpg", "[file] https://cdn.example/r.pdf"
    ]  # fmt: skip
    assert message.metadata["quick_reply"] == "SIZE_42"
    assert [a["type"] for a in message.metadata["attachments"]] == ["image", "file"]


def test_instagram_story_replies_and_mentions():
    reply = from_customer(
        {"mid": "ig_1", "text": "Gibt es die in Blau?",
         "reply_to": {"story": {"id": "1789", "url": "https://lookaside.example/story"}}},
        sender="IGSID1", recipient="17841400000",
    )  # fmt: skip
    mention = from_customer(
        {"mid": "ig_2", "attachments": [{"type": "story_mention",
                                         "payload": {"url": "https://lookaside.example/m"}}]},
        sender="IGSID1", recipient="17841400000",
    )  # fmt: skip
    raw = body({"object": "instagram", "entry": [
        {"id": "17841400000", "time": T0, "messaging": [reply, mention]}]})  # fmt: skip
    first, second = meta.parse_meta(raw).messages
    assert first.channel == second.channel == "instagram"
    assert first.sender == Identity("instagram", "IGSID1")
    assert first.metadata["story"] == {"kind": "reply", "id": "1789",
                                       "url": "https://lookaside.example/story"}  # fmt: skip
    assert first.text.startswith("Gibt es die in Blau?\n[story reply]")
    assert second.metadata["story"]["kind"] == "mention"
    assert second.text == "[story mention] https://lookaside.example/m"


def test_echoes_are_recognised_not_taken_for_the_customer():
    echo = {"sender": {"id": PAGE}, "recipient": {"id": PSID}, "timestamp": T0,
            "message": {"is_echo": True, "app_id": 1517776481860111, "metadata": "<ours@x>",
                        "mid": "m_echo", "text": "Ihre Retoure ist da."}}  # fmt: skip
    found = meta.parse_meta(page_event(echo))
    assert found.messages == ()
    (seen,) = found.echoes
    assert (seen.message_id, seen.counterpart, seen.reference) == ("m_echo", PSID, "<ours@x>")


def test_delivery_and_read_receipts():
    delivery = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE},
        "timestamp": T0,
        "delivery": {"mids": ["m_a", "m_b"], "watermark": T0 - 5},
    }
    read = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE},
        "timestamp": T0,
        "read": {"watermark": T0 - 1},
    }
    ig_read = {"sender": {"id": "IGSID1"}, "recipient": {"id": "1784"}, "timestamp": T0,
               "read": {"mid": "ig_9"}}  # fmt: skip
    found = meta.parse_meta(page_event(delivery))
    assert [(r.status, r.message_id) for r in found.receipts] == [
        ("delivered", "m_a"), ("delivered", "m_b"), ("delivered", None)]  # fmt: skip
    (watermark,) = meta.parse_meta(page_event(read)).receipts
    assert watermark.status == "read" and watermark.counterpart == PSID
    assert watermark.watermark == datetime.fromtimestamp((T0 - 1) / 1000, UTC)
    (by_mid,) = meta.parse_meta(page_event(ig_read, kind="instagram")).receipts
    assert (by_mid.channel, by_mid.message_id) == ("instagram", "ig_9")


def test_unknown_and_unused_events_are_skipped_by_name():
    reaction = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE},
        "timestamp": T0,
        "reaction": {"mid": "m_1", "action": "react", "reaction": "love"},
    }
    novel = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE},
        "timestamp": T0,
        "brand_new_event": {"x": 1},
    }
    deleted = from_customer({"mid": "m_3", "is_deleted": True})
    raw = body({"object": "page", "entry": [
        {"id": PAGE, "time": T0, "messaging": [reaction, novel, deleted]},
        {"id": PAGE, "time": T0, "standby": [{"sender": {"id": PSID}}]},
        {"id": PAGE, "time": T0, "changes": [{"field": "feed", "value": {}}]}]})  # fmt: skip
    found = meta.parse_meta(raw)
    assert found.messages == ()
    assert [s.kind for s in found.skipped] == [
        "reaction", "brand_new_event", "message_deleted", "standby", "change:feed"]  # fmt: skip
    assert found.summary()["skipped"]["reaction"] == 1


def test_a_postback_with_a_mid_is_the_customers_message():
    tap = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE},
        "timestamp": T0,
        "postback": {"mid": "m_pb", "title": "Retoure anmelden", "payload": "RETURN"},
    }
    (message,) = meta.parse_meta(page_event(tap)).messages
    assert (message.external_id, message.text) == ("m_pb", "Retoure anmelden")
    assert message.metadata["quick_reply"] == "RETURN"


@pytest.mark.parametrize(
    ("raw", "error", "words"),
    [
        (b"{not json", BadJSON, "not JSON"),
        (b"[1, 2]", BadJSON, "not an object"),
        (body({"object": "user", "entry": []}), ParseError, "object"),
        (body({"object": "page", "entry": {"id": 1}}), ParseError, "entry must be a list"),
    ],
)  # fmt: skip
def test_malformed_bodies_say_what_is_wrong(raw, error, words):
    with pytest.raises(error, match=words):
        meta.parse_meta(raw)


def test_an_unreadable_event_is_set_aside_and_the_others_kept():
    good = from_customer({"mid": "m_ok", "text": "Hallo"})
    no_mid = from_customer({"text": "no mid"})
    bad_time = {**from_customer({"mid": "m_t"}), "timestamp": "soon"}
    events = [no_mid, good, bad_time, "not an event"]
    raw = body({"object": "page", "entry": [{"id": PAGE, "time": T0, "messaging": events}]})
    found = meta.parse_meta(raw)
    assert [m.external_id for m in found.messages] == ["m_ok"]
    reasons = [r.reason for r in found.rejected]
    assert reasons[0] == "entry[0].messaging[0].message.mid is missing"
    assert "milliseconds" in reasons[1] and "must be an object" in reasons[2]
    assert json.loads(found.rejected[0].raw) == no_mid  # kept whole for the quarantine
    assert found.summary()["rejected"] == 3


def test_the_send_request_follows_the_send_api():
    out = OutboundMessage(channel="messenger", recipient=Identity("messenger", PSID),
                          text="Hallo!", message_id="<abc@helpdesk.invalid>")  # fmt: skip
    assert meta.send_request(out) == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hallo!", "metadata": "<abc@helpdesk.invalid>"},
    }
    tagged = OutboundMessage(channel="instagram", recipient=Identity("instagram", "IG1"),
                             text="Hallo!", message_id="<x>",
                             headers={"messaging_tag": "HUMAN_AGENT"})  # fmt: skip
    assert meta.send_request(tagged) == {
        "recipient": {"id": "IG1"},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "Hallo!"},
    }
    assert meta.text_too_long("instagram", "ü" * 501)  # 1,002 bytes
    assert not meta.text_too_long("messenger", "ü" * 2000)


def test_the_adapters_are_registered():
    assert {"messenger", "instagram", "whatsapp", "x"} <= set(registry.kinds())


# --- WhatsApp -------------------------------------------------------------------------------


def whatsapp_value(**value) -> bytes:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "4930123456", "phone_number_id": "1122"},
             **value}  # fmt: skip
    return body(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
        }
    )


def test_a_whatsapp_text_is_from_a_phone_number():
    raw = whatsapp_value(
        contacts=[{"profile": {"name": "Jonas Keller"}, "wa_id": "4915112345678"}],
        messages=[{"from": "4915112345678", "id": "wamid.A1", "timestamp": "1733390000",
                   "type": "text", "text": {"body": "Ist meine Retoure angekommen?"}}],
    )  # fmt: skip
    (message,) = whatsapp.parse_whatsapp(raw).messages
    assert message.channel == "whatsapp"
    assert message.sender == Identity("phone", "+4915112345678", "Jonas Keller")
    assert message.external_id == "wamid.A1"
    assert message.thread_key == "1122:4915112345678"
    assert message.recipient == "1122"
    assert message.sent_at == datetime.fromtimestamp(1733390000, UTC)


def test_whatsapp_statuses_are_receipts_with_the_error():
    raw = whatsapp_value(statuses=[
        {"id": "wamid.S", "status": "failed", "timestamp": "1733390000",
         "recipient_id": "4915112345678",
         "errors": [{"code": 131047, "title": "Re-engagement message",
                     "error_data": {"details": "More than 24 hours have passed"}}]}])  # fmt: skip
    (receipt,) = whatsapp.parse_whatsapp(raw).receipts
    assert (receipt.status, receipt.message_id, receipt.counterpart) == (
        "failed", "wamid.S", "+4915112345678")  # fmt: skip
    assert "131047" in receipt.error and "24 hours" in receipt.error


def test_the_whatsapp_send_request():
    out = OutboundMessage(channel="whatsapp", recipient=Identity("phone", "+4915112345678"),
                          text="Ja, sie ist da.", message_id="<m>", sender="1122")  # fmt: skip
    assert whatsapp.send_request(out) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "4915112345678",
        "type": "text",
        "text": {"preview_url": False, "body": "Ja, sie ist da."},
    }


def shared_samples():
    if not SHARED.is_dir():
        return []
    return [
        pytest.param(payload, id=f"{path.stem}/{name}")
        for path in sorted(SHARED.glob("*.json"))
        for name, payload in json.loads(path.read_text()).items()
    ]


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"the public WhatsApp samples are not at {SHARED}")
@pytest.mark.parametrize("payload", shared_samples())
def test_every_public_whatsapp_sample_is_understood(payload):
    """Each real payload is a message, a receipt, an echo or skipped by name; none fails."""
    found = whatsapp.parse_whatsapp(body(payload))
    assert len(found.messages) + len(found.receipts) + len(found.echoes) + len(found.skipped) >= 1
    for message in found.messages:
        assert message.text.strip(), message  # an agent always has something to read
        assert message.sender.kind == "phone" and message.sender.value.startswith("+")


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"the public WhatsApp samples are not at {SHARED}")
def test_public_samples_of_media_location_and_statuses():
    samples = json.loads((SHARED / "message.json").read_text())
    (document,) = whatsapp.parse_whatsapp(body(samples["document"])).messages
    assert document.text.splitlines()[0] == "caption"
    assert "[document filename.pdf] (application/pdf" in document.text
    assert document.metadata["media"]["id"] == "1234567890987654321"
    (place,) = whatsapp.parse_whatsapp(body(samples["chosen_location"])).messages
    assert place.text.startswith("[location] Facebook HQ, 1 Hacker Way")
    (reply,) = whatsapp.parse_whatsapp(body(samples["reply"])).messages
    assert reply.metadata["reply_to"] == "wamid.xyzxyz=="
    statuses = json.loads((SHARED / "message_status.json").read_text())
    (read,) = whatsapp.parse_whatsapp(body(statuses["read"])).receipts
    assert (read.status, read.message_id) == ("read", "wamid.xyzxyz")
    (failed,) = whatsapp.parse_whatsapp(body(statuses["failed"])).receipts
    assert failed.status == "failed" and failed.error
    echoes = json.loads((SHARED / "outgoing_message.json").read_text())
    found = whatsapp.parse_whatsapp(body(echoes["text"]))
    assert found.messages == () and found.echoes[0].text == "Test message"


# --- X --------------------------------------------------------------------------------------


def x_body(sender: str, recipient: str, text: str = "Hi, where is my refund?", **extra) -> bytes:
    return body({
        "for_user_id": "4337869213",
        "direct_message_events": [{
            "type": "message_create", "id": "954491830116155396",
            "created_timestamp": "1516403560557",
            "message_create": {"target": {"recipient_id": recipient}, "sender_id": sender,
                               "source_app_id": "13090192",
                               "message_data": {"text": text, "entities": {}}}}],
        "users": {"3001969357": {"id": "3001969357", "name": "Jordan Brinks",
                                 "screen_name": "furiouscamper"}},
        **extra,
    })  # fmt: skip


def test_an_x_dm_names_its_sender_and_conversation():
    (message,) = x.parse_x(x_body("3001969357", "4337869213")).messages
    assert message.channel == "x"
    assert message.sender == Identity("x", "3001969357", "Jordan Brinks")
    assert message.external_id == "954491830116155396"
    assert message.thread_key == "3001969357-4337869213"
    assert message.metadata["screen_name"] == "furiouscamper"
    assert message.sent_at == datetime.fromtimestamp(1516403560.557, UTC)


def test_our_own_dm_is_an_echo_and_other_activity_is_skipped():
    found = x.parse_x(
        x_body(
            "4337869213",
            "3001969357",
            "Thanks!",
            tweet_create_events=[{}],
            direct_message_indicate_typing_events=[{"sender_id": "1"}],
        )
    )
    assert found.messages == ()
    assert found.echoes[0].counterpart == "3001969357"
    assert {s.kind for s in found.skipped} == {"tweet_create_events", "typing"}


# --- the window -----------------------------------------------------------------------------

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("channel", "age", "human_agent", "expected"),
    [
        ("messenger", timedelta(hours=23), True, None),
        ("messenger", timedelta(hours=25), True, "HUMAN_AGENT"),
        ("instagram", timedelta(days=6, hours=23), True, "HUMAN_AGENT"),
        ("x", timedelta(days=30), True, None),
    ],
)
def test_replies_within_the_window(channel, age, human_agent, expected):
    assert messaging_tag(channel, NOW - age, NOW, human_agent=human_agent) == expected


@pytest.mark.parametrize(
    ("channel", "age", "human_agent", "limit"),
    [
        ("whatsapp", timedelta(hours=25), True, timedelta(hours=24)),
        ("messenger", timedelta(hours=25), False, timedelta(hours=24)),
        ("instagram", timedelta(days=8), True, timedelta(days=7)),
        ("messenger", None, True, timedelta(hours=24)),
    ],
)
def test_replies_outside_the_window_are_refused(channel, age, human_agent, limit):
    with pytest.raises(OutsideWindow) as refused:
        messaging_tag(channel, None if age is None else NOW - age, NOW, human_agent=human_agent)
    assert refused.value.limit == limit


def test_an_unknown_event_type_is_logged_as_a_warning(caplog):
    novel = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": T0,
             "brand_new_event": {}}  # fmt: skip
    reaction = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": T0,
                "reaction": {"mid": "m_1"}}  # fmt: skip
    with caplog.at_level("INFO", logger="channel_adapters.social.common"):
        meta.parse_meta(page_event(novel))
        meta.parse_meta(page_event(reaction))
    levels = {r.getMessage().split(" skipped")[0]: r.levelname for r in caplog.records}
    assert levels == {"messenger webhook: brand_new_event": "WARNING",
                      "messenger webhook: reaction": "INFO"}  # fmt: skip
