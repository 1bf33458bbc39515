"""Reading the headers of an e-mail, however badly they were written.

Unfolds and RFC 2047-decodes header values (tolerating split multi-byte
characters, undeclared 8-bit bytes and malformed encoded words), picks the
sender from From or its stand-ins, and reads the addresses, Message-ID,
References and Date the helpdesk needs. Nothing here raises except `sender`,
when there is no sender at all; every work-around is recorded in a `Notes`.
"""

from __future__ import annotations

import binascii
import email.utils
import hashlib
import re
from datetime import UTC, datetime
from email.message import Message

from channel_adapters.base import Identity, ParseError
from channel_adapters.email.charsets import b64decode_lenient, decode_bytes, from_raw_bytes
from channel_adapters.email.notes import Notes

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Control characters other than tab, line feed and carriage return: never wanted in text.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The encoded text never contains "?"; spaces inside it are tolerated (broken mailers).
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([qQbB])\?([^?]*)\?=")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Intranet senders ("bob@extern", "guest@localhost") are real, so the domain needs no dot.
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@(?:[\w-]+(?:\.[\w-]+)*|\[[\d.:a-fA-F]+\])")
# RFC 5321 makes "postmaster" valid without a domain; bounces come from a bare MAILER-DAEMON.
_BARE_SYSTEM_SENDER = re.compile(r"\b(mailer-daemon|postmaster)\b", re.IGNORECASE)


def _raw_headers(msg: Message, name: str) -> list[str]:
    wanted = name.lower()
    return [unfold(str(value)) for key, value in msg.raw_items() if key.lower() == wanted]


def unfold(value: str) -> str:
    """The header value on one logical line: folding line breaks removed."""
    return re.sub(r"\r?\n(?=[ \t])|\r?\n$", "", value)


def header(msg: Message, name: str, notes: Notes) -> str:
    """The first `name` header, RFC 2047 decoded; "" when absent."""
    values = _raw_headers(msg, name)
    return decode_header_value(values[0], notes) if values else ""


def decode_header_value(value: str, notes: Notes) -> str:
    """Decode RFC 2047 encoded words, tolerating what real mailers do wrong.

    Adjacent words in one charset are joined before decoding, because mailers
    split multi-byte characters across words; whitespace between encoded words
    is dropped, as RFC 2047 says; unencoded 8-bit bytes are read as UTF-8 or
    Windows-1252.
    """
    text = from_raw_bytes(value, notes)
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
        token if isinstance(token, str) else decode_bytes(token[1], token[0], notes, short=True)
        for token in tokens
    )


def _decode_word(encoding: str, payload: str) -> bytes:
    data = payload.encode("utf-8")
    if encoding in "bB":
        return b64decode_lenient(data)
    return binascii.a2b_qp(data, header=True)


def one_line(text: str) -> str:
    """`text` without control characters, its whitespace runs collapsed to single spaces."""
    return " ".join(CONTROL.sub("", text).split())


#: Where the sender's address is looked for, in order: From, then the headers that
#: also name a sender (the reply address, the transmitting agent, the envelope sender).
_SENDER_HEADERS = ("From", "Reply-To", "Sender", "Return-Path")


def sender(msg: Message, is_bounce: bool, notes: Notes) -> Identity:
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
        text = from_raw_bytes(value, notes)
        system = _BARE_SYSTEM_SENDER.search(text)
        if system or is_bounce:
            display_name = _display_name(text.partition("<")[0], "", notes)
            return Identity("email", system.group(0) if system else "mailer-daemon", display_name)
    raise ParseError("no sender address")


def _parse_addresses(value: str, notes: Notes) -> list[tuple[str, str | None]]:
    """(address, display name) pairs; falls back to anything shaped like an address."""
    text = from_raw_bytes(value, notes)
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


def _display_name(display: str, address: str, notes: Notes) -> str | None:
    name = one_line(decode_header_value(display, notes)).strip("\"' ")
    return name if name and name.lower() != address.lower() else None


def addresses(msg: Message, name: str, notes: Notes) -> list[str]:
    """The lower-cased addresses in every `name` header, deduplicated, in order."""
    found = [
        address.lower()
        for value in _raw_headers(msg, name)
        for address, _ in _parse_addresses(value, notes)
    ]
    return list(dict.fromkeys(found))


def message_id(msg: Message, raw: bytes, notes: Notes) -> str:
    """The Message-ID with angle brackets; derived from the bytes if there is none.

    Deriving it from the bytes makes a re-import of the same mail a no-op.
    """
    values = _raw_headers(msg, "Message-ID")
    value = from_raw_bytes(values[0], notes) if values else ""
    found = _MESSAGE_ID.search(value)
    if found:
        return found.group(0)
    token = "".join(value.split()).strip("<>")
    if token:
        return f"<{token}>"
    return f"<{hashlib.sha256(raw).hexdigest()[:32]}@missing-message-id.invalid>"


def references(msg: Message, notes: Notes) -> tuple[str, ...]:
    """References then In-Reply-To, deduplicated: oldest first, the parent last."""
    found = [
        reference
        for name in ("References", "In-Reply-To")
        for value in _raw_headers(msg, name)
        for reference in _MESSAGE_ID.findall(from_raw_bytes(value, notes))
    ]
    return tuple(dict.fromkeys(found))


def sent_at(msg: Message, received_at: datetime | None, notes: Notes) -> datetime:
    """The Date header in UTC; else `received_at`, else the Unix epoch (never the clock)."""
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
