"""Recognise mail that no person wrote: bounces, out-of-office replies, read receipts.

A helpdesk must never open a ticket for them or, worse, answer them: two robots
replying to each other fill both mailboxes within the hour. Headers are the
reliable signal (RFC 3834 `Auto-Submitted`, RFC 3464 delivery reports); the
subject lines mail servers and clients use are the fallback for the many that
set no header.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import suppress
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32

BOUNCE = "bounce"
AUTO_REPLY = "auto_reply"

# Delivery reports announce themselves in the subject, at the very start: a customer
# who forwards one to us ("Fwd: Undelivered Mail ...") is asking for help.
_BOUNCE_SUBJECT = re.compile(
    r"^(undelivered mail|undeliverable|undelivered|unzustellbar|nicht zustellbar"
    r"|delivery status notification|delivery notification|delivery failure|delivery report"
    r"|mail delivery failed|mail delivery failure|mail delivery system|message delivery failure"
    r"|delivery has failed|message delivery has failed|returned mail|failure notice"
    r"|mail system error|nondeliverable|non-deliverable|warning: could not send"
    r"|delayed mail|mail could not be delivered|sorry, your message could not be delivered"
    r"|unzustellbare nachricht|fehler beim zustellen|benachrichtigung über den zustellstatus)",
    re.IGNORECASE,
)
# MAILER-DAEMON writes nothing but delivery reports; a postmaster also writes to people,
# so mail from a postmaster counts only when its subject is about delivery.
_DAEMON_SENDER = re.compile(r"\b(mailer-daemon|mailer_daemon|mail-daemon)\b", re.IGNORECASE)
_POSTMASTER_SENDER = re.compile(r"\bpostmaster\b", re.IGNORECASE)
_DELIVERY_WORDS = re.compile(r"deliver|zustell|failure|returned|undeliver", re.IGNORECASE)
# "Abwesend"/"Abwesenheit" alone start genuine customer subjects too ("Abwesend bei
# Zustellung"), so they count only as "Abwesend:" or "Abwesend bis/vom/von/ab ...".
# Phrases a customer could open with ("On vacation, please hold my parcel") are left out.
_AUTO_REPLY_SUBJECT = re.compile(
    r"^(automatische antwort|abwesenheitsnotiz|abwesenheitsmeldung"
    r"|abwesen(d|heit)(\s*:|\s+(bis|vom|von|ab)\b|\s*$)|ich bin nicht im büro"
    r"|out of (the )?office|auto[- ]?reply|auto[- ]?response|autorespons|automatic reply"
    r"|auto[- ]?antwort|away from (the )?office|urlaubsbedingt abwesend)",
    re.IGNORECASE,
)
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "X-Mail-Autoreply")
_AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_MEDIA_TYPE = re.compile(r"\s*([\w!#$%&'*+.^`{|}~-]+/[\w!#$%&'*+.^`{|}~-]+)")
_REPORT_TYPE = re.compile(r"report-type\s*=\s*\"?([\w-]+)", re.IGNORECASE)
_HEADER_MESSAGE_ID = re.compile(r"^message-id:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)


def detect_automatic(msg: Message) -> tuple[str | None, str | None]:
    """Classify `msg` as ("bounce", why), ("auto_reply", why) or (None, None).

    Bounces win over auto-replies because delivery reports often carry
    `Auto-Submitted: auto-replied` too. Read receipts count as auto-replies. The
    reason is short and names the signal, e.g. "Auto-Submitted: auto-replied".
    """
    for detect in (_bounce_reason, _auto_reply_reason):
        verdict = detect(msg)
        if verdict:
            return verdict
    return None, None


def find_bounced_message_id(msg: Message) -> str | None:
    """The Message-ID of the mail that bounced, as "<id>", or None if the report hides it.

    Looked for, most reliable first: the returned message (message/rfc822), the
    returned headers (text/rfc822-headers), the report's own In-Reply-To and
    References, and finally a "Message-ID:" line quoted in the report's text.
    """
    for part in _own_parts(msg):
        ctype = _content_type(part)
        if ctype == "message/rfc822":
            payload = part.get_payload()
            enclosed = payload[0] if isinstance(payload, list) and payload else None
            found = _first_id(_raw_header(enclosed, "Message-ID")) if enclosed else None
            if found:
                return found
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers"):
            found = _HEADER_MESSAGE_ID.search(_payload_text(part))
            if found:
                return found.group(1)
    for name in ("In-Reply-To", "References"):
        found = _first_id(_raw_header(msg, name))
        if found:
            return found
    for part in _own_parts(msg):
        if _content_type(part) == "text/plain":
            found = _HEADER_MESSAGE_ID.search(_payload_text(part))
            if found:
                return found.group(1)
    return None


def find_bounce_recipients(msg: Message) -> list[str]:
    """Addresses a delivery report says could not be reached, lower-cased, in order.

    Read from the per-recipient blocks of message/delivery-status (Action: failed,
    or a permanent 5.x.x status when no action is given) and from Exim's
    `X-Failed-Recipients` header.
    """
    found: list[str] = []
    for part in _own_parts(msg):
        if _content_type(part) == "message/delivery-status":
            found += [_address(block) for block in _status_blocks(part) if _failed(block)]
    for value in _raw_headers(msg, "X-Failed-Recipients"):
        found += [address.strip() for address in value.split(",")]
    return list(dict.fromkeys(address.lower() for address in found if "@" in address))


# -- signals -----------------------------------------------------------------------------
def _bounce_reason(msg: Message) -> tuple[str, str] | None:
    report_type = _report_type(msg)
    if report_type in ("delivery-status", "feedback-report"):
        # Feedback reports are spam complaints about our mail: like a bounce, they are
        # the mail system talking and say something about the recipient's address.
        return BOUNCE, f"multipart/report; report-type={report_type}"
    if any(_content_type(part) == "message/delivery-status" for part in _own_parts(msg)):
        return BOUNCE, "message/delivery-status part"
    if _raw_headers(msg, "X-Failed-Recipients"):
        return BOUNCE, "X-Failed-Recipients header"
    subject, sender = _header(msg, "Subject"), _header(msg, "From")
    daemon = _DAEMON_SENDER.search(sender)
    if daemon:
        return BOUNCE, f"From {daemon.group(0)}"
    if _POSTMASTER_SENDER.search(sender) and _DELIVERY_WORDS.search(subject):
        return BOUNCE, f"From postmaster with subject {subject[:60]!r}"
    if _BOUNCE_SUBJECT.match(subject):
        return BOUNCE, f"subject {subject[:60]!r}"
    return None


def _auto_reply_reason(msg: Message) -> tuple[str, str] | None:
    if _report_type(msg) == "disposition-notification":
        return AUTO_REPLY, "read receipt"
    submitted = _header(msg, "Auto-Submitted")
    if submitted and submitted.lower() != "no":
        return AUTO_REPLY, f"Auto-Submitted: {submitted}"
    for name in _AUTO_HEADERS:
        if _raw_headers(msg, name):
            return AUTO_REPLY, f"{name}: {_header(msg, name)}".rstrip()
    if _header(msg, "X-Autogenerated").lower() == "reply":
        return AUTO_REPLY, "X-Autogenerated: Reply"
    precedence = _header(msg, "Precedence").lower()
    if precedence in _AUTO_PRECEDENCE:
        return AUTO_REPLY, f"Precedence: {precedence}"
    subject = _header(msg, "Subject")
    if _AUTO_REPLY_SUBJECT.match(subject):
        return AUTO_REPLY, f"subject {subject[:60]!r}"
    return None


# -- reading the message -------------------------------------------------------------------
# Everything here reads raw header text: it is cheap (the policy's header objects cost
# milliseconds each on deeply nested mail) and it cannot raise on a malformed header.
def _content_type(part: Message) -> str:
    found = _MEDIA_TYPE.match(_raw_header(part, "Content-Type"))
    return found.group(1).lower() if found else part.get_default_type()


def _report_type(msg: Message) -> str | None:
    """The report-type of a multipart/report message ("delivery-status", ...), else None."""
    if _content_type(msg) != "multipart/report":
        return None
    found = _REPORT_TYPE.search(_raw_header(msg, "Content-Type"))
    return found.group(1).lower() if found else ""


def _header(msg: Message, name: str) -> str:
    """A header's value on one line with RFC 2047 words decoded, or ""; never raises.

    Matching needs only keywords, so the stdlib's plain decoder is enough here;
    parse.py decodes carefully for what is shown to people.
    """
    value = _raw_header(msg, name)
    # An unknown charset or a broken encoded word leaves the raw text to match on.
    with suppress(HeaderParseError, LookupError, UnicodeError, ValueError):
        value = str(make_header(decode_header(value)))
    return " ".join(value.split())


def _raw_headers(msg: Message, name: str) -> list[str]:
    wanted = name.lower()
    return [str(value) for key, value in msg.raw_items() if key.lower() == wanted]


def _raw_header(msg: Message, name: str) -> str:
    values = _raw_headers(msg, name)
    return values[0] if values else ""


def _first_id(value: str) -> str | None:
    found = _MESSAGE_ID.search(value)
    return found.group(0) if found else None


def _own_parts(msg: Message) -> Iterator[Message]:
    """Every part of `msg` itself, not descending into attached messages.

    A customer who attaches a bounce they received is not a bounce.
    """
    yield msg
    if _content_type(msg).startswith("message/"):
        return
    payload = msg.get_payload()
    if isinstance(payload, list):
        for part in payload:
            if isinstance(part, Message):
                yield from _own_parts(part)


def _payload_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", "replace")
    return str(part.get_payload())


def _status_blocks(part: Message) -> list[Message]:
    """The field blocks of a message/delivery-status part, however the parser left it."""
    payload = part.get_payload()
    if isinstance(payload, list):  # the stdlib parses each block into a Message
        return [block for block in payload if isinstance(block, Message)]
    text = _payload_text(part).replace("\r\n", "\n")
    parser = HeaderParser(policy=compat32)
    return [parser.parsestr(block.strip() + "\n") for block in re.split(r"\n\s*\n", text)]


def _failed(block: Message) -> bool:
    action = _raw_header(block, "Action").strip().lower()
    if action:
        return action.startswith("failed")
    return _raw_header(block, "Status").strip().startswith("5")


def _address(block: Message) -> str:
    value = _raw_header(block, "Final-Recipient") or _raw_header(block, "Original-Recipient")
    # "rfc822; anna@example.com" — the address type comes first
    return value.rpartition(";")[2].strip().strip("<>")
