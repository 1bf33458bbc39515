"""build_email and SmtpSender, the latter against a real aiosmtpd server."""

from __future__ import annotations

import dataclasses
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from channel_adapters.base import (
    ConfigError,
    Identity,
    InboundAttachment,
    OutboundMessage,
    SendError,
)
from channel_adapters.email.smtp import SmtpSender, SmtpSettings, build_email
from tests.mail_servers import SmtpRecorder, free_port

SUBJECT = "Ihre Bestellung 4711 – Rückfrage zur Größe"


def reply(**fields) -> OutboundMessage:
    values = dict(
        channel="email",
        recipient=Identity("email", "Kundin@Example.de", "Jörg Müller-Lüdenscheidt"),
        text="Hallo Frau Müller,\n\nIhre Bestellung ist unterwegs.\n\nGrüße\nIhr Shop-Team",
        html="<p>Hallo Frau Müller,</p><p>Ihre Bestellung ist <b>unterwegs</b>.</p>",
        message_id="<reply-1@shop.test>",
        subject=SUBJECT,
        sender="Shop Service <service@shop.test>",
        references=("<first@example.de>", "<second@shop.test>", "<third@example.de>"),
    )
    values.update(fields)
    return OutboundMessage(**values)


def parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[return-value]


def sender_for(server: SmtpRecorder, **overrides) -> SmtpSender:
    settings = SmtpSettings.from_url(server.url())
    return SmtpSender(dataclasses.replace(settings, timeout=5.0, **overrides))


# build_email


def test_threading_headers_point_at_the_last_reference():
    mail = build_email(reply(), domain="shop.test")

    assert mail["Message-ID"] == "<reply-1@shop.test>"
    assert mail["In-Reply-To"] == "<third@example.de>"
    assert mail["References"].split() == [
        "<first@example.de>",
        "<second@shop.test>",
        "<third@example.de>",
    ]
    assert parsedate_to_datetime(mail["Date"]).utcoffset().total_seconds() == 0


def test_long_references_are_folded_but_survive_a_round_trip():
    references = tuple(f"<message-{n:03d}.with.a.long.local.part@example.de>" for n in range(12))
    raw = build_email(reply(references=references), domain="shop.test").as_bytes()

    assert all(len(line) <= 78 for line in raw.split(b"\n"))
    assert tuple(parse(raw)["References"].split()) == references


def test_no_references_means_no_threading_headers():
    mail = build_email(reply(references=()), domain="shop.test")

    assert mail["In-Reply-To"] is None
    assert mail["References"] is None


def test_missing_message_id_is_made_up_in_our_domain():
    mail = build_email(reply(message_id=""), domain="shop.test")

    assert mail["Message-ID"].startswith("<")
    assert mail["Message-ID"].endswith("@shop.test>")


def test_missing_sender_is_a_config_error():
    with pytest.raises(ConfigError, match="sender"):
        build_email(reply(sender=None), domain="shop.test")


def test_auto_submitted_replies_say_so():
    mail = build_email(reply(auto_submitted=True), domain="shop.test")

    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert build_email(reply(), domain="shop.test")["Auto-Submitted"] is None


def test_extra_headers_are_added_and_win_over_ours():
    headers = {"X-Helpdesk-Ticket": "T-1042", "Auto-Submitted": "auto-generated"}
    mail = build_email(reply(auto_submitted=True, headers=headers), domain="shop.test")

    assert mail["X-Helpdesk-Ticket"] == "T-1042"
    assert mail.get_all("Auto-Submitted") == ["auto-generated"]


def test_header_with_a_line_break_cannot_be_sent():
    with pytest.raises(SendError) as caught:
        build_email(reply(headers={"X-Evil": "a\r\nBcc: victim@example.com"}), domain="x")
    assert caught.value.retryable is False


def test_umlauts_in_subject_and_names_are_encoded_and_decode_back():
    raw = build_email(reply(), domain="shop.test").as_bytes()

    assert raw.isascii()
    parsed = parse(raw)
    assert parsed["Subject"] == SUBJECT
    assert parsed["To"].addresses[0].display_name == "Jörg Müller-Lüdenscheidt"
    assert parsed["To"].addresses[0].addr_spec == "kundin@example.de"
    assert parsed["From"].addresses[0].addr_spec == "service@shop.test"


def test_text_and_html_are_alternatives():
    parsed = parse(build_email(reply(), domain="shop.test").as_bytes())

    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert plain.get_content() == reply().text + "\n"
    assert "<b>unterwegs</b>" in html.get_content()


def test_text_only_reply_is_a_single_part():
    parsed = parse(build_email(reply(html=None), domain="shop.test").as_bytes())

    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"


def test_attachment_with_umlaut_filename_round_trips():
    pdf = b"%PDF-1.4\n" + bytes(range(256))
    attachment = InboundAttachment.from_bytes("Rechnung März 2026.pdf", "application/pdf", pdf)

    parsed = parse(build_email(reply(attachments=(attachment,)), domain="x").as_bytes())

    (part,) = list(parsed.iter_attachments())
    assert part.get_filename() == "Rechnung März 2026.pdf"
    assert part.get_content_type() == "application/pdf"
    assert part.get_content() == pdf
    assert parsed.get_body(preferencelist=("plain",)).get_content().startswith("Hallo")


def test_attachment_without_bytes_cannot_be_sent():
    big = InboundAttachment.from_bytes("video.mp4", "video/mp4", b"x" * 10, max_size=5)

    with pytest.raises(SendError, match="video.mp4") as caught:
        build_email(reply(attachments=(big,)), domain="shop.test")
    assert caught.value.retryable is False


# SmtpSender


def test_send_delivers_and_returns_the_servers_reply(smtp_server: SmtpRecorder):
    mail = build_email(reply(cc=("chef@shop.test",)), domain="shop.test")

    answer = sender_for(smtp_server).send(mail)

    assert answer == "250 2.0.0 Ok: queued as REC0001"
    (received,) = smtp_server.messages
    assert received.mail_from == "service@shop.test"
    assert sorted(received.rcpt_tos) == ["chef@shop.test", "kundin@example.de"]
    parsed = received.parsed()
    for header in ("Message-ID", "In-Reply-To", "References", "Subject", "Date", "Cc"):
        assert parsed[header] == mail[header]
    body = parsed.get_body(preferencelist=("plain",)).get_content()
    assert body.replace("\r\n", "\n") == reply().text + "\n"  # SMTP carries CRLF line ends


def test_mail_without_recipients_is_refused_before_connecting():
    mail = build_email(reply(), domain="shop.test")
    del mail["To"]
    sender = SmtpSender(SmtpSettings("127.0.0.1", free_port(), security="none"))

    with pytest.raises(SendError, match="no recipients") as caught:
        sender.send(mail)
    assert caught.value.retryable is False


def test_temporary_refusal_is_retryable(smtp_server):
    smtp_server.fail_next("451 4.3.0 try later")

    with pytest.raises(SendError) as caught:
        sender_for(smtp_server).send(build_email(reply(), domain="shop.test"))

    assert caught.value.retryable is True
    assert "451 4.3.0 try later" in str(caught.value)
    assert smtp_server.messages == []


def test_retry_after_a_temporary_refusal_delivers(smtp_server):
    smtp_server.fail_next("451 4.3.0 try later")
    sender = sender_for(smtp_server)
    mail = build_email(reply(), domain="shop.test")

    with pytest.raises(SendError):
        sender.send(mail)
    assert sender.send(mail).startswith("250 ")
    assert len(smtp_server.messages) == 1


def test_permanent_refusal_is_not_retryable(smtp_server):
    smtp_server.fail_next("550 5.1.1 unknown user")

    with pytest.raises(SendError) as caught:
        sender_for(smtp_server).send(build_email(reply(), domain="shop.test"))

    assert caught.value.retryable is False
    assert "550 5.1.1 unknown user" in str(caught.value)


def test_refused_recipient_is_not_retryable_and_names_the_address(smtp_server):
    smtp_server.fail_next("550 5.1.1 <kundin@example.de>: Recipient address rejected", stage="RCPT")

    with pytest.raises(SendError) as caught:
        sender_for(smtp_server).send(build_email(reply(), domain="shop.test"))

    assert caught.value.retryable is False
    assert "550 5.1.1 <kundin@example.de>: Recipient address rejected" in str(caught.value)


def test_unreachable_server_is_retryable():
    port = free_port()
    sender = SmtpSender(SmtpSettings("127.0.0.1", port, security="none", timeout=5))

    with pytest.raises(SendError) as caught:
        sender.send(build_email(reply(), domain="shop.test"))

    assert caught.value.retryable is True
    assert f"cannot reach 127.0.0.1:{port} (connection refused)" in str(caught.value)


@pytest.mark.parametrize("password", ["plain-ascii-42", "Grüße aus Köln"])
def test_login_over_starttls_delivers(certificate: tuple[Path, Path], password: str):
    with SmtpRecorder(users={"service@shop.test": password}, certificate=certificate) as server:
        sender = sender_for(
            server,
            security="starttls",
            ca_file=str(certificate[0]),
            username="service@shop.test",
            password=password,
        )
        assert sender.send(build_email(reply(), domain="shop.test")).startswith("250 ")
        assert len(server.messages) == 1


@pytest.mark.parametrize("password", ["wrong", "falsch-ß"])
def test_refused_login_is_not_retryable(certificate, password):
    with SmtpRecorder(users={"service@shop.test": "right"}, certificate=certificate) as server:
        sender = sender_for(
            server,
            security="starttls",
            ca_file=str(certificate[0]),
            username="service@shop.test",
            password=password,
        )
        with pytest.raises(SendError) as caught:
            sender.send(build_email(reply(), domain="shop.test"))
        assert server.messages == []

    assert caught.value.retryable is False
    assert "535 5.7.8 Authentication credentials invalid" in str(caught.value)
    assert "check username and password" in str(caught.value)


def test_starttls_with_our_ca_delivers(certificate: tuple[Path, Path]):
    with SmtpRecorder(certificate=certificate) as server:
        sender = sender_for(server, security="starttls", ca_file=str(certificate[0]))
        assert sender.send(build_email(reply(), domain="shop.test")).startswith("250 ")
        assert len(server.messages) == 1


def test_implicit_tls_with_our_ca_delivers(certificate):
    with SmtpRecorder(certificate=certificate, implicit_tls=True) as server:
        sender = sender_for(server, security="ssl", ca_file=str(certificate[0]))
        assert sender.send(build_email(reply(), domain="shop.test")).startswith("250 ")
        assert len(server.messages) == 1


def test_untrusted_certificate_asks_for_ca_file(certificate):
    with SmtpRecorder(certificate=certificate) as server:
        sender = sender_for(server, security="starttls", ca_file=None)
        with pytest.raises(SendError, match="set ca_file"):
            sender.send(build_email(reply(), domain="shop.test"))
        assert server.messages == []


def test_starttls_against_a_server_without_it_is_not_retryable(smtp_server):
    sender = sender_for(smtp_server, security="starttls")

    with pytest.raises(SendError, match="STARTTLS") as caught:
        sender.send(build_email(reply(), domain="shop.test"))
    assert caught.value.retryable is False


# SmtpSettings.from_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://service%40shop.test:p%40ss%3Aw%C3%B6rd@mail.shop.test:587",
            SmtpSettings("mail.shop.test", 587, "starttls", "service@shop.test", "p@ss:wörd"),
        ),
        ("smtp://mail.shop.test", SmtpSettings("mail.shop.test", 587, "starttls")),
        ("smtps://u:p@mail.shop.test", SmtpSettings("mail.shop.test", 465, "ssl", "u", "p")),
        ("smtps://mail.shop.test:2465", SmtpSettings("mail.shop.test", 2465, "ssl")),
        ("smtp+plain://127.0.0.1:2525", SmtpSettings("127.0.0.1", 2525, "none")),
        ("smtp+plain://relay.local", SmtpSettings("relay.local", 25, "none")),
        (
            "smtps://mail.shop.test/?ca_file=/etc/ssl/shop-ca.pem&timeout=7.5",
            SmtpSettings("mail.shop.test", 465, "ssl", ca_file="/etc/ssl/shop-ca.pem", timeout=7.5),
        ),
    ],
)
def test_from_url_reads_every_scheme(url, expected):
    assert SmtpSettings.from_url(url) == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://mail.shop.test", "must start with one of smtp://, smtps://, smtp+plain://"),
        ("mail.shop.test:587", "must start with one of"),
        ("smtp://", "names no host"),
        ("smtp://mail.shop.test:99999", "invalid port"),
        ("smtp://mail.shop.test:abc", "invalid port"),
        ("smtp://mail.shop.test/inbox", "has a path"),
        ("smtp://mail.shop.test?verify=no", "unknown option verify"),
        ("smtp://mail.shop.test?timeout=soon", "timeout must be a number"),
    ],
)
def test_from_url_refuses_what_it_cannot_read(url, problem):
    with pytest.raises(ConfigError, match=problem.replace("+", r"\+")):
        SmtpSettings.from_url(url)


def test_from_url_errors_do_not_show_the_password():
    with pytest.raises(ConfigError) as caught:
        SmtpSettings.from_url("smtp://user:hunter2@mail.shop.test/path")
    assert "hunter2" not in str(caught.value)
    assert "user:***@" in str(caught.value)


def test_settings_do_not_show_the_password():
    assert "hunter2" not in repr(SmtpSettings.from_url("smtp://u:hunter2@mail.shop.test"))
