"""Demo calls and one escalated Instagram DM, played through the real services.

- Markus Weber (known by his mobile number) called and the agent wrote the call down;
- a call from an unknown UK number was missed: Twilio's status callback opened a
  ticket tagged "callback", and a transcription of his voicemail followed;
- Julia called Anna Schneider back about her e-mail (a call out, logged on the ticket);
- Katharina Lorenz wrote an e-mail nobody answered yet and then a DM on Instagram:
  the DM is linked to the open e-mail ticket as it arrives, and the social manager
  escalates it to care with a note, priority high, team Kundenservice.

Every message has a fixed id; loading twice adds nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from channel_adapters.base import Identity, InboundMessage
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import CustomerIdentity, Message, Team, Ticket, User
from helpdesk.services import calls, escalation
from helpdesk.services.customers import resolve_customer

ANNA_EMAIL = "anna.schneider@example.com"
KATHARINA_EMAIL = "katharina.lorenz@example.de"
KATHARINA_INSTAGRAM = "17841409988776655"


def load_phone_demo(users: dict[str, User], now: datetime) -> None:
    """Add the demo calls and the escalation unless they are there already."""
    with current_app.test_request_context(), force_locale("de"):
        _markus_called(users, now)
        _missed_call(now)
        _callback_to_anna(users, now)
        _katharina_escalated(users, now)
    db.session.flush()


def _stored(channel: str, external_id: str) -> bool:
    found = select(Message.id).where(Message.channel == channel, Message.external_id == external_id)
    return db.session.scalar(found) is not None


def _markus_called(users: dict[str, User], now: datetime) -> None:
    if _stored("phone", "demo-call-markus"):
        return
    note = ("Herr Weber fragt, ob die Winterjacke (Bestellung 100318) noch vor Weihnachten "
            "kommt. Zugesagt: Versand morgen, Tracking per Mail.")  # fmt: skip
    call = calls.Call("+4915123847561", "in", 250, "answered", note)
    details = call.details(logged_by=users["agent@example.com"].id)
    inbound = calls.inbound_call(call, external_id="demo-call-markus", display_name="Markus Weber",
                                 sent_at=now - timedelta(hours=5), details=details)  # fmt: skip
    result = ingest(inbound, received_at=now - timedelta(hours=5))
    result.message.author = users["agent@example.com"]


def _missed_call(now: datetime) -> None:
    sid = "CAd3m0c4ll5f0c9d6e0b3b4a1c8f2e7d6c"
    if _stored("phone", f"{sid}:no-answer"):
        return
    with force_locale("en"):
        call = calls.Call("+447700900626", "in", 0, "missed")
        message, _duplicate = calls.record_call(call, f"{sid}:no-answer",
                                                {"sid": sid, "status": "no-answer",
                                                 "source": "twilio"})  # fmt: skip
        calls.record_transcription(sid, "Hi, it's Oliver Bennett. The trainers I returned last "
                                   "week - has the refund gone out? Please call me back.",
                                   message, call.number)  # fmt: skip
    message.created_at = message.sent_at = now - timedelta(minutes=40)
    if len(message.ticket.messages) == 1:  # the missed call opened the ticket
        message.ticket.created_at = message.ticket.last_activity_at = message.created_at


def _callback_to_anna(users: dict[str, User], now: datetime) -> None:
    if _stored("phone", "demo-call-anna"):
        return
    ticket = db.session.scalar(
        select(Ticket)
        .join(CustomerIdentity, CustomerIdentity.customer_id == Ticket.customer_id)
        .where(CustomerIdentity.kind == "email", CustomerIdentity.value == ANNA_EMAIL)
        .where(Ticket.channel == "email")
        .order_by(Ticket.id)
        .limit(1)
    )
    if ticket is None:
        return
    note = ("Frau Schneider zurückgerufen: alles geklärt, sie bekommt die Bestätigung per "
            "Mail.")  # fmt: skip
    call = calls.Call("+4930983412", "out", 185, "answered", note)
    message = calls.log_call_on_ticket(ticket, users["agent@example.com"], call)
    message.external_id = "demo-call-anna"


def _katharina_escalated(users: dict[str, User], now: datetime) -> None:
    if _stored("instagram", "demo-ig-katharina-1"):
        return
    resolve_customer(
        [Identity("email", KATHARINA_EMAIL, "Katharina Lorenz"),
         Identity("instagram", KATHARINA_INSTAGRAM, "kathi.lorenz")],
        actor="demo",
    )  # fmt: skip
    db.session.flush()
    mail_at = now - timedelta(days=2, hours=3)
    mail = ingest(
        InboundMessage(
            channel="email", external_id="<demo-phone-katharina-1@example.de>",
            sender=Identity("email", KATHARINA_EMAIL, "Katharina Lorenz"),
            subject="Falsche Größe geliefert – Bestellung 100533",
            text="Guten Tag,\n\nich habe die Sneaker in 39 bestellt und 41 bekommen. Wie kann "
                 "ich sie umtauschen? Ich brauche sie nächste Woche.\n\nViele Grüße\n"
                 "Katharina Lorenz",
            sent_at=mail_at,
        ),
        received_at=mail_at,
    )  # fmt: skip
    dm_at = now - timedelta(hours=2)
    dm = ingest(
        InboundMessage(
            channel="instagram", external_id="demo-ig-katharina-1",
            sender=Identity("instagram", KATHARINA_INSTAGRAM, "kathi.lorenz"),
            text="Hallo! Ich warte seit zwei Tagen auf eine Antwort auf meine Mail wegen der "
                 "falschen Größe 😕 Könnt ihr mir helfen?",
            sent_at=dm_at, thread_key=f"ig:{KATHARINA_INSTAGRAM}",
        ),
        received_at=dm_at,
    )  # fmt: skip
    team = db.session.scalar(select(Team).where(Team.name == "Kundenservice"))
    escalation.escalate(
        dm.ticket,
        users["social@example.com"],
        escalation.Escalation(
            note="Kundin wartet seit zwei Tagen auf den Umtausch (39 statt 41), braucht die "
                 "Schuhe nächste Woche. Bitte heute antworten, ich habe ihr im DM Bescheid "
                 "gesagt, dass sich der Kundenservice meldet.",
            priority="high",
            team=team,
            target=mail.ticket,
        ),
    )  # fmt: skip
