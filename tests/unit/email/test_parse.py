"""parse_email on hand-written shop mails, one fixture for each thing real mail gets wrong."""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from channel_adapters.base import Identity, InboundMessage, ParseError
from channel_adapters.email.parse import parse_email

FIXTURES = Path(__file__).parent / "fixtures"
ALL_FIXTURES = sorted(FIXTURES.glob("*.eml"))


def parse(name: str, **options) -> InboundMessage:
    return parse_email((FIXTURES / name).read_bytes(), **options)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- headers and charsets ---------------------------------------------------------------------
def test_latin1_quoted_printable_mail_with_encoded_subject_and_names():
    msg = parse("latin1_qp_order_question.eml")

    assert msg.channel == "email"
    assert msg.external_id == "<000a01db34e2$5f3a1c20$1dae5460$@provider.example>"
    assert msg.sender == Identity("email", "j.mueller@provider.example", "Jürgen Müller")
    # A Q-encoded word, plain text, a folded line and a B-encoded word, all ISO-8859-1.
    assert msg.subject == "Lieferverzögerung bei Bestellung 100234 - Größe 44"
    assert msg.sent_at == datetime(2026, 11, 12, 8, 41, 7, tzinfo=UTC)
    assert msg.text == (
        "Sehr geehrte Damen und Herren,\n"
        "\n"
        "ich habe am 2. November die Bestellung 100234 aufgegeben (Wanderschuhe, Größe 44). "
        "Laut Sendungsverfolgung hängt das Paket seit fünf Tagen im Verteilzentrum fest.\n"
        "\n"
        "Können Sie bitte prüfen, ob es verloren gegangen ist? Falls ja, hätte ich gern einen "
        "Ersatz oder die Rückerstattung von 129,95 EUR.\n"
        "\n"
        "Mit freundlichen Grüßen\n"
        "Jürgen Müller\n"
        "Lindenstraße 12\n"
        "80331 München"
    )
    assert msg.quoted_text == "" and msg.html is None and msg.attachments == ()
    assert msg.metadata["to"] == ["service@beispielshop.example"]
    assert msg.metadata["cc"] == ["petra.mueller@provider.example"]
    assert msg.recipient == "service@beispielshop.example"
    assert msg.metadata["automatic"] is None and msg.auto_submitted is False
    assert msg.metadata["charset_fallback"] is False


def test_utf8_base64_body_and_subject_with_emoji():
    msg = parse("utf8_base64_exchange.eml")

    assert msg.subject == "Rücksendung – Größe passt nicht 👟"
    assert msg.sender == Identity("email", "anna.weber@mailbox.example", "Weber, Anna")
    assert msg.text == (
        "Hallo liebes Team,\n\n"
        "die Sneaker aus Bestellung 100871 sind leider eine Nummer zu klein. Ich möchte sie "
        "gern gegen Größe 39 umtauschen – geht das kostenlos?\n\n"
        "Danke und schöne Grüße\nAnna Weber"
    )


def test_windows_1252_declared_as_latin1_keeps_euro_and_quotes():
    msg = parse("cp1252_declared_latin1.eml")

    assert "89,90 € statt der beworbenen 79,90 €" in msg.text
    assert "„Nur diese Woche – 10 € Rabatt“" in msg.text
    assert msg.text.endswith("Gruß\nKlaus Becker")
    assert msg.metadata["charset_fallback"] is False  # a known mislabel, not a guess


def test_utf8_declared_as_ascii_is_read_as_utf8():
    msg = parse("utf8_declared_ascii.eml")

    assert msg.text.endswith("Grüße aus Köln\nMehmet Yılmaz")


def test_8bit_text_without_charset_is_guessed_and_flagged():
    msg = parse("missing_charset_latin1.eml")

    assert msg.text == (
        "Hallo,\n\ndie Jacke in Größe M ist mir zu groß. Kann ich sie gegen S tauschen?"
        "\n\nDanke, Jörg"
    )
    assert msg.sender == Identity("email", "joerg@provider.example", None)
    assert msg.metadata["charset_fallback"] is True


# -- structure ------------------------------------------------------------------------------
def test_multipart_alternative_takes_text_from_plain_and_keeps_html():
    msg = parse("alternative_text_html.eml")

    assert msg.text == (
        "Hi there,\n\nI ordered the rain jacket in navy (order 100552) but received it in bright"
        " yellow.\nCould you send me a return label, please?\n\nThanks,\nTom"
    )
    assert msg.html is not None
    assert msg.html.startswith('<html><head><meta charset="utf-8"></head>')
    assert "<b>navy</b>" in msg.html
    assert msg.attachments == ()


def test_html_only_mail_gets_its_text_from_the_html():
    msg = parse("html_only.eml")

    assert msg.text == (
        "Guten Tag,\n"
        "\n"
        "meine Bestellung 100911 ist angekommen, aber es fehlen zwei Artikel:\n"
        "\n"
        "- Thermoskanne 0,75 l\n"
        "- Kaffeefilter Größe 4\n"
        "\n"
        "Der Lieferschein führt beide auf. Bitte schicken Sie die fehlenden Teile nach – oder "
        "erstatten Sie 24,90 €.\n"
        "\n"
        "Freundliche Grüße\n"
        "Sabine Koch"
    )
    assert msg.html is not None and "&ndash;" in msg.html  # raw, not sanitised here


def test_nested_mixed_related_alternative_with_inline_image_and_rfc2231_pdf():
    msg = parse("nested_related_pdf.eml")

    assert msg.text.startswith("Hallo,\n\ndie Kaffeemaschine aus der Rechnung vom März")
    assert msg.html is not None and 'src="cid:schaden-foto@mailbox.example"' in msg.html
    image, pdf = msg.attachments
    assert (image.filename, image.content_type, image.inline) == ("schaden.png", "image/png", True)
    assert image.content_id == "schaden-foto@mailbox.example"
    assert image.size == 73 and image.data is not None and image.data.startswith(b"\x89PNG")
    assert image.sha256 == "f679f4e10fb15149e273ae55f371d190d6f8a508aaccc6359d96434e78f31059"
    assert (pdf.filename, pdf.content_type, pdf.inline) == (
        "Rechnung März.pdf",
        "application/pdf",
        False,
    )
    assert pdf.content_id is None and pdf.size == 346
    assert (
        pdf.data is not None and pdf.data.startswith(b"%PDF-1.4") and pdf.data.endswith(b"%%EOF\n")
    )
    assert pdf.sha256 == sha256(pdf.data)
    assert pdf.sha256 == "4c21147769c8a59a437f1c83a8b8d30395b9fe26329e05fdbd44d4353929e4fe"


def test_attachment_over_the_limit_is_kept_as_a_reference():
    msg = parse("nested_related_pdf.eml", max_attachment_bytes=100)

    image, pdf = msg.attachments
    assert image.data is not None and image.omitted_reason is None  # 73 bytes fit
    assert pdf.data is None
    assert pdf.omitted_reason == "larger than the limit of 100 bytes"
    assert pdf.size == 346
    assert pdf.sha256 == "4c21147769c8a59a437f1c83a8b8d30395b9fe26329e05fdbd44d4353929e4fe"


def test_malformed_base64_keeps_what_decodes():
    msg = parse("broken_base64_attachment.eml")

    (label,) = msg.attachments
    # Two stray "!" are skipped; the last, incomplete base64 group is dropped.
    assert label.filename == "label.txt" and label.size == 120
    assert label.data == (b"Retourenlabel 100377 " * 12)[:120]
    assert "truncated base64" in msg.metadata["defects"]
    assert msg.text == "Das Label lässt sich bei mir nicht öffnen, siehe Anhang."


# -- ids, dates, threading ---------------------------------------------------------------------
def test_missing_message_id_is_derived_from_the_bytes():
    raw = (FIXTURES / "contact_form_no_id_no_date.eml").read_bytes()

    first, again = parse_email(raw), parse_email(raw)
    other = parse_email(raw.replace(b"Lieferzeit", b"Lieferzeiten"))

    assert first.external_id == "<9338ce437daa574977130be6f698e289@missing-message-id.invalid>"
    assert first.external_id == f"<{sha256(raw)[:32]}@missing-message-id.invalid>"
    assert again.external_id == first.external_id
    assert other.external_id != first.external_id


def test_missing_date_falls_back_to_received_at_then_to_the_epoch():
    raw = (FIXTURES / "contact_form_no_id_no_date.eml").read_bytes()
    received = datetime(2026, 11, 20, 9, 30, tzinfo=timezone(timedelta(hours=1)))

    assert parse_email(raw).sent_at == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_email(raw, received_at=received).sent_at == datetime(
        2026, 11, 20, 8, 30, tzinfo=UTC
    )


def test_contact_form_keeps_reply_to_apart_from_the_sender():
    msg = parse("contact_form_no_id_no_date.eml")

    assert msg.sender == Identity("email", "noreply@beispielshop.example", "Kontaktformular")
    assert msg.metadata["reply_to"] == ["maria.schulz@mailbox.example"]
    assert msg.text.endswith("Nachricht: Wie lange dauert die Lieferung nach Österreich?")


def test_recipient_argument_wins_over_the_to_header():
    msg = parse("latin1_qp_order_question.eml", recipient="support@beispielshop.example")

    assert msg.recipient == "support@beispielshop.example"
    assert msg.metadata["to"] == ["service@beispielshop.example"]


# -- replies and quoting -------------------------------------------------------------------
def test_thunderbird_reply_splits_off_signature_and_quote_but_not_the_greeting():
    msg = parse("reply_am_schrieb.eml")

    assert msg.text == (
        "Hallo,\n\n"
        "das Paket ist heute angekommen, aber der Karton war eingedrückt und die\n"
        "Vase ist zerbrochen. Fotos kann ich gern nachreichen.\n\n"
        "Viele Grüße\nAnna Weber\nKundennummer 58812"
    )
    assert msg.quoted_text == (
        "--\nAnna Weber\nTel. 0170 1234567\n\n"
        "Am 10.11.2026 um 15:12 schrieb Beispielshop Kundenservice:\n"
        "> Guten Tag Frau Weber,\n>\n> Ihre Bestellung 100234 wurde heute an DHL übergeben.\n"
        ">\n> Ihr Beispielshop-Team"
    )
    assert msg.references == (
        "<20261109083000.100234@beispielshop.example>",
        "<20261110151200.100234@beispielshop.example>",
    )


def test_outlook_german_reply_with_header_block_and_thread_index():
    msg = parse("outlook_de_reply.eml")

    assert msg.subject == "AW: AW: Rücksendung Bestellung 100377"
    assert msg.sender == Identity("email", "m.schneider@gartenbau.example", "Schneider, Markus")
    # The company address below the greeting is part of the message; the block is not.
    assert msg.text.endswith(
        "Markus Schneider\n\nSchneider Gartenbau GmbH\nHauptstraße 5, 50667 Köln"
    )
    assert msg.quoted_text.startswith(
        "Von: Beispielshop Kundenservice <service@beispielshop.example>\n"
        "Gesendet: Mittwoch, 11. November 2026 16:20\n"
    )
    assert msg.quoted_text.endswith("anbei das Retourenetikett.\n\nIhr Beispielshop-Team")
    assert "\r" not in msg.text + msg.quoted_text  # the fixture has CRLF line ends
    assert msg.metadata["thread_index"] == "AQHZ8k3sN2vX0Pq1Rk6bT+5yQm1rYwABkGLw"
    assert msg.metadata["thread_topic"] == "Rücksendung Bestellung 100377"
    assert msg.references == (
        "<20261110120000.100377@beispielshop.example>",
        "<20261111152000.100377@beispielshop.example>",
    )
    assert msg.html is not None and "MsoNormal" in msg.html


def test_english_reply_with_wrapped_on_wrote_and_garbage_in_references():
    msg = parse("english_on_wrote.eml")

    assert msg.text == "Great, thanks! When will the refund show up on my card?"
    assert msg.quoted_text.startswith("Sent from my iPhone\n\nOn Thu, Nov 12, 2026 at 10:14 AM")
    assert msg.quoted_text.endswith("> Example Shop Support")
    # References first (oldest first), then In-Reply-To; comments and bare tokens ignored.
    assert msg.references == (
        "<ret-100552.1@example-shop.example>",
        "<ret-100552.2@example-shop.example>",
    )
    assert "thread_index" not in msg.metadata


# -- automatic mail ------------------------------------------------------------------------
def test_out_of_office_recognised_by_auto_submitted():
    msg = parse("out_of_office_auto_submitted.eml")

    assert msg.auto_submitted is True
    assert msg.metadata["automatic"] == "auto_reply"
    assert msg.metadata["automatic_reason"] == "Auto-Submitted: auto-replied (vacation)"
    assert "bounced_message_id" not in msg.metadata


def test_out_of_office_recognised_by_german_subject_alone():
    msg = parse("out_of_office_subject_only.eml")

    assert msg.subject == "Abwesenheitsnotiz: Ihre Bestellung 100234 wurde versandt"
    assert msg.auto_submitted is True
    assert msg.metadata["automatic"] == "auto_reply"
    assert msg.metadata["automatic_reason"].startswith("subject 'Abwesenheitsnotiz:")


def test_bounce_names_the_original_message_and_the_failed_recipient():
    msg = parse("bounce_dsn.eml")

    assert msg.auto_submitted is True
    assert msg.metadata["automatic"] == "bounce"
    assert msg.metadata["automatic_reason"] == "multipart/report; report-type=delivery-status"
    assert msg.metadata["bounced_message_id"] == "<20261112091500.100234@beispielshop.example>"
    assert msg.metadata["bounce_recipients"] == ["anna.weber@mailbox-typo.example"]
    assert msg.sender == Identity(
        "email", "mailer-daemon@mx.beispielshop.example", "Mail Delivery System"
    )
    assert msg.text.startswith("This is the mail system at host mx.beispielshop.example.")
    status, original = msg.attachments
    assert (status.filename, status.content_type) == ("attachment-2.txt", "message/delivery-status")
    assert status.data is not None and b"Final-Recipient: rfc822; anna.weber@" in status.data
    assert original.filename == "Ihre Bestellung 100234 wurde versandt.eml"
    assert original.content_type == "message/rfc822"
    assert original.data is not None
    assert b"Message-ID: <20261112091500.100234@beispielshop.example>" in original.data


@pytest.mark.parametrize(
    ("headers", "automatic"),
    [
        (b"Subject: Automatische Antwort: Bestellung 100234\n", "auto_reply"),
        (b"Subject: =?utf-8?Q?Ich_bin_nicht_im_B=C3=BCro?=\n", "auto_reply"),
        (b"Subject: Out of Office: order 100552\n", "auto_reply"),
        (b"Subject: Abwesend bis 20.11.\n", "auto_reply"),
        (b"Subject: Hallo\nX-Autoreply: yes\n", "auto_reply"),
        (b"Subject: Hallo\nPrecedence: junk\n", "auto_reply"),
        (b"Subject: Hallo\nAuto-Submitted: no\n", None),
        (b"Subject: Abwesenheit: bis 20.11.\n", "auto_reply"),
        # Customers writing about a missed delivery or a holiday are not auto-replies.
        (b"Subject: Abwesend bei Zustellung - Paket zurueck?\n", None),
        (b"Subject: On vacation - please hold my parcel\n", None),
        # A customer forwarding a bounce to us wants help; it is not a bounce.
        (b"Subject: Fwd: Undelivered Mail Returned to Sender\n", None),
        (b"Subject: Unzustellbar: Ihre Bestellung\n", "bounce"),
        (b"Subject: Hallo\nX-Failed-Recipients: anna@mailbox.example\n", "bounce"),
    ],
)
def test_automatic_mail_signals(headers, automatic):
    raw = b"From: Anna <anna@mailbox.example>\nMessage-ID: <x@y>\n" + headers + b"\nText\n"

    assert parse_email(raw).metadata["automatic"] == automatic


# -- failure and robustness ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty input"),
        (b" \r\n\r\n", "empty input"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "not an e-mail"),
        (b'{"order": 100234, "status": "shipped"}', "not an e-mail"),
        (b"Subject: Bestellung\nTo: service@beispielshop.example\n\nHallo\n", "no sender address"),
        (b"From: Anna Weber\nSubject: ohne Adresse\n\nHallo\n", "no sender address"),
    ],
)
def test_input_with_nothing_usable_raises_parse_error(raw, reason):
    with pytest.raises(ParseError, match=reason):
        parse_email(raw)


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda path: path.stem)
def test_every_fixture_keeps_raw_bytes_and_json_serialisable_metadata(path):
    raw = path.read_bytes()
    msg = parse_email(raw)

    assert msg.raw == raw and msg.raw_content_type == "message/rfc822"
    assert msg.sent_at.tzinfo is UTC
    json.dumps(dict(msg.metadata))
    for line in (msg.text + "\n" + msg.quoted_text).split("\n"):
        assert line == line.rstrip() and "\r" not in line


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda path: path.stem)
def test_damaged_copies_parse_or_raise_parse_error_only(path):
    # Truncated and bit-flipped copies stand in for what a broken sender or a
    # bad disk produces: anything may come out, but only ever a ParseError.
    raw = path.read_bytes()
    rng = random.Random(path.name)
    for _ in range(12):
        damaged = bytearray(raw[: rng.randrange(1, len(raw))])
        for _ in range(rng.randrange(0, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        with contextlib.suppress(ParseError):
            parse_email(bytes(damaged))
