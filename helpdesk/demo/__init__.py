"""Demo data: the scripted conversations in `conversations.py`, played through the real services.

The shop's orders, invoices and returns (`orders.py`, loaded by `commerce.py`)
come first, so the conversations about them are linked to them on ingest.
Customer turns enter through `ingest()` exactly as a channel would deliver
them; agent replies, notes and bot turns go through the reply service. Every
message has a fixed external id and every order a number, so loading twice adds
nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from channel_adapters.base import (
    CHANNEL_FAMILIES,
    SENDER_IDENTITY_KIND,
    Identity,
    InboundMessage,
)
from helpdesk.demo.chat import load_chat_demo
from helpdesk.demo.commerce import ShopSummary, load_demo_shop
from helpdesk.demo.conversations import (
    CONVERSATIONS,
    PERSONAS,
    SHOP_CONVERSATIONS,
    Conversation,
    Persona,
    Turn,
)
from helpdesk.demo.kpis import load_kpi_demo
from helpdesk.demo.phone import load_phone_demo
from helpdesk.demo.rules import load_demo_rules
from helpdesk.demo.social import load_social_demo
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Message, Order, Team, Ticket, TicketTag, User
from helpdesk.models.types import utcnow
from helpdesk.services.canned import install_default_responses
from helpdesk.services.customers import add_identity
from helpdesk.services.order_links import link_by_agent
from helpdesk.services.replies import add_note, add_reply, set_status
from helpdesk.services.ticket_metrics import refresh_all_due

DEMO_PASSWORD = "demo"  # demo data only; real users are created with `helpdesk users create`
DEMO_USERS = (
    ("agent@example.com", "Julia Brandt", "agent", "de", ("Kundenservice", "Retouren")),
    ("lead@example.com", "Stefan Kowalski", "lead", "de", ("Kundenservice", "Retouren")),
    ("social@example.com", "Nina Petersen", "social", "de", ("Social Media",)),
    ("admin@example.com", "Tom Fischer", "admin", "en", ()),
)
TEAM_FOR_FAMILY = {
    "email": "Kundenservice",
    "chat": "Kundenservice",
    "phone": "Kundenservice",
    "social": "Social Media",
}
#: Where a persona keeps the identity of each kind.
_PERSONA_ATTRIBUTE = {
    "email": "email",
    "chat_visitor": "chat_visitor_id",
    "messenger": "messenger_id",
    "instagram": "instagram_id",
    "x": "x_id",
    "phone": "phone",
}


@dataclass(frozen=True)
class DemoSummary:
    conversations: int
    skipped: int
    messages: int
    channels: Counter
    languages: Counter
    shop: ShopSummary = ShopSummary(0, 0)
    shop_conversations: int = 0  # about the shop's orders, beside `conversations`

    def __str__(self) -> str:
        shop = ""
        if self.shop.orders or self.shop_conversations:
            talks = "conversation" if self.shop_conversations == 1 else "conversations"
            shop = f"; {self.shop}, {self.shop_conversations} {talks} about them"
        if not self.conversations:
            if shop:
                return f"demo data: conversations already loaded ({self.skipped} present){shop}"
            return (
                f"demo data: already loaded ({self.skipped} conversations present), nothing added"
            )
        channels = ", ".join(f"{c} {n}" for c, n in self.channels.most_common())
        languages = ", ".join(f"{lang} {n}" for lang, n in sorted(self.languages.items()))
        return (
            f"demo data: {self.conversations} conversations ({languages}; {channels}), "
            f"{self.messages} messages{shop}; logins {', '.join(u[0] for u in DEMO_USERS)} "
            f"with password '{DEMO_PASSWORD}'"
        )


def load_demo_data(on_progress: Callable[[Conversation], None] | None = None) -> DemoSummary:
    """Create the demo users and teams, the shop with its orders and returns, the default
    canned responses, and play every conversation. The caller commits."""
    users = _ensure_users()
    personas = {p.key: p for p in PERSONAS}
    now = utcnow()
    shop = load_demo_shop(users, now)
    install_default_responses()
    added, skipped, messages = 0, 0, 0
    channels: Counter = Counter()
    languages: Counter = Counter()
    played: list[Ticket] = []
    for number, conversation in enumerate(CONVERSATIONS):
        persona = personas[conversation.persona]
        if _loaded(str(number)):
            skipped += 1
        else:
            ticket, count = _play(str(number), conversation, persona, users, now)
            played.append(ticket)
            messages += count
            added += 1
            channels[conversation.channel] += 1
            languages[persona.language] += 1
        if on_progress:
            on_progress(conversation)
    shop_conversations = 0
    for number, conversation in enumerate(SHOP_CONVERSATIONS):
        key = f"shop-{number}"
        if not _loaded(key):
            ticket, _count = _play(key, conversation, personas[conversation.persona], users, now)
            played.append(ticket)
            shop_conversations += 1
    _link_orders_agents_looked_up(played)
    load_social_demo(users, now)  # DMs through the webhook parsers: stories, window, receipts
    load_kpi_demo(users, now)  # everyday volume with a Monday spike, SLA, CSAT, the wall
    load_phone_demo(users, now)  # calls, a missed one from Twilio, an escalated Instagram DM
    load_chat_demo(users, now)  # website chats: the FAQ bot, where is my order, hand-offs
    load_demo_rules()  # last, after all history: rules act on what arrives from now on
    refresh_all_due()  # the metrics of every ticket the demo ingested, as the worker would
    return DemoSummary(added, skipped, messages, channels, languages, shop, shop_conversations)


def _ensure_users() -> dict[str, User]:
    teams = {t.name: t for t in db.session.scalars(select(Team))}
    users = {}
    for email, name, role, language, team_names in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name, role=role, language=language)
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
        for team_name in team_names:
            if team_name not in teams:
                teams[team_name] = Team(name=team_name)
                db.session.add(teams[team_name])
            if teams[team_name] not in user.teams:
                user.teams.append(teams[team_name])
        users[email] = user
    for team_name in TEAM_FOR_FAMILY.values():
        if team_name not in teams:
            teams[team_name] = Team(name=team_name)
            db.session.add(teams[team_name])
    db.session.flush()
    return users


def _external_id(number: str, turn: int) -> str:
    return f"<demo-{number}-{turn}@demo.helpdesk.example>"


def _loaded(number: str) -> bool:
    return (
        db.session.scalar(
            select(Message.id).where(Message.external_id.like(f"<demo-{number}-%")).limit(1)
        )
        is not None
    )


def _play(
    number: str, conversation: Conversation, persona: Persona, users: dict[str, User], now: datetime
) -> tuple[Ticket, int]:
    """Play one conversation; its ticket and how many messages it has."""
    start = now - timedelta(days=conversation.started_days_ago)
    ticket: Ticket | None = None
    earlier: list[str] = []
    waiting: list[tuple[int, Turn]] = []  # bot greetings before the customer's first words
    for index, turn in enumerate(conversation.turns):
        at = start + timedelta(minutes=turn.minutes)
        if turn.who == "customer":
            result = ingest(
                _inbound(number, index, conversation, persona, turn, at, earlier), received_at=at
            )
            ticket = result.ticket
            for bot_index, bot_turn in waiting:
                _answer(ticket, number, bot_index, bot_turn, start, users)
            waiting.clear()
        elif ticket is None:
            waiting.append((index, turn))
            continue
        else:
            _answer(ticket, number, index, turn, start, users)
        earlier.append(_external_id(number, index))
    assert ticket is not None, "every demo conversation has a customer turn"
    _finish(ticket, conversation, persona, users, start)
    return ticket, len(conversation.turns)


def _inbound(
    number: str,
    index: int,
    conversation: Conversation,
    persona: Persona,
    turn: Turn,
    at: datetime,
    earlier: list[str],
) -> InboundMessage:
    kind = SENDER_IDENTITY_KIND[conversation.channel]
    sender = Identity(kind, getattr(persona, _PERSONA_ATTRIBUTE[kind]), persona.name)
    also = ()
    if conversation.channel == "chat" and persona.email:  # the widget asks for an e-mail address
        also = (Identity("email", persona.email, persona.name),)
    is_email = conversation.channel == "email"
    return InboundMessage(
        channel=conversation.channel,
        external_id=_external_id(number, index),
        sender=sender,
        also_known_as=also,
        text=turn.text,
        subject=(("Re: " if earlier else "") + conversation.subject) if is_email else "",
        references=tuple(earlier) if is_email else (),
        thread_key=None if is_email else _thread_key(number, conversation, persona),
        sent_at=at,
        language=persona.language,
    )


def _thread_key(number: str, conversation: Conversation, persona: Persona) -> str:
    if conversation.channel == "phone":
        return persona.phone or f"demo-call-{number}"  # calls thread by caller
    return f"demo-{conversation.channel}-{number}"


def _answer(
    ticket: Ticket, number: str, index: int, turn: Turn, start: datetime, users: dict[str, User]
) -> None:
    at = start + timedelta(minutes=turn.minutes)
    author = users.get(turn.agent or "agent@example.com")
    if turn.who == "note":
        add_note(ticket, author, turn.text, at=at)
    else:
        add_reply(
            ticket,
            None if turn.who == "bot" else author,
            turn.text,
            at=at,
            author_kind="bot" if turn.who == "bot" else "agent",
            external_id=_external_id(number, index),
            deliver=False,
        )


def _finish(
    ticket: Ticket,
    conversation: Conversation,
    persona: Persona,
    users: dict[str, User],
    start: datetime,
) -> None:
    last = start + timedelta(minutes=conversation.turns[-1].minutes)
    agents = [t.agent for t in conversation.turns if t.who in ("agent", "note") and t.agent]
    if agents:
        ticket.assignee = users[agents[-1]]
        # Care asked the customer who they are and linked the profile to the e-mail address.
        if CHANNEL_FAMILIES[conversation.channel] in ("social", "phone") and persona.email:
            add_identity(
                ticket.customer,
                Identity("email", persona.email, persona.name),
                user=ticket.assignee,
                at=last,
            )
    ticket.team = db.session.scalar(
        select(Team).where(Team.name == TEAM_FOR_FAMILY[CHANNEL_FAMILIES[conversation.channel]])
    )
    ticket.priority = conversation.priority
    for tag in conversation.tags:
        if tag not in {t.name for t in ticket.tags}:
            ticket.tags.append(TicketTag(name=tag))
    set_status(ticket, conversation.status, user=ticket.assignee, at=last)


def _link_orders_agents_looked_up(tickets: list[Ticket]) -> None:
    """An agent who worked a ticket looked up the order it names, as agents do when a
    message came from a profile that was not yet known as the customer's (ingest links
    only orders of the customer who wrote)."""
    for ticket in tickets:
        if ticket.order_id is not None or ticket.assignee is None:
            continue
        said = " ".join(m.text for m in ticket.messages if m.direction == "inbound")
        for number in re.findall(r"(?<!\d)1\d{5}(?!\d)", said):
            order = db.session.scalar(
                select(Order).where(Order.number == number, Order.customer_id == ticket.customer_id)
            )
            if order is not None:
                link_by_agent(ticket, ticket.assignee, number)
                break
