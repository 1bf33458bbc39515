"""Turn the raw bytes of one e-mail into an `InboundMessage`: a pure function, no I/O.

Real mail is often broken: wrong or unknown charsets, 8-bit headers, truncated
base64, missing boundaries, absent Message-ID or Date. The helpdesk must store
every message, so everything here degrades instead of failing; `ParseError` is
raised only for input with nothing usable in it (no headers, no sender). What
went wrong along the way is recorded in `metadata["defects"]`.
"""

from __future__ import annotations

import binascii
import codecs
import email
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import Any

import charset_normalizer

from channel_adapters.base import Identity, InboundAttachment, InboundMessage, ParseError
from channel_adapters.email.autoreply import (
    BOUNCE,
    detect_automatic,
    find_bounce_recipients,
    find_bounced_message_id,
)
from channel_adapters.email.html_text import html_to_text
from channel_adapters.email.quoting import split_quoted

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Anything of the form "word: text" passes as a header to the stdlib, a JSON line
# included; one of these must be present for the input to count as an e-mail.
_KNOWN_HEADERS = frozenset(
    {"from", "to", "cc", "subject", "date", "message-id", "received", "return-path"}
    | {"reply-to", "sender", "mime-version", "content-type", "delivered-to"}
)
_MAX_DEPTH = 50  # MIME nesting deeper than this is an attack or a loop, not a customer

# The encoded text never contains "?"; spaces inside it are tolerated (broken mailers).
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([qQbB])\?([^?]*)\?=")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Intranet senders ("bob@extern", "guest@localhost") are real, so the domain needs no dot.
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@(?:[\w-]+(?:\.[\w-]+)*|\[[\d.:a-fA-F]+\])")
# RFC 5321 makes "postmaster" valid without a domain; bounces come from a bare MAILER-DAEMON.
_BARE_SYSTEM_SENDER = re.compile(r"\b(mailer-daemon|postmaster)\b", re.IGNORECASE)
_MEDIA_TYPE = re.compile(r"[\w!#$%&'*+.^`{|}~-]+/[\w!#$%&'*+.^`{|}~-]+")
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([\w.:-]+)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/=\r\n]")
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/]+")
_TRANSFER_ENCODINGS = frozenset(
    {"", "7bit", "8bit", "binary", "quoted-printable", "x-uuencode", "uuencode", "x-uue", "uue"}
)
_SURROGATE = re.compile(r"[\udc80-\udcff]")
#: Labels mail uses that Python does not know, and labels whose real-world use is a
#: superset, decoded as browsers do (WHATWG Encoding Standard): text labelled GB2312
#: is in practice GBK, EUC-KR is Windows-949, Shift_JIS is Windows-31J.
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",  # "-i"/"-e" only mark the text direction
    "iso-8859-6-i": "iso-8859-6",
    "iso-8859-6-e": "iso-8859-6",
    "iso-8859-8-e": "iso-8859-8",
    "x-mac-cyrillic": "mac-cyrillic",
    "x-mac-roman": "mac-roman",
    "windows-874": "cp874",
    "unicode-1-1-utf-7": "utf-7",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
}
#: Codecs Python knows that no mail client means: they would interpret the bytes as code.
_REFUSED_CODECS = frozenset({"unicode_escape", "raw_unicode_escape", "idna", "punycode"})
#: Extensions for generated file names; deliberately not `mimetypes`, whose answers
#: depend on the machine's /etc/mime.types.
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "application/zip": ".zip",
    "application/json": ".json",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/pkcs7-signature": ".p7s",
    "application/x-pkcs7-signature": ".p7s",
    "application/pgp-signature": ".asc",
    "application/ms-tnef": ".dat",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/bmp": ".bmp",
    "image/tiff": ".tif",
    "audio/mpeg": ".mp3",
    "video/mp4": ".mp4",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/csv": ".csv",
    "text/calendar": ".ics",
    "text/vcard": ".vcf",
    "text/x-vcard": ".vcf",
    "text/rfc822-headers": ".txt",
    "message/delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "message/feedback-report": ".txt",
    "message/rfc822": ".eml",
}


def parse_email(
    raw: bytes,
    *,
    max_attachment_bytes: int | None = None,
    recipient: str | None = None,
    received_at: datetime | None = None,
) -> InboundMessage:
    """Parse one RFC 5322 message into an `InboundMessage` on the "email" channel.

    Deterministic: the same bytes and arguments give the same message (a missing
    Message-ID is derived from the bytes, a missing Date falls back to
    `received_at`, then to the Unix epoch; the clock is never read). Attachments
    larger than `max_attachment_bytes` keep their size and hash but not their
    bytes. `recipient` is the mailbox the message was delivered to; without it
    the first To address is used. Raises `ParseError` and nothing else.
    """
    if not raw or not raw.strip():
        raise ParseError("empty input")
    try:
        return _parse(raw, max_attachment_bytes, recipient, received_at)
    except ParseError:
        raise
    except Exception as error:
        # Last line of defence: the stdlib's parser has bugs on hostile input that no
        # amount of care here can foresee. The caller quarantines with this reason.
        raise ParseError(f"unreadable message ({type(error).__name__}: {error})") from error


@dataclass
class _Notes:
    """What went wrong while reading, for `metadata`."""

    defects: list[str] = field(default_factory=list)
    charset_guessed: bool = False

    def defect(self, text: str) -> None:
        if text not in self.defects:
            self.defects.append(text)


@dataclass
class _Content:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[InboundAttachment] = field(default_factory=list)
    leaves: int = 0


def _parse(
    raw: bytes, max_bytes: int | None, recipient: str | None, received_at: datetime | None
) -> InboundMessage:
    notes = _Notes()
    msg = _message_from_bytes(raw, notes)
    if not _KNOWN_HEADERS.intersection(name.lower() for name in msg):
        raise ParseError("no e-mail headers: not an e-mail message")
    automatic = _automatic(msg, notes)
    sender = _sender(msg, automatic["automatic"] == BOUNCE, notes)
    content = _Content()
    _collect(msg, content, notes, max_bytes, depth=0)
    html = "\n".join(content.html) or None
    text, quoted = split_quoted(_body_text(content.plain, html))
    to, cc = _addresses(msg, "To", notes), _addresses(msg, "Cc", notes)
    return InboundMessage(
        channel="email",
        external_id=_message_id(msg, raw, notes),
        sender=sender,
        text=text,
        quoted_text=quoted,
        html=html,
        subject=_one_line(_header(msg, "Subject", notes)),
        sent_at=_sent_at(msg, received_at, notes),
        references=_references(msg, notes),
        attachments=tuple(content.attachments),
        recipient=recipient or (to[0] if to else None),
        auto_submitted=automatic["automatic"] is not None,
        raw=raw,
        raw_content_type="message/rfc822",
        metadata=_metadata(msg, to, cc, automatic, notes),
    )


def _message_from_bytes(raw: bytes, notes: _Notes) -> Message:
    # Mail saved by some tools starts with a byte order mark, blank lines or a stray
    # space; the stdlib would end the header block there or drop the first header.
    data = raw.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
    except Exception as error:  # a header the modern policy cannot digest; compat32 can
        notes.defect(f"reparsed with compat32 after {type(error).__name__}")
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
    for part in msg.walk():
        for defect in part.defects:
            notes.defect(type(defect).__name__)
    return msg


# -- headers ---------------------------------------------------------------------------------
def _raw_headers(msg: Message, name: str) -> list[str]:
    wanted = name.lower()
    return [_unfold(str(value)) for key, value in msg.raw_items() if key.lower() == wanted]


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])|\r?\n$", "", value)


def _header(msg: Message, name: str, notes: _Notes) -> str:
    """The first `name` header, RFC 2047 decoded; "" when absent."""
    values = _raw_headers(msg, name)
    return _decode_header_value(values[0], notes) if values else ""


def _decode_header_value(value: str, notes: _Notes) -> str:
    """Decode RFC 2047 encoded words, tolerating what real mailers do wrong.

    Adjacent words in one charset are joined before decoding, because mailers
    split multi-byte characters across words; whitespace between encoded words
    is dropped, as RFC 2047 says; unencoded 8-bit bytes are read as UTF-8 or
    Windows-1252.
    """
    text = _from_raw_bytes(value, notes)
    tokens: list[str | tuple[str, bytes]] = []
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        if between and not (between.isspace() and tokens and isinstance(tokens[-1], tuple)):
            tokens.append(between)
        charset, data = match[1].split("*")[0].lower(), _decode_word(match[2], match[3])
        previous = tokens[-1] if tokens else None
        if isinstance(previous, tuple) and previous[0] == charset:
            tokens[-1] = (charset, previous[1] + data)
        else:
            tokens.append((charset, data))
        position = match.end()
    tokens.append(text[position:])
    return "".join(
        token if isinstance(token, str) else _decode_bytes(token[1], token[0], notes, short=True)
        for token in tokens
    )


def _decode_word(encoding: str, payload: str) -> bytes:
    data = payload.encode("utf-8")
    if encoding in "bB":
        return _b64decode_lenient(data)
    return binascii.a2b_qp(data, header=True)


def _from_raw_bytes(value: str, notes: _Notes) -> str:
    """Undo the parser's surrogate escapes: 8-bit bytes in headers, charset undeclared."""
    if not _SURROGATE.search(value):
        return value
    notes.defect("undeclared 8-bit header")
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _mostly_utf8(data) or _cp1252(data)


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub("", text).split())


#: Where the sender's address is looked for, in order: From, then the headers that
#: also name a sender (the reply address, the transmitting agent, the envelope sender).
_SENDER_HEADERS = ("From", "Reply-To", "Sender", "Return-Path")


def _sender(msg: Message, is_bounce: bool, notes: _Notes) -> Identity:
    """From; the other sender headers only when From has no usable address.

    A delivery report is sent with the null sender ("From: <>", RFC 5321 4.5.5) or
    from a bare "MAILER-DAEMON": that is the mail system speaking, and it gets the
    identity "mailer-daemon" rather than being quarantined.
    """
    for name in _SENDER_HEADERS:
        for value in _raw_headers(msg, name):
            found = _parse_addresses(value, notes)
            if found:
                if name != "From":
                    notes.defect(f"sender taken from {name}")
                address, display_name = found[0]
                return Identity("email", address, display_name)
    for value in _raw_headers(msg, "From"):
        text = _from_raw_bytes(value, notes)
        system = _BARE_SYSTEM_SENDER.search(text)
        if system or is_bounce:
            display_name = _display_name(text.partition("<")[0], "", notes)
            return Identity("email", system.group(0) if system else "mailer-daemon", display_name)
    raise ParseError("no sender address")


def _parse_addresses(value: str, notes: _Notes) -> list[tuple[str, str | None]]:
    """(address, display name) pairs; falls back to anything shaped like an address."""
    text = _from_raw_bytes(value, notes)
    found = []
    for display, address in email.utils.getaddresses([text]):
        address = address.strip().strip("<>")
        if _ADDRESS.fullmatch(address):
            found.append((address, _display_name(display, address, notes)))
    if not found:
        found = [(match.group(0), None) for match in _ADDRESS.finditer(text)]
        if found:
            notes.defect("address recovered from a malformed header")
    return found


def _display_name(display: str, address: str, notes: _Notes) -> str | None:
    name = _one_line(_decode_header_value(display, notes)).strip("\"' ")
    return name if name and name.lower() != address.lower() else None


def _addresses(msg: Message, name: str, notes: _Notes) -> list[str]:
    found = [
        address.lower()
        for value in _raw_headers(msg, name)
        for address, _ in _parse_addresses(value, notes)
    ]
    return list(dict.fromkeys(found))


def _message_id(msg: Message, raw: bytes, notes: _Notes) -> str:
    """The Message-ID with angle brackets; derived from the bytes if there is none.

    Deriving it from the bytes makes a re-import of the same mail a no-op.
    """
    values = _raw_headers(msg, "Message-ID")
    value = _from_raw_bytes(values[0], notes) if values else ""
    found = _MESSAGE_ID.search(value)
    if found:
        return found.group(0)
    token = "".join(value.split()).strip("<>")
    if token:
        return f"<{token}>"
    return f"<{hashlib.sha256(raw).hexdigest()[:32]}@missing-message-id.invalid>"


def _references(msg: Message, notes: _Notes) -> tuple[str, ...]:
    """References then In-Reply-To, deduplicated: oldest first, the parent last."""
    found = [
        message_id
        for name in ("References", "In-Reply-To")
        for value in _raw_headers(msg, name)
        for message_id in _MESSAGE_ID.findall(_from_raw_bytes(value, notes))
    ]
    return tuple(dict.fromkeys(found))


def _sent_at(msg: Message, received_at: datetime | None, notes: _Notes) -> datetime:
    values = _raw_headers(msg, "Date")
    if values and values[0].strip():
        try:
            sent = email.utils.parsedate_to_datetime(values[0].strip())
            # "-0000" means "zone unknown"; the stdlib then returns a naive datetime.
            return (sent if sent.tzinfo else sent.replace(tzinfo=UTC)).astimezone(UTC)
        except (TypeError, ValueError, IndexError, OverflowError):
            notes.defect("unparseable Date header")
    if received_at is None:
        return EPOCH
    return received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC)


# -- structure -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Mime:
    """What one part's Content-* headers say."""

    content_type: str
    disposition: str | None
    filename: str | None
    charset: str | None
    content_id: str | None
    transfer_encoding: str


def _mime(part: Message, notes: _Notes) -> _Mime:
    """Read a part's MIME headers with the lenient compat32 parser, 8-bit bytes decoded first.

    The message structure comes from the policy.default parse; its parameters are
    read here the compat32 way because that parser accepts what real mailers send,
    is an order of magnitude faster on deeply nested mail, and, given decoded
    values, keeps an unencoded "Rechnung März.pdf" that policy.default would turn
    into U+FFFD.
    """
    view = Message(policy=email.policy.compat32)
    view.set_default_type(part.get_default_type())
    for name, value in part.raw_items():
        if name.lower().startswith("content-"):
            view[name] = _from_raw_bytes(_unfold(str(value)), notes)
    charset = view.get_param("charset")
    if isinstance(charset, tuple):  # RFC 2231: (charset, language, value)
        charset = email.utils.collapse_rfc2231_value(charset)
    content_id = "".join(str(view.get("Content-ID", "")).split()).strip("<>")
    # "application/pdf name=x.pdf" (a missing semicolon) still names application/pdf.
    media_type = _MEDIA_TYPE.match(view.get_content_type())
    return _Mime(
        content_type=media_type.group(0) if media_type else "application/octet-stream",
        disposition=view.get_content_disposition(),
        filename=_filename(view.get_filename(), notes),
        charset=str(charset).strip() if charset else None,
        # HTML refers to inline images as "cid:<Content-ID without brackets>".
        content_id=content_id or None,
        transfer_encoding=str(view.get("Content-Transfer-Encoding", "")).strip().lower(),
    )


def _filename(value: str | None, notes: _Notes) -> str | None:
    """The sender's file name decoded (RFC 2231 by the caller, RFC 2047 here), without a path."""
    if not value:
        return None
    # Outlook and others put RFC 2047 words inside quoted parameters, against the RFC.
    name = _one_line(_decode_header_value(value, notes))
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name or None


def _collect(
    part: Message, content: _Content, notes: _Notes, max_bytes: int | None, depth: int
) -> None:
    """Sort every part into body text, body HTML or attachment, depth first."""
    if depth > _MAX_DEPTH:
        notes.defect("MIME nesting too deep; inner parts ignored")
        return
    mime = _mime(part, notes)
    if part.is_multipart() and not mime.content_type.startswith("message/"):
        for child in part.get_payload():
            if isinstance(child, Message):
                _collect(child, content, notes, max_bytes, depth + 1)
        return
    content.leaves += 1
    if _is_body(mime):
        text = _part_text(part, mime, notes)
        (content.html if mime.content_type == "text/html" else content.plain).append(text)
    else:
        content.attachments.append(_attachment(part, mime, content.leaves, notes, max_bytes))


def _is_body(mime: _Mime) -> bool:
    if mime.filename or mime.disposition == "attachment":
        return False
    # A multipart without a usable boundary arrives as one opaque part: showing its
    # text beats losing it.
    return mime.content_type in ("text/plain", "text/html") or mime.content_type.startswith(
        "multipart/"
    )


def _body_text(plain: list[str], html: str | None) -> str:
    """The plain text body; derived from the HTML when there is no (non-empty) text part."""
    text = _normalise_text("\n".join(plain))
    if not text and html:
        text = _normalise_text(html_to_text(html))
    return text


def _normalise_text(text: str) -> str:
    """Unix line ends, no trailing spaces, no blank lines around, no control characters."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _part_text(part: Message, mime: _Mime, notes: _Notes) -> str:
    data = _payload_bytes(part, mime.transfer_encoding, notes)
    charset = mime.charset
    if not charset and mime.content_type == "text/html":
        declared = _META_CHARSET.search(data[:4096])
        charset = declared.group(1).decode("ascii") if declared else None
    text = _decode_bytes(data, charset, notes)
    return text.replace("\x00", "")  # PostgreSQL text cannot hold NUL


def _attachment(
    part: Message, mime: _Mime, index: int, notes: _Notes, max_bytes: int | None
) -> InboundAttachment:
    ctype, filename = mime.content_type, mime.filename
    if ctype.startswith("message/") and isinstance(part.get_payload(), list):
        data = _message_bytes(part, notes)
    else:
        data = _payload_bytes(part, mime.transfer_encoding, notes)
    if ctype == "message/rfc822":
        filename = _eml_name(part, filename, index, notes)
    return InboundAttachment.from_bytes(
        filename or f"attachment-{index}{_EXTENSIONS.get(ctype, '.bin')}",
        ctype,
        data,
        content_id=mime.content_id,
        inline=mime.disposition == "inline"
        or (mime.disposition is None and mime.content_id is not None),
        max_size=max_bytes,
    )


def _eml_name(part: Message, filename: str | None, index: int, notes: _Notes) -> str:
    """A name ending in .eml: the sender's, else the enclosed subject, else a generated one."""
    name = filename
    if not name:
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            name = _one_line(_header(payload[0], "Subject", notes))
    name = re.sub(r'[\\/:*?"<>|]', "_", name or "")[:100].strip() or f"attachment-{index}"
    return name if name.lower().endswith(".eml") else f"{name}.eml"


def _message_bytes(part: Message, notes: _Notes) -> bytes:
    """An attached message (or delivery-status blocks) serialised back to bytes."""
    chunks = []
    for item in part.get_payload():
        try:
            chunks.append(item.as_bytes(policy=email.policy.compat32))
        except Exception as error:  # the generator refuses some broken input; keep the text
            notes.defect(f"attached message not re-serialisable ({type(error).__name__})")
            chunks.append(str(item).encode("utf-8", "replace"))
    return b"".join(chunks)


# -- payloads and charsets ------------------------------------------------------------------
def _payload_bytes(part: Message, encoding: str, notes: _Notes) -> bytes:
    """The part's content with its transfer `encoding` undone; never raises."""
    if encoding == "base64":
        # Base64 text is ASCII, so the undecoded payload is exact; the stdlib's own
        # decoder returns the encoded text unchanged when it meets damage.
        payload = str(part.get_payload())
        if _looks_like_base64(payload):
            return _b64decode_lenient(payload.encode("ascii", "ignore"), notes)
        notes.defect("declared base64 but is not")
        return payload.encode("utf-8", "surrogateescape")
    if encoding not in _TRANSFER_ENCODINGS:
        notes.defect(f"unknown transfer encoding {encoding[:30]!r}")
    try:
        # Only with decode=True does the stdlib hand back 8-bit bytes as they came;
        # without it, it decodes them by the declared charset and replaces the rest.
        decoded = part.get_payload(decode=True)
    except Exception as error:  # a header the modern policy cannot read
        notes.defect(f"payload not decodable ({type(error).__name__})")
        decoded = str(part.get_payload()).encode("utf-8", "replace")
    return decoded if isinstance(decoded, bytes) else b""


def _looks_like_base64(payload: str) -> bool:
    """False for text that only claims to be base64: it has spaces and punctuation inside lines."""
    foreign = len(_NOT_BASE64.findall(payload))
    return foreign <= 0.05 * len(payload)


def _b64decode_lenient(data: bytes, notes: _Notes | None = None) -> bytes:
    """Decode what is intact of damaged base64: stray characters, missing or inner padding.

    Some senders pad every line, some truncate the last group; each run between
    padding is decoded on its own and an incomplete last group is dropped.
    """
    out = bytearray()
    for run in _BASE64_RUN.findall(re.sub(rb"[^A-Za-z0-9+/=]", b"", data)):
        remainder = len(run) % 4
        if remainder == 1:
            run = run[:-1]
            if notes:
                notes.defect("truncated base64")
        out += binascii.a2b_base64(run + b"=" * (-len(run) % 4))
    return bytes(out)


#: Declared charsets that senders routinely get wrong: text labelled ASCII or
#: ISO-8859-1 is in practice often UTF-8 or Windows-1252 (€, typographic quotes).
#: Browsers read both labels as Windows-1252 for the same reason (WHATWG).
_MISLABELLED = frozenset({"ascii", "iso8859-1"})
#: Non-ASCII characters of German, English and neighbouring languages, as Windows-1252
#: decodes them; text made mostly of these is Western European.
_WESTERN = frozenset("äöüÄÖÜßéèêëàâáíìîïóòôúùûçñÉÈÊÀÂÇÑåÅæÆøØœŒãõÃÕ€„“”‚‘’–—…•°§²³½¼«»·×©®™¡¿\xa0")


def _decode_bytes(data: bytes, charset: str | None, notes: _Notes, *, short: bool = False) -> str:
    """Decode text by its declared charset, correcting the usual mislabels, else guess.

    `short` marks header fragments, too short for statistical guessing.
    """
    codec = _codec(charset)
    if codec in _MISLABELLED:
        if data.isascii():
            return data.decode("ascii")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return _cp1252(data)
    if codec:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):  # LookupError: not a text codec ("base64")
            notes.defect(f"text is not valid {codec}")
    elif charset:
        notes.defect(f"unknown charset {charset[:40]!r}")
    return _guess(data, notes, short=short)


def _codec(charset: str | None) -> str | None:
    """Python's codec name for a declared charset; None if missing, unknown or refused."""
    name = (charset or "").strip().strip("\"'").split("*")[0].strip().lower()
    name = name.removeprefix("charset=")  # seen in the wild: charset="charset=us-ascii"
    if not name:
        return None
    try:
        codec = codecs.lookup(_CHARSET_ALIASES.get(name, name)).name
    except LookupError:
        return None
    return None if codec in _REFUSED_CODECS else codec


def _guess(data: bytes, notes: _Notes, *, short: bool) -> str:
    """Decode text whose charset is undeclared or wrong.

    UTF-8 is unambiguous, so it is tried first, then UTF-8 with a few damaged
    sequences. charset-normalizer is unreliable on short German text (it reads
    "Grüße" as Big5), so text that reads as plausible Western European in
    Windows-1252 is taken as that before asking it. Body text that needed any of
    this is flagged (`metadata["charset_fallback"]`); headers are too short to guess.
    """
    if data.isascii():
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    western = _cp1252(data)
    if short:
        return _mostly_utf8(data) or western
    notes.charset_guessed = True
    mostly = _mostly_utf8(data)
    if mostly is not None:
        return mostly
    if _looks_western(western):
        return western
    best = charset_normalizer.from_bytes(data).best()
    return str(best) if best is not None else western


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few damaged sequences (a name cut off mid-character), else None.

    Many valid multi-byte characters against few errors cannot happen by chance in
    a single-byte charset; "Frösche" in Latin-1 has no valid sequence at all.
    """
    text = data.decode("utf-8", "replace")
    errors = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    valid = sum(1 for char in text if ord(char) > 127) - text.count("\ufffd")
    return text if valid >= 4 * errors else None


def _looks_western(text: str) -> bool:
    unusual = [char for char in text if ord(char) > 127]
    return sum(char in _WESTERN for char in unusual) >= 0.9 * len(unusual)


def _cp1252(data: bytes) -> str:
    """Windows-1252, with its five undefined bytes read as ISO-8859-1: never fails."""
    text = data.decode("cp1252", "surrogateescape")
    return _SURROGATE.sub(lambda match: chr(ord(match.group()) - 0xDC00), text)


# -- automatic mail and metadata ------------------------------------------------------------
def _automatic(msg: Message, notes: _Notes) -> dict[str, Any]:
    try:
        kind, reason = detect_automatic(msg)
        found: dict[str, Any] = {"automatic": kind, "automatic_reason": reason}
        if kind == BOUNCE:
            found["bounced_message_id"] = find_bounced_message_id(msg)
            found["bounce_recipients"] = find_bounce_recipients(msg)
        return found
    except Exception as error:
        # Classifying is secondary: a failure here must not cost us the message itself.
        notes.defect(f"automatic-mail detection failed ({type(error).__name__})")
        return {"automatic": None, "automatic_reason": None}


def _metadata(
    msg: Message, to: list[str], cc: list[str], automatic: dict[str, Any], notes: _Notes
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"to": to, "cc": cc}
    reply_to = _addresses(msg, "Reply-To", notes)
    if reply_to:
        metadata["reply_to"] = reply_to
    for key, name in (("thread_index", "Thread-Index"), ("thread_topic", "Thread-Topic")):
        value = _one_line(_header(msg, name, notes))
        if value:
            metadata[key] = value
    metadata.update(automatic)
    metadata["defects"] = list(notes.defects)
    metadata["charset_fallback"] = notes.charset_guessed
    return metadata
