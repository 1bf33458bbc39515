"""Fuzzing the parsers of what outsiders send us, with Hypothesis: MIME mail and the
webhook bodies of the logistics partner and the social platforms. Whatever arrives, the
parser returns a result or raises its own clear error (ParseError, BadDelivery), which
the intake turns into a quarantined copy or a 4xx answer; nothing else may escape.
Example counts are bounded so the whole file runs in seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channel_adapters.base import InboundMessage, ParseError
from channel_adapters.email.adapter import parse_mail
from channel_adapters.social.meta import parse_meta
from channel_adapters.social.whatsapp import parse_whatsapp
from channel_adapters.social.x import parse_x

FUZZ = settings(max_examples=100, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip

MAIL = (
    b"From: Helga Brandt <helga@example.de>\r\nTo: service@shop.example\r\n"
    b"Subject: =?utf-8?q?R=C3=BCcksendung?=\r\nMessage-ID: <a1@example.de>\r\n"
    b"Date: Tue, 3 Dec 2024 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: "
    b"quoted-printable\r\n\r\nWo bleibt meine Bestellung 100457? Gr=C3=BC=C3=9Fe\r\n"
    b'--b1\r\nContent-Type: application/pdf; name="rechnung.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n"
)
SAMPLES = sorted(Path(__file__).parent.glob("email/**/*.eml"))[:20]
SEEDS = [MAIL] + [path.read_bytes() for path in SAMPLES]


def _mutations(seed: bytes):
    """Bytes cut, spliced, duplicated or replaced at random places in a real mail."""
    return st.tuples(
        st.integers(0, len(seed)), st.integers(0, len(seed)), st.binary(max_size=64),
        st.sampled_from([b"", b"\r\n", b"--b1\r\n", b"=?utf-8?b?", b"Content-Type: ",
                         b"charset=", b"\x00", b"\xff\xfe", b"boundary=", b";;;"]),
    ).map(lambda t: seed[: min(t[0], t[1])] + t[3] + t[2] + seed[max(t[0], t[1]) :])  # fmt: skip


def _parse_or_refuse(raw: bytes) -> None:
    try:
        message = parse_mail(raw, max_attachment_bytes=1024)
    except ParseError as error:
        assert str(error)  # the quarantine shows the reason
        return
    assert isinstance(message, InboundMessage)
    assert isinstance(message.text, str)


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_parse_or_are_refused_clearly(raw):
    _parse_or_refuse(raw)


@FUZZ
@given(st.sampled_from(SEEDS).flatmap(_mutations))
def test_damaged_real_mail_parses_or_is_refused_clearly(raw):
    _parse_or_refuse(raw)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["From", "To", "Subject", "Message-ID", "In-Reply-To", "References",
                         "Content-Type", "Content-Transfer-Encoding", "Date", "Thread-Index",
                         "Auto-Submitted", "Reply-To"]),
        st.text(max_size=80).map(lambda s: s.replace("\r", " ").replace("\n", " ")),
    ),
    st.binary(max_size=300),
)  # fmt: skip
def test_random_headers_over_any_body(headers, body):
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    _parse_or_refuse(head.encode("utf-8", "surrogateescape") + b"\r\n" + body)


# --- webhook bodies ------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=20,
)  # fmt: skip


def _shaped_like(sample: dict):
    """`sample` with any of its values replaced by arbitrary JSON, at any depth."""

    def replace(value):
        if isinstance(value, dict):
            return st.fixed_dictionaries({k: replace(v) for k, v in value.items()}) | JSON_VALUES
        if isinstance(value, list):
            return st.lists(replace(value[0]), max_size=3) if value else JSON_VALUES
        return st.just(value) | JSON_VALUES

    return replace(sample)


META = {"object": "page", "entry": [{"id": "1", "time": 1700000000000, "messaging": [{
    "sender": {"id": "u1"}, "recipient": {"id": "1"}, "timestamp": 1700000000000,
    "message": {"mid": "m1", "text": "Hallo", "attachments": [
        {"type": "image", "payload": {"url": "https://x.example/a.png"}}]}}]}]}  # fmt: skip
WHATSAPP = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
    "field": "messages", "value": {"metadata": {"phone_number_id": "p1",
    "display_phone_number": "+49 30 1"}, "contacts": [{"wa_id": "4917", "profile": {"name": "A"}}],
    "messages": [{"from": "4917", "id": "w1", "timestamp": "1700000000", "type": "text",
                  "text": {"body": "Hallo"}}],
    "statuses": [{"id": "w0", "status": "delivered", "timestamp": "1700000000"}]}}]}]}  # fmt: skip
X = {"for_user_id": "9", "direct_message_events": [{"type": "message_create", "id": "x1",
     "created_timestamp": "1700000000000", "message_create": {"target": {"recipient_id": "9"},
     "sender_id": "7", "message_data": {"text": "Hallo", "entities": {}}}}],
     "users": {"7": {"id": "7", "name": "A", "screen_name": "a"}}}  # fmt: skip

PARSERS = ((parse_meta, META), (parse_whatsapp, WHATSAPP), (parse_x, X))


def _social_or_refused(parser, raw: bytes) -> None:
    try:
        parser(raw)
    except ParseError as error:
        assert str(error)


@pytest.mark.parametrize(
    "index",
    [pytest.param(0, id="meta"), pytest.param(1, id="whatsapp"),
     pytest.param(2, id="x")],
)  # fmt: skip
def test_social_webhooks_parse_or_are_refused_clearly(index):
    parser, sample = PARSERS[index]

    @FUZZ
    @given(_shaped_like(sample))
    def run(body):
        _social_or_refused(parser, json.dumps(body).encode())

    run()


@FUZZ
@given(st.binary(max_size=500))
def test_social_webhooks_refuse_any_bytes_clearly(raw):
    for parser, _sample in PARSERS:
        _social_or_refused(parser, raw)


def test_the_samples_themselves_parse():
    assert parse_mail(MAIL).text.startswith("Wo bleibt")
    for parser, sample in PARSERS:
        parser(json.dumps(sample).encode())


LOGISTICS = {"id": "dhl-7781", "event": "return.in_transit", "return": "R-12", "carrier": "DHL",
             "tracking_number": "00340434161094015902", "refund_cents": 8995, "note": "ok",
             "occurred_at": "2026-02-03T10:15:00Z"}  # fmt: skip


@FUZZ
@given(_shaped_like(LOGISTICS) | st.binary(max_size=300).map(lambda b: {"raw": b.hex()}))
def test_logistics_deliveries_parse_or_are_refused_clearly(body):
    from helpdesk.webhooks.logistics import BadDelivery, Delivery, parse_delivery

    try:
        assert isinstance(parse_delivery(json.dumps(body).encode()), Delivery)
    except BadDelivery as error:
        assert error.status in (400, 409, 422) and str(error)
