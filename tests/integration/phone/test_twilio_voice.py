"""POST /webhooks/twilio/voice: Twilio's call status and transcription callbacks.

Signatures are computed here the way Twilio documents it (HMAC-SHA1 over the URL and
the sorted parameters, base64), independently of the receiver's code; the receiver's
function is also checked against the example Twilio publishes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Customer, CustomerIdentity, Message, Ticket
from helpdesk.webhooks.twilio import expected_signature

TOKEN = "twilio-test-auth-token"
URL = "http://localhost/webhooks/twilio/voice"


@pytest.fixture(autouse=True)
def _token(app, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", TOKEN)


def sign(params: dict[str, str], url: str = URL, token: str = TOKEN) -> str:
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def status_callback(sid="CA5f0c9d6e0b3b4a1c8f2e7d6c5b4a3921", status="completed", **fields):
    """A call status callback as Twilio sends it for a call to our number."""
    params = {
        "AccountSid": "AC3f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": status,
        "Called": "+4930609876543",
        "Caller": "+491711234567",
        "Direction": "inbound",
        "From": "+491711234567",
        "FromCountry": "DE",
        "To": "+4930609876543",
        "ToCountry": "DE",
        "CallbackSource": "call-progress-events",
        "SequenceNumber": "2",
        "Timestamp": "Sat, 05 Dec 2026 10:15:02 +0000",
    }
    if status == "completed":
        params |= {"CallDuration": "184", "Duration": "4"}
    params.update(fields)
    return params


def post(client, params, signature=None, headers=None):
    headers = dict(headers or {})
    if signature is not False:
        headers["X-Twilio-Signature"] = sign(params) if signature is None else signature
    return client.post("/webhooks/twilio/voice", data=params, headers=headers)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_receiver_signs_like_twilios_published_example(app):
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675310", "Digits": "1234",
              "From": "+14158675310", "To": "+18005551212"}  # fmt: skip
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert expected_signature("12345", url, params) == "GvWf1cFY/Q7PnoempGyD5oXAezc="


def test_a_finished_call_is_stored_on_the_callers_ticket_once(client):
    params = status_callback()
    answer = post(client, params)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["status"] == "stored"
    call = db.session.scalar(select(Message).where(Message.channel == "phone"))
    assert call.direction == "inbound" and call.counterpart == "+491711234567"
    assert call.details["call"] == {"number": "+491711234567", "direction": "in",
                                    "duration_seconds": 184, "outcome": "answered", "note": "",
                                    "sid": params["CallSid"], "status": "completed",
                                    "source": "twilio"}  # fmt: skip
    assert call.ticket.channel == "phone"
    identity = db.session.scalar(select(CustomerIdentity).where(CustomerIdentity.kind == "phone"))
    assert identity.value == "+491711234567" and identity.customer_id == call.ticket.customer_id

    again = post(client, params)  # Twilio retries when it did not get its answer in time
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    assert count(Message) == 1 and count(Ticket) == 1


def test_a_missed_call_opens_a_ticket_to_call_back(client):
    answer = post(client, status_callback(status="no-answer"))
    assert answer.status_code == 200
    ticket = db.session.get(Ticket, answer.json["ticket"])
    assert "callback" in {t.name for t in ticket.tags}
    assert ticket.status == "new" and "+491711234567" in ticket.subject
    assert ticket.messages[0].details["call"]["outcome"] == "missed"


def test_a_known_number_finds_the_customer_also_on_whatsapp(client):
    from helpdesk.ingest import ingest
    from tests.factories import inbound

    first = ingest(
        inbound("whatsapp", "491711234567", "Hallo, ich rufe gleich an", display_name="Jana")
    )
    db.session.commit()
    answer = post(client, status_callback())
    ticket = db.session.get(Ticket, answer.json["ticket"])
    assert ticket.customer_id == first.ticket.customer_id
    assert count(Customer) == 1


def test_ringing_and_in_progress_are_acknowledged_not_stored(client):
    for status in ("ringing", "in-progress"):
        answer = post(client, status_callback(status=status))
        assert answer.status_code == 200 and answer.json["status"] == "ignored"
    assert count(Message) == 0


@pytest.mark.parametrize("withheld", ["anonymous", "+266696687", "+7378742833"])
def test_a_withheld_number_is_acknowledged_and_not_stored(client, withheld):
    answer = post(client, status_callback(status="no-answer", From=withheld, Caller=withheld))
    assert answer.status_code == 200 and answer.json["status"] == "ignored"
    assert count(Message) == 0


def test_the_transcription_is_added_to_the_call_once(client):
    post(client, status_callback(status="completed", RecordingUrl="https://api.twilio.com/rec/RE1"))
    transcription = {
        "AccountSid": "AC3f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "CallSid": "CA5f0c9d6e0b3b4a1c8f2e7d6c5b4a3921",
        "From": "+491711234567",
        "To": "+4930609876543",
        "RecordingSid": "RE1",
        "TranscriptionSid": "TR1",
        "TranscriptionStatus": "completed",
        "TranscriptionText": "Hallo, hier Jana Krüger, bitte rufen Sie mich wegen der "
        "Retoure zurück.",
        "TranscriptionType": "fast",
        "url": "https://api.twilio.com/2010-04-01/Accounts/AC/Transcriptions/TR1",
    }
    assert post(client, transcription).json["status"] == "stored"
    assert post(client, transcription).json["status"] == "duplicate"
    call = db.session.scalar(select(Message).where(Message.channel == "phone"))
    assert call.details["call"]["outcome"] == "voicemail"
    assert call.details["call"]["transcription"].startswith("Hallo, hier Jana")
    assert "wegen der Retoure" in call.text
    assert count(Message) == 1


def test_a_transcription_before_its_call_is_stored_as_a_voicemail(client):
    params = {"CallSid": "CA99", "From": "+44 20 7946 0958", "TranscriptionStatus": "completed",
              "TranscriptionText": "Please call me back about order 100457."}  # fmt: skip
    answer = post(client, params)
    assert answer.status_code == 200 and answer.json["status"] == "stored"
    call = db.session.scalar(select(Message).where(Message.channel == "phone"))
    assert call.counterpart == "+442079460958" and call.details["call"]["outcome"] == "voicemail"


@pytest.mark.parametrize(
    "signature",
    [
        False,  # missing
        "",  # empty
        "GvWf1cFY/Q7PnoempGyD5oXAezc=",  # someone else's
        "wrong",
    ],
)
def test_a_missing_or_wrong_signature_is_403_and_stores_nothing(client, signature):
    answer = post(client, status_callback(status="no-answer"), signature=signature)
    assert answer.status_code == 403
    assert count(Message) == 0 and count(Ticket) == 0 and count(Customer) == 0


def test_a_signature_with_another_token_or_changed_parameters_is_refused(client):
    params = status_callback(status="no-answer")
    assert post(client, params, signature=sign(params, token="not-the-token")).status_code == 403
    tampered = dict(params, From="+491709999999")
    assert post(client, tampered, signature=sign(params)).status_code == 403
    assert count(Message) == 0


def test_the_configured_public_url_is_what_is_signed(client, app, monkeypatch):
    public = "https://helpdesk.example.com/webhooks/twilio/voice"
    monkeypatch.setitem(app.config, "TWILIO_VOICE_URL", public)
    params = status_callback()
    assert post(client, params).status_code == 403  # signed for the URL we see, not Twilio's
    assert post(client, params, signature=sign(params, url=public)).status_code == 200


def test_without_a_token_the_receiver_says_what_to_configure(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", None)
    answer = post(client, status_callback())
    assert answer.status_code == 503 and "HELPDESK_TWILIO_AUTH_TOKEN" in answer.get_data(
        as_text=True
    )
    assert count(Message) == 0


def test_a_call_we_made_is_recorded_on_the_customers_open_ticket(client):
    from helpdesk.ingest import ingest
    from tests.factories import inbound

    first = ingest(inbound("whatsapp", "491711234567", "Bitte um Rückruf"))
    db.session.commit()
    params = status_callback(sid="CA0utb0und", Direction="outbound-api",
                             From="+4930609876543", To="+491711234567")  # fmt: skip
    answer = post(client, params)
    assert answer.status_code == 200 and answer.json["ticket"] == first.ticket_id
    call = db.session.scalar(select(Message).where(Message.channel == "phone"))
    assert call.direction == "outbound" and call.details["call"]["direction"] == "out"
    assert post(client, params).json["status"] == "duplicate"
    assert count(Message) == 2


def test_an_oversized_body_is_413_and_stores_nothing(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    params = status_callback(status="no-answer", Padding="x" * 4096)
    assert post(client, params).status_code == 413
    assert count(Message) == 0
