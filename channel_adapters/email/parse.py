"""Turn the raw bytes of one e-mail into an `InboundMessage`: a pure function, no I/O.

Real mail is often broken: wrong or unknown charsets, 8-bit headers, truncated
base64, missing boundaries, absent Message-ID or Date. The helpdesk must store
every message, so everything here degrades instead of failing; `ParseError` is
raised only for input with nothing usable in it (no headers, no sender). What
went wrong along the way is recorded in `metadata["defects"]`.

This module walks the MIME structure (bodies, attachments, metadata); reading
headers lives in `headers`, turning bytes into text in `charsets`.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import Any

from channel_adapters.base import InboundAttachment, InboundMessage, ParseError
from channel_adapters.email.autoreply import (
    BOUNCE,
    detect_automatic,
    find_bounce_recipients,
    find_bounced_message_id,
)
from channel_adapters.email.charsets import decode_bytes, from_raw_bytes, payload_bytes
from channel_adapters.email.headers import (
    CONTROL,
    addresses,
    decode_header_value,
    header,
    message_id,
    one_line,
    references,
    sender,
    sent_at,
    unfold,
)
from channel_adapters.email.html_text import html_to_text
from channel_adapters.email.notes import Notes
from channel_adapters.email.quoting import split_quoted

# Anything of the form "word: text" passes as a header to the stdlib, a JSON line
# included; one of these must be present for the input to count as an e-mail.
_KNOWN_HEADERS = frozenset(
    {"from", "to", "cc", "subject", "date", "message-id", "received", "return-path"}
    | {"reply-to", "sender", "mime-version", "content-type", "delivered-to"}
)
_MAX_DEPTH = 50  # MIME nesting deeper than this is an attack or a loop, not a customer
_MEDIA_TYPE = re.compile(r"[\w!#$%&'*+.^`{|}~-]+/[\w!#$%&'*+.^`{|}~-]+")
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([\w.:-]+)", re.IGNORECASE)
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
class _Content:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[InboundAttachment] = field(default_factory=list)
    leaves: int = 0


def _parse(
    raw: bytes, max_bytes: int | None, recipient: str | None, received_at: datetime | None
) -> InboundMessage:
    notes = Notes()
    msg = _message_from_bytes(raw, notes)
    if not _KNOWN_HEADERS.intersection(name.lower() for name in msg):
        raise ParseError("no e-mail headers: not an e-mail message")
    automatic = _automatic(msg, notes)
    identity = sender(msg, automatic["automatic"] == BOUNCE, notes)
    content = _Content()
    _collect(msg, content, notes, max_bytes, depth=0)
    html = "\n".join(content.html) or None
    text, quoted = split_quoted(_body_text(content.plain, html))
    to, cc = addresses(msg, "To", notes), addresses(msg, "Cc", notes)
    return InboundMessage(
        channel="email",
        external_id=message_id(msg, raw, notes),
        sender=identity,
        text=text,
        quoted_text=quoted,
        html=html,
        subject=one_line(header(msg, "Subject", notes)),
        sent_at=sent_at(msg, received_at, notes),
        references=references(msg, notes),
        attachments=tuple(content.attachments),
        recipient=recipient or (to[0] if to else None),
        auto_submitted=automatic["automatic"] is not None,
        raw=raw,
        raw_content_type="message/rfc822",
        metadata=_metadata(msg, to, cc, automatic, notes),
    )


def _message_from_bytes(raw: bytes, notes: Notes) -> Message:
    # Mail saved by some tools starts with a byte order mark, blank lines or a stray
    # space; the stdlib would end the header block there or drop the first header.
    data = raw.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    # compat32 builds the tree without turning every header into an object: a third
    # of the cost of policy.default, and headers are decoded by our own code anyway.
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    for part in msg.walk():
        for defect in part.defects:
            notes.defect(type(defect).__name__)
    return msg


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


def _mime(part: Message, notes: Notes) -> _Mime:
    """Read a part's MIME headers with the lenient compat32 parser, 8-bit bytes decoded first.

    The parameters are read from a fresh view of the part whose 8-bit header bytes
    were decoded first: given decoded values, compat32 keeps an unencoded
    "Rechnung März.pdf" that would otherwise turn into U+FFFD.
    """
    view = Message(policy=email.policy.compat32)
    view.set_default_type(part.get_default_type())
    for name, value in part.raw_items():
        if name.lower().startswith("content-"):
            view[name] = from_raw_bytes(unfold(str(value)), notes)
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


def _filename(value: str | None, notes: Notes) -> str | None:
    """The sender's file name decoded (RFC 2231 by the caller, RFC 2047 here), without a path."""
    if not value:
        return None
    # Outlook and others put RFC 2047 words inside quoted parameters, against the RFC.
    name = one_line(decode_header_value(value, notes))
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name or None


def _collect(
    part: Message, content: _Content, notes: Notes, max_bytes: int | None, depth: int
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
    text = CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _part_text(part: Message, mime: _Mime, notes: Notes) -> str:
    data = payload_bytes(part, mime.transfer_encoding, notes)
    charset = mime.charset
    if not charset and mime.content_type == "text/html":
        declared = _META_CHARSET.search(data[:4096])
        charset = declared.group(1).decode("ascii") if declared else None
    text = decode_bytes(data, charset, notes)
    return text.replace("\x00", "")  # PostgreSQL text cannot hold NUL


def _attachment(
    part: Message, mime: _Mime, index: int, notes: Notes, max_bytes: int | None
) -> InboundAttachment:
    ctype, filename = mime.content_type, mime.filename
    if ctype.startswith("message/") and isinstance(part.get_payload(), list):
        data = _message_bytes(part, notes)
    else:
        data = payload_bytes(part, mime.transfer_encoding, notes)
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


def _eml_name(part: Message, filename: str | None, index: int, notes: Notes) -> str:
    """A name ending in .eml: the sender's, else the enclosed subject, else a generated one."""
    name = filename
    if not name:
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            name = one_line(header(payload[0], "Subject", notes))
    name = re.sub(r'[\\/:*?"<>|]', "_", name or "")[:100].strip() or f"attachment-{index}"
    return name if name.lower().endswith(".eml") else f"{name}.eml"


def _message_bytes(part: Message, notes: Notes) -> bytes:
    """An attached message (or delivery-status blocks) serialised back to bytes."""
    chunks = []
    for item in part.get_payload():
        try:
            chunks.append(item.as_bytes(policy=email.policy.compat32))
        except Exception as error:  # the generator refuses some broken input; keep the text
            notes.defect(f"attached message not re-serialisable ({type(error).__name__})")
            chunks.append(str(item).encode("utf-8", "replace"))
    return b"".join(chunks)


# -- automatic mail and metadata ------------------------------------------------------------
def _automatic(msg: Message, notes: Notes) -> dict[str, Any]:
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
    msg: Message, to: list[str], cc: list[str], automatic: dict[str, Any], notes: Notes
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"to": to, "cc": cc}
    reply_to = addresses(msg, "Reply-To", notes)
    if reply_to:
        metadata["reply_to"] = reply_to
    for key, name in (("thread_index", "Thread-Index"), ("thread_topic", "Thread-Topic")):
        value = one_line(header(msg, name, notes))
        if value:
            metadata[key] = value
    metadata.update(automatic)
    metadata["defects"] = list(notes.defects)
    metadata["charset_fallback"] = notes.charset_guessed
    return metadata
