"""Demo DMs that come in the way real ones do: webhook bodies in Meta's and WhatsApp's
formats, parsed by the channel adapters and stored by the social intake service.

They show what the social channels add: an Instagram story reply and a story mention,
a Messenger quick reply answered after more than 24 hours (the reply goes out with the
HUMAN_AGENT tag), a WhatsApp photo whose answer was read, a WhatsApp answer the platform
could not deliver (the ticket shows why), and a WhatsApp conversation whose 24-hour
window has closed (the composer refuses a reply and says so). German and English.
Every message has a fixed platform id, so loading twice adds nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from channel_adapters.social.common import SocialDelivery
from channel_adapters.social.meta import parse_meta
from channel_adapters.social.whatsapp import parse_whatsapp
from helpdesk.extensions import db
from helpdesk.models import Message, Ticket, User
from helpdesk.services.replies import add_reply
from helpdesk.services.social_intake import store_delivery

PAGE_ID = "104365328934221"  # the shop's Facebook page
INSTAGRAM_ID = "17841400455566778"  # the shop's Instagram account
WHATSAPP_NUMBER_ID = "110200300400500"  # the shop's WhatsApp number (+49 30 1234 5678)


@dataclass(frozen=True)
class DemoDM:
    key: str
    channel: str  # messenger, instagram, whatsapp
    customer_id: str  # PSID, IGSID or phone number without "+"
    name: str
    customer_says: tuple[tuple[float, dict], ...]  # (hours ago, the platform's message part)
    answer: str | None = None  # the agent's reply
    answered_hours_ago: float = 0
    answer_state: str = "read"  # "read" (receipt came) or "failed" (platform error)


DEMO_DMS: tuple[DemoDM, ...] = (
    DemoDM(
        "story", "instagram", "6754321987654301", "Lena Vogt",
        ((2.0, {"text": "Gibt es das grüne Kleid aus der Story auch in Größe 38? 😍",
                "reply_to": {"story": {"id": "18031122334455667",
                                       "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18031122334455667"}}}),),
    ),
    DemoDM(
        "mention", "instagram", "6754321987654302", "Chloe Evans",
        ((0.3, {"attachments": [{"type": "story_mention", "payload": {
            "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18032233445566778"}}]}),
         (0.28, {"text": "Just got my order from you – love the boots! Do you ship to the UK?"})),
    ),
    DemoDM(
        "tag", "messenger", "7214563827491301", "Tobias Brandt",
        ((74.0, {"text": "Hallo, ich möchte meine Jacke umtauschen. Wie geht das?"}),
         (73.9, {"text": "Umtausch", "quick_reply": {"payload": "EXCHANGE"}})),
        answer="Hallo Tobias, das geht ganz einfach über unser Retourenportal: Bestellnummer "
               "und E-Mail eingeben, Größe wählen – fertig. Entschuldige die späte Antwort!",
        answered_hours_ago=1.0,
    ),
    DemoDM(
        "photo", "whatsapp", "4917612345001", "Aylin Demir",
        ((5.0, {"type": "image", "image": {
            "caption": "Der Absatz ist nach zwei Tagen abgebrochen", "mime_type": "image/jpeg",
            "id": "1198236647004411", "sha256": "Lw4n2u0cS3Rk0OaVq8Yz2wH0m9zq0bXoO9o4m2Qp1aE="}}),),
        answer="Oh nein, das tut uns leid! Wir schicken Ihnen ein kostenloses Rücksendeetikett "
               "und tauschen die Schuhe sofort um.",
        answered_hours_ago=4.5,
    ),
    DemoDM(
        "failed", "whatsapp", "447700900123", "Oliver Grant",
        ((3.0, {"type": "text", "text": {"body": "Hi, my parcel says delivered but it isn't here. "
                                                  "Order 100211."}}),),
        answer="Hi Oliver, sorry about that – we've opened a claim with DHL and will update you "
               "within 24 hours.",
        answered_hours_ago=2.5,
        answer_state="failed",
    ),
    DemoDM(
        "closed", "whatsapp", "4915209876002", "Jürgen Maier",
        ((30.0, {"type": "text", "text": {"body": "Wann kommt die Winterjacke wieder rein?"}}),),
    ),
)  # fmt: skip


def load_social_demo(users: dict[str, User], now: datetime) -> int:
    """Play the demo DMs that are not stored yet; returns how many were added."""
    added = 0
    for dm in DEMO_DMS:
        first = _mid(dm, 0)
        if db.session.scalar(select(Message.id).where(Message.external_id == first)):
            continue
        for index, (hours, part) in enumerate(dm.customer_says):
            store_delivery(_parse(dm, index, now - timedelta(hours=hours), part))
        ticket = db.session.scalar(select(Ticket).join(Message).where(Message.external_id == first))
        ticket.customer.name = ticket.customer.name or dm.name  # as the profile API tells
        if dm.answer:
            _answer(dm, ticket, users["social@example.com"], now)
        added += 1
    return added


def _mid(dm: DemoDM, index: int) -> str:
    if dm.channel == "whatsapp":
        return f"wamid.demo-{dm.key}-{index}"
    return f"m_demo-{dm.key}-{index}"


def _parse(dm: DemoDM, index: int, at: datetime, part: dict) -> SocialDelivery:
    """The webhook body the platform would have sent, parsed as the webhook does."""
    if dm.channel == "whatsapp":
        message = {"from": dm.customer_id, "id": _mid(dm, index),
                   "timestamp": str(int(at.timestamp())), **part}  # fmt: skip
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": "493012345678",
                "phone_number_id": WHATSAPP_NUMBER_ID,
            },  # fmt: skip
            "contacts": [{"profile": {"name": dm.name}, "wa_id": dm.customer_id}],
            "messages": [message],
        }
        change = {"field": "messages", "value": value}
        body = {"object": "whatsapp_business_account",
                "entry": [{"id": "WABA-DEMO", "changes": [change]}]}  # fmt: skip
        return parse_whatsapp(json.dumps(body).encode())
    account = PAGE_ID if dm.channel == "messenger" else INSTAGRAM_ID
    event = {"sender": {"id": dm.customer_id}, "recipient": {"id": account},
             "timestamp": int(at.timestamp() * 1000),
             "message": {"mid": _mid(dm, index), **part}}  # fmt: skip
    entry = {"id": account, "time": int(at.timestamp() * 1000), "messaging": [event]}
    body = {"object": "page" if dm.channel == "messenger" else "instagram", "entry": [entry]}
    return parse_meta(json.dumps(body).encode())


def _answer(dm: DemoDM, ticket: Ticket, author: User, now: datetime) -> None:
    """The reply as it stands after the worker sent it and the platform reported back."""
    at = now - timedelta(hours=dm.answered_hours_ago)
    platform_id = _mid(dm, 99)
    reply = add_reply(ticket, author, dm.answer, channel=dm.channel, at=at,
                      external_id=platform_id, deliver=False)  # fmt: skip
    if dm.answer_state == "failed":
        delivery = {"status": "failed", "attempts": 1,
                    "error": "WhatsApp refused the message (400): Message undeliverable, "
                             "code 131026"}  # fmt: skip
    else:
        delivery = {"status": "sent", "response": platform_id, "receipt": "read",
                    "read_at": (at + timedelta(minutes=12)).isoformat()}  # fmt: skip
    reply.details = {**(reply.details or {}), "delivery": delivery}
