"""Demo chats from the shop's website, played through the real chat service and chatbot:
the FAQ answering at once (German and English), "where is my order" answered from the
order data, a hand-off to Julia, and a chat nobody could take live that goes on by
e-mail. Each visitor has a fixed id and each message a fixed browser id, so loading
twice adds nothing. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import ChatSession, Order, Shipment, User
from helpdesk.services import chat as chats
from helpdesk.services.faq import install_default_faq
from helpdesk.services.replies import add_reply

#: "{order}" and "{email}" stand for an English customer's order that is on its way.
_ORDER = "{order}"
_EMAIL = "{email}"


@dataclass(frozen=True)
class DemoChat:
    visitor: str
    language: str
    hours_ago: float
    turns: tuple[str, ...]  # the visitor's messages; the bot answers between them
    name: str | None = None
    email: str | None = None
    agent_online: bool = False
    agent_reply: str | None = None  # Julia's answer after the hand-off


DEMO_CHATS: tuple[DemoChat, ...] = (
    DemoChat(
        "v-demo-versand-at",
        "de",
        5,
        ("Hallo! Was kostet der Versand nach Österreich?",),
        name="Lena Hofer",
    ),
    DemoChat(
        "v-demo-shipping-en",
        "en",
        4.5,
        ("Hi, how long does delivery take to the UK?", "And how much is shipping?"),
    ),
    DemoChat(
        "v-demo-where-order",
        "en",
        3,
        ("Where is my order?", _ORDER, f"It's {_EMAIL}"),
    ),
    DemoChat(
        "v-demo-mitarbeiter",
        "de",
        2,
        (
            "Wie lange habe ich Rückgaberecht?",
            "Danke. Kann ich bitte mit einem Mitarbeiter sprechen? Die Jacke hat einen Fleck.",
        ),
        name="Tobias Krüger",
        email="tobias.krueger@example.de",
        agent_online=True,
        agent_reply="Hallo Herr Krüger, das tut mir leid! Schicken Sie mir gern ein Foto vom "
        "Fleck, dann tausche ich die Jacke sofort für Sie um.",
    ),
    DemoChat(
        "v-demo-offline-en",
        "en",
        14,
        ("Can I speak to a person about a gift voucher?", "sure, it's sam.porter@example.com"),
    ),
)


def load_chat_demo(users: dict[str, User], now: datetime) -> int:
    """Install the standard FAQ and play the demo chats not yet loaded; returns how many."""
    install_default_faq()
    order = _order_on_its_way()
    played = 0
    for demo in DEMO_CHATS:
        if db.session.scalar(select(ChatSession.id).where(ChatSession.visitor == demo.visitor)):
            continue
        if (_ORDER in demo.turns or any(_EMAIL in t for t in demo.turns)) and order is None:
            continue  # the shop has no such order (demo data without the shop)
        _play(demo, users, now - timedelta(hours=demo.hours_ago), order)
        played += 1
    db.session.flush()
    return played


def _play(demo: DemoChat, users: dict[str, User], at: datetime, order: Order | None) -> None:
    chat = ChatSession(
        visitor=demo.visitor,
        language=demo.language,
        state="bot",
        data={},
        ip_hash=chats.client_hash("demo"),
        page="/demo/shop",
        created_at=at,
        last_seen_at=at,
    )
    chats.identify(chat, name=demo.name, email=demo.email)
    db.session.add(chat)
    agent = users.get("agent@example.com")
    if demo.agent_online and agent is not None:
        # Julia was at her desk then (and only then: the row says when).
        chats.note_agent_seen(agent, at)
    for number, text in enumerate(demo.turns):
        if order is not None:
            text = text.replace(_ORDER, order.number).replace(_EMAIL, order.email or "")
        at += timedelta(seconds=40)
        chats.visitor_says(chat, client_id=f"demo-turn-{number:04d}", text=text, now=at)
    if demo.agent_reply and agent is not None and chat.ticket is not None:
        # Already shown to the visitor back then: recorded, not sent again.
        add_reply(chat.ticket, agent, demo.agent_reply, channel="chat",
                  at=at + timedelta(minutes=2), deliver=False)  # fmt: skip


def _order_on_its_way() -> Order | None:
    """An English customer's order with a parcel on its way (the demo shop has some)."""
    return db.session.scalar(
        select(Order)
        .join(Shipment, Shipment.order_id == Order.id)
        .where(
            Shipment.status == "in_transit",
            Shipment.kind == "order",
            Order.language == "en",
            Order.email.is_not(None),
        )
        .order_by(Order.number)
        .limit(1)
    )
