"""Twilio's voice callbacks at POST /webhooks/twilio/voice: call status and transcription.

Twilio posts `application/x-www-form-urlencoded` parameters and signs them in
`X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + each parameter name and value,
sorted by name)), the URL exactly as configured at Twilio (HELPDESK_TWILIO_VOICE_URL
when a proxy changes what we see; else the URL of the request). The auth token is in
HELPDESK_TWILIO_AUTH_TOKEN.

- 503: no auth token configured; 403: signature missing or wrong (nothing is read);
- status callbacks (CallSid, CallStatus, From, To, Direction, CallDuration, AnsweredBy):
  ringing and in-progress are acknowledged and not stored; a finished call is stored
  once per CallSid and status (a redelivery is answered "duplicate"). A call in enters
  through ingest(); a missed one (busy, no-answer, canceled, failed, or a voicemail)
  is tagged "callback" so someone calls back. Calls out are recorded on the customer's
  open ticket;
- transcription callbacks (TranscriptionText, TranscriptionStatus, CallSid) add the
  text to the stored call (or store it as a voicemail when the call is not known yet).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

from flask import current_app, request
from sqlalchemy import select

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import Message
from helpdesk.services.calls import Call, normalise_phone, record_call, record_transcription
from helpdesk.webhooks import bp, json_error

log = logging.getLogger(__name__)

TOKEN_SETTING = "TWILIO_AUTH_TOKEN"
#: Statuses after which a call is over (https://www.twilio.com/docs/voice/api/call-resource).
FINISHED = {
    "completed": "answered",
    "busy": "missed",
    "no-answer": "missed",
    "canceled": "missed",
    "failed": "missed",
}

#: What Twilio puts in From when the caller's number is withheld, restricted, unavailable
#: or blocked: numbers in form, nobody to call back.
WITHHELD = frozenset({"+266696687", "+7378742833", "+2562533", "+86282452253", "anonymous"})


def expected_signature(auth_token: str, url: str, params) -> str:
    """Twilio's signature of a form POST to `url` (`params` a dict or MultiDict)."""
    payload = url
    getlist = getattr(params, "getlist", None)
    for name in sorted(set(params)):
        values = getlist(name) if getlist else [params[name]]
        for value in sorted(set(values)):
            payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


@bp.post("/twilio/voice")
def twilio_voice():
    token = current_app.config.get(TOKEN_SETTING)
    if not token:
        return json_error(503, "not_configured", f"set HELPDESK_{TOKEN_SETTING}")
    url = current_app.config.get("TWILIO_VOICE_URL") or request.url
    given = request.headers.get("X-Twilio-Signature", "")
    if not given or not hmac.compare_digest(given, expected_signature(token, url, request.form)):
        log.warning("twilio voice callback with a missing or wrong signature")
        return json_error(403, "bad_signature", "X-Twilio-Signature is missing or wrong")
    form = request.form
    sid = (form.get("CallSid") or "").strip()
    if not sid or len(sid) > 64:
        return json_error(400, "bad_request", "CallSid is missing")
    try:
        if "TranscriptionText" in form or "TranscriptionStatus" in form:
            outcome = _transcription(sid, form)
        else:
            outcome = _status(sid, form)
    except InvalidInput as error:
        db.session.rollback()
        return json_error(400, "bad_request", str(error))
    db.session.commit()
    return outcome, 200


def _status(sid: str, form) -> dict:
    status = (form.get("CallStatus") or "").strip()
    if status not in FINISHED:
        return {"status": "ignored", "reason": f"call status {status or 'missing'}"}
    inbound = (form.get("Direction") or "inbound") == "inbound"
    raw_number = form.get("From" if inbound else "To") or ""
    if raw_number.strip() in WITHHELD:
        return {"status": "ignored", "reason": "no caller number"}
    try:
        number = normalise_phone(raw_number)
    except InvalidInput:
        # Withheld numbers arrive as "anonymous" or "+266696687": nobody to call back.
        return {"status": "ignored", "reason": "no caller number"}
    outcome = FINISHED[status]
    if (form.get("AnsweredBy") or "").startswith("machine") or form.get("RecordingUrl"):
        outcome = "voicemail" if inbound else outcome
    raw_duration = (form.get("CallDuration") or "0").strip()
    duration = int(raw_duration) if raw_duration.isdigit() and len(raw_duration) < 7 else 0
    call = Call(number, "in" if inbound else "out", duration, outcome)
    extra = {"sid": sid, "status": status, "source": "twilio"}
    message, duplicate = record_call(call, f"{sid}:{status}", extra, raw=request.get_data())
    return {"status": "duplicate" if duplicate else "stored", "ticket": message.ticket_id}


def _transcription(sid: str, form) -> dict:
    if (form.get("TranscriptionStatus") or "completed") != "completed":
        return {"status": "ignored", "reason": "transcription failed"}
    text = (form.get("TranscriptionText") or "").strip()
    call = db.session.scalar(
        select(Message)
        .where(Message.channel == "phone", Message.external_id.like(f"{sid}:%"))
        .order_by(Message.id)
        .limit(1)
    )
    number = form.get("From") or (call.counterpart if call is not None else "")
    message, duplicate = record_transcription(sid, text, call, number, raw=request.get_data())
    return {"status": "duplicate" if duplicate else "stored", "ticket": message.ticket_id}
