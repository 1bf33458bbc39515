"""Phone calls: numbers in E.164, calls an agent logs, and calls Twilio reports.

A call is a `Message` on a ticket with channel "phone": the agent's note (or Twilio's
transcription) is its text, and `details["call"]` holds number, direction, duration
and outcome. Inbound calls enter through `ingest()`, like every other customer
message, so a caller is found by their number (a WhatsApp sender is the same phone
identity) and repeated calls from one number continue one ticket. Calls we made are
recorded on the ticket they were about.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

import phonenumbers
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from channel_adapters.base import Identity, InboundMessage
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Customer, Message, Ticket, User
from helpdesk.models.tickets import UNSOLVED_STATUSES
from helpdesk.models.types import utcnow
from helpdesk.services import ticket_actions
from helpdesk.services.customers import add_identity, resolve_customer
from helpdesk.services.events import record_event

log = logging.getLogger(__name__)

OUTCOMES: tuple[str, ...] = ("answered", "missed", "voicemail", "callback_requested")
CALL_DIRECTIONS: tuple[str, ...] = ("in", "out")
#: Outcomes after which someone has to call the customer back; the ticket is tagged so.
CALL_BACK_OUTCOMES = frozenset({"missed", "voicemail", "callback_requested"})
CALLBACK_TAG = "callback"
DEFAULT_PHONE_REGION = "DE"
_DURATION = re.compile(r"^\s*(?:(\d{1,3}):)?(\d{1,5})\s*$")


def phone_region() -> str:
    """Where numbers without a country code are assumed to be (HELPDESK_PHONE_REGION)."""
    return str(current_app.config.get("PHONE_REGION") or DEFAULT_PHONE_REGION).upper()


def normalise_phone(raw: str, region: str | None = None) -> str:
    """`raw` in E.164 (+4930123456), read as a number of `region` unless it names its
    country; InvalidInput for what is no possible phone number."""
    text = (raw or "").strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region or phone_region())
    except phonenumbers.NumberParseException:
        raise InvalidInput(_("%(value)s is not a phone number.", value=raw)) from None
    # Possible, not "valid": a new number range must not lose a caller; a local-only
    # fragment ("12") is refused.
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise InvalidInput(_("%(value)s is not a phone number.", value=raw))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class Call:
    """One call as logged: `number` in E.164, `direction` "in" or "out"."""

    number: str
    direction: str
    duration_seconds: int
    outcome: str
    note: str = ""

    def details(self, **more) -> dict:
        return {"call": {**asdict(self), **more}}

    def event_data(self) -> dict:
        """For the event trail: the facts of the call, not the note (it is the message)."""
        return {"number": self.number, "direction": self.direction,
                "duration_seconds": self.duration_seconds, "outcome": self.outcome}  # fmt: skip

    def summary(self) -> str:
        """The message text when the agent wrote no note: who called whom, how it ended."""
        if self.direction == "in":
            return _("Call from %(number)s: %(outcome)s", number=self.number,
                     outcome=outcome_label(self.outcome))  # fmt: skip
        return _("Call to %(number)s: %(outcome)s", number=self.number,
                 outcome=outcome_label(self.outcome))  # fmt: skip


def outcome_label(outcome: str) -> str:
    return {
        "answered": _("answered"),
        "missed": _("missed"),
        "voicemail": _("voicemail"),
        "callback_requested": _("callback requested"),
    }.get(outcome, outcome)


def parse_call(form) -> Call:
    """A `Call` from the log-a-call form; InvalidInput names the first wrong field."""
    direction = form.get("direction", "")
    if direction not in CALL_DIRECTIONS:
        raise InvalidInput(_("Choose whether the customer called or we called."))
    outcome = form.get("outcome", "")
    if outcome not in OUTCOMES:
        raise InvalidInput(_("Choose how the call ended."))
    duration = parse_duration(form.get("duration", ""))
    note = (form.get("note") or "").strip()
    if len(note) > 20000:
        raise InvalidInput(_("The note is too long."))
    return Call(normalise_phone(form.get("number", "")), direction, duration, outcome, note)


def parse_duration(raw: str) -> int:
    """Seconds from "90", "1:30" or "" (0)."""
    if not (raw or "").strip():
        return 0
    match = _DURATION.match(raw)
    if match is None:
        raise InvalidInput(_("Give the duration as minutes:seconds or seconds."))
    minutes, seconds = match.groups()
    return int(minutes or 0) * 60 + int(seconds)


def log_call_on_ticket(ticket: Ticket, user: User, call: Call) -> Message:
    """Record `call` on `ticket`; the number becomes the customer's if nobody has it (if
    another customer has it, the two are one person and are merged)."""
    if ticket.merged_into_id is not None:
        raise InvalidInput(_("This ticket is merged into #%(number)s; answer there.",
                             number=ticket.merged_into_id))  # fmt: skip
    add_identity(ticket.customer, Identity("phone", call.number), user=user)
    at = utcnow()
    message = Message(
        ticket=ticket,
        channel="phone",
        direction="inbound" if call.direction == "in" else "outbound",
        author_kind="agent",
        author=user,
        counterpart=call.number,
        thread_key=call.number,
        subject=ticket.subject,
        text=call.note or call.summary(),
        sent_at=at,
        created_at=at,
        details=call.details(logged_by=user.id),
    )
    db.session.add(message)
    ticket.last_activity_at = max(ticket.last_activity_at, at)
    if call.direction == "out" and call.outcome == "answered" and ticket.first_response_at is None:
        ticket.first_response_at = at
    if call.outcome in CALL_BACK_OUTCOMES and call.direction == "in":
        ticket_actions.add_tag(ticket, CALLBACK_TAG, user=user)
    record_event("call.logged", ticket=ticket, message=message, user=user, **call.event_data())
    return message


def log_call_for_customer(customer: Customer, user: User, call: Call) -> Message:
    """Record `call` from the customer's page. A call in enters like any inbound message
    (the caller's open phone ticket continues, else a new one); a call out is recorded
    on the customer's most recent open ticket, or a new phone ticket."""
    customer = add_identity(customer, Identity("phone", call.number), user=user)
    if call.direction == "in":
        result = ingest(inbound_call(call, external_id=f"logged:{uuid.uuid4()}",
                                     display_name=customer.name,
                                     details=call.details(logged_by=user.id)))  # fmt: skip
        message = result.message
        message.author = user  # who wrote the note down
        if call.outcome in CALL_BACK_OUTCOMES:
            ticket_actions.add_tag(result.ticket, CALLBACK_TAG, user=user)
        record_event("call.logged", ticket=result.ticket, message=message, user=user,
                     **call.event_data())  # fmt: skip
        return message
    ticket = _open_ticket(customer)
    if ticket is None:
        ticket = Ticket(subject=call.summary()[:500], channel="phone", customer=customer,
                        status="open", language=customer.language)  # fmt: skip
        db.session.add(ticket)
        db.session.flush()
        record_event("ticket.created", ticket=ticket, customer=customer, user=user,
                     channel="phone", reason="call")  # fmt: skip
    return log_call_on_ticket(ticket, user, call)


def inbound_call(
    call: Call,
    *,
    external_id: str,
    sent_at: datetime | None = None,
    display_name: str | None = None,
    details: dict | None = None,
    raw: bytes | None = None,
) -> InboundMessage:
    """`call` (direction "in") as the channel-neutral message `ingest()` stores."""
    subject = (_("Missed call from %(number)s: please call back", number=call.number)
               if call.outcome in CALL_BACK_OUTCOMES else call.summary())  # fmt: skip
    return InboundMessage(
        channel="phone",
        external_id=external_id,
        sender=Identity("phone", call.number, display_name),
        text=call.note or call.summary(),
        subject=subject,
        sent_at=sent_at or utcnow(),
        thread_key=call.number,
        raw=raw,
        raw_content_type="application/x-www-form-urlencoded" if raw is not None else None,
        metadata=details or call.details(),
    )


def record_call(
    call: Call, external_id: str, extra: dict, *, raw: bytes | None = None
) -> tuple[Message, bool]:
    """Store a call a telephony system reported, once per `external_id`; returns the
    message and whether it was stored before."""
    if call.direction == "in":
        result = ingest(inbound_call(call, external_id=external_id, raw=raw,
                                     details=call.details(**extra)))  # fmt: skip
        if not result.duplicate and call.outcome in CALL_BACK_OUTCOMES:
            ticket_actions.add_tag(result.ticket, CALLBACK_TAG, user=None)
        return result.message, result.duplicate
    existing = _stored_call(external_id)
    if existing is not None:
        return existing, True
    try:
        with db.session.begin_nested():  # a second worker with the same callback may win
            return _record_call_out(call, external_id, extra), False
    except IntegrityError:
        return _stored_call(external_id), True


def _record_call_out(call: Call, external_id: str, extra: dict) -> Message:
    customer = resolve_customer([Identity("phone", call.number)], actor="twilio")
    db.session.flush()
    ticket = _open_ticket(customer)
    if ticket is None:
        ticket = Ticket(subject=call.summary()[:500], channel="phone", customer=customer,
                        status="open", language=customer.language)  # fmt: skip
        db.session.add(ticket)
        db.session.flush()
        record_event("ticket.created", ticket=ticket, customer=customer, actor="twilio",
                     channel="phone", reason="call")  # fmt: skip
    at = utcnow()
    message = Message(ticket=ticket, channel="phone", direction="outbound",
                      author_kind="system", external_id=external_id, counterpart=call.number,
                      thread_key=call.number, subject=ticket.subject, text=call.summary(),
                      sent_at=at, created_at=at, details=call.details(**extra))  # fmt: skip
    db.session.add(message)
    ticket.last_activity_at = max(ticket.last_activity_at, at)
    record_event("call.logged", ticket=ticket, message=message, actor="twilio",
                 **call.event_data())  # fmt: skip
    db.session.flush()
    return message


def record_transcription(
    sid: str, text: str, call: Message | None, number: str, *, raw: bytes | None = None
) -> tuple[Message, bool]:
    """Add Twilio's transcription to the call `call`, once; without the call (its status
    callback is late), store the transcription as a voicemail of `number`."""
    if call is not None:
        known = dict((call.details or {}).get("call") or {})
        if "transcription" in known:
            return call, True
        known["transcription"] = text
        call.details = {**(call.details or {}), "call": known}
        label = _("Transcription")
        call.text = call.text + "\n\n" + label + ": " + text if call.text else text
        record_event("call.transcribed", ticket=call.ticket, message=call, actor="twilio")
        return call, False
    voicemail = Call(normalise_phone(number), "in", 0, "voicemail", note=text)
    extra = {"sid": sid, "source": "twilio", "transcription": text}
    return record_call(voicemail, f"{sid}:transcription", extra, raw=raw)


def _stored_call(external_id: str) -> Message | None:
    return db.session.scalar(
        select(Message).where(Message.channel == "phone", Message.external_id == external_id)
    )


def _open_ticket(customer: Customer) -> Ticket | None:
    """The customer's most recently active unsolved ticket."""
    return db.session.scalar(
        select(Ticket)
        .where(Ticket.customer_id == customer.id, Ticket.status.in_(UNSOLVED_STATUSES))
        .where(Ticket.merged_into_id.is_(None))
        .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
        .limit(1)
    )
