"""The chatbot: answers the standard questions at once and hands the rest to a person.

After each visitor message (already stored by ingest) the bot looks at the
conversation's state and the text:

- the visitor asks for a person ("Mitarbeiter", "human", "agent") -> hand-off;
- a bare greeting or thanks -> a short answer of its own;
- "where is my order" -> it asks for the order number and the order's e-mail address,
  checks both against the orders and answers with the status and tracking (three wrong
  tries in a conversation, or ten from one address in an hour -> hand-off, so nobody
  can search the orders through it);
- a complaint or the customer's own case (damage, refund, reminder) -> hand-off;
- an FAQ question it is sure of -> the entry's answer, and the ticket is solved (a
  further message reopens it, as on every channel);
- anything else -> hand-off: unsure means a person, not a guess.

Once a colleague has answered in the conversation, the bot keeps out of it.

A hand-off goes to a person when one is online; otherwise the visitor hears that the
chat becomes an e-mail ticket and is asked for an address when we have none. The bot's
turns are messages on the ticket (`author_kind` "bot"). The caller commits.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from helpdesk.extensions import db
from helpdesk.models import ChatSession, Event, Message, Order, Ticket, TicketTag
from helpdesk.services import chat as chats
from helpdesk.services import faq
from helpdesk.services.chatbot_match import (
    asks_order_status,
    find_email,
    find_order_number,
    guess_language,
    needs_person,
    small_talk,
    wants_person,
)
from helpdesk.services.chatbot_texts import BOT_TEXTS, bot_text
from helpdesk.services.events import record_event
from helpdesk.services.replies import add_reply, set_status

log = logging.getLogger(__name__)

#: A chat nobody could take live goes on by e-mail; the composer then offers e-mail first.
EMAIL_FALLBACK_TAG = "chat-to-email"
#: Wrong order number / e-mail pairs before a person takes over.
MAX_ORDER_TRIES = 3
#: Wrong pairs per client address and hour, over all its conversations.
MAX_FAILED_LOOKUPS_PER_ADDRESS = 10
#: Messages without a usable order number or address before a person takes over.
MAX_UNCLEAR = 2


def before_ingest(chat: ChatSession, text: str) -> None:
    """When the bot asked for an address because nobody is online, the address the
    visitor types is theirs: it travels with this message and becomes their identity."""
    if chat.state == "offline_email" and not chat.email:
        found = find_email(text)
        if found:
            chats.identify(chat, name=None, email=found)


def answer(chat: ChatSession, text: str, ticket_id: int, *, now: datetime) -> None:
    """The bot's turn after the visitor wrote `text` on ticket `ticket_id`, if it has one."""
    chat.language = guess_language(text, chat.language)
    if chat.state in ("human", "email"):
        return  # a person has it (or will answer by e-mail); the bot keeps out
    ticket = db.session.get(Ticket, ticket_id)  # only read when the bot may speak
    if _person_answered(ticket):
        chat.state = "human"  # a colleague joined the conversation on their own
        return
    if chat.state == "offline_email":
        _offline_email(chat, ticket, now)
        return
    # An address like "someone@..." answers the bot's question; it asks for nobody.
    asking = chat.state in ("order_number", "order_email")
    if wants_person(find_email_free(text) if asking else text):
        hand_off(chat, ticket, now, reason="asked")
        return
    if chat.state == "order_number":
        _order_number(chat, ticket, text, now)
        return
    if chat.state == "order_email":
        _order_email(chat, ticket, text, now)
        return
    talk = small_talk(text)
    if talk is not None:
        # Nothing to answer yet, or nothing left: no reason to call a person.
        say(chat, ticket, _text(chat, f"{talk}_reply"), now)
        set_status(ticket, "solved", actor="bot", at=now, metrics_now=False)
        return
    intents = ticket.intents
    if asks_order_status(text, intents):
        chat.data = {}
        number = find_order_number(text)
        if number:
            _got_number(chat, ticket, number, text, now)
        else:
            chat.state = "order_number"
            say(chat, ticket, _text(chat, "order_number"), now)
        return
    found = (
        None if needs_person(text, intents) else faq.match_question(text, language=chat.language)
    )
    if found is None:
        hand_off(chat, ticket, now, reason="unsure")
        return
    entry, match = found
    chat.language = entry.language
    say(chat, ticket, entry.answer, now, faq={"topic": entry.topic, "score": match.score})
    set_status(ticket, "solved", actor="bot", at=now, metrics_now=False)


def _person_answered(ticket: Ticket) -> bool:
    return bool(
        db.session.scalar(
            select(Message.id)
            .where(
                Message.ticket_id == ticket.id,
                Message.direction == "outbound",
                Message.author_kind == "agent",
            )
            .limit(1)
        )
    )


def find_email_free(text: str) -> str:
    """`text` without the e-mail address in it."""
    email = find_email(text)
    return text.replace(email, " ") if email else text


def say(chat: ChatSession, ticket: Ticket, text: str, at: datetime, **details) -> Message:
    """One bot turn on the ticket. It is in the store, so the visitor's stream shows it;
    no outbox row is needed."""
    message = add_reply(ticket, None, text, channel="chat", author_kind="bot", at=at, deliver=False)
    message.details = {"bot": {"state": chat.state, **details}}
    return message


def hand_off(chat: ChatSession, ticket: Ticket, now: datetime, *, reason: str) -> None:
    """To a person if one is online, else on by e-mail."""
    online = chats.agents_online(now)
    record_event("chat.handed_off", ticket=ticket, actor="bot", reason=reason,
                 online=online).created_at = now  # fmt: skip
    if ticket.status in ("solved", "closed"):
        set_status(ticket, "open", actor="bot", at=now, metrics_now=False)
    if online:
        chat.state = "human"
        say(chat, ticket, _text(chat, "handoff_" + reason), now)
        return
    if chat.email:
        _go_email(chat, ticket, now)
    else:
        chat.state = "offline_email"
        say(chat, ticket, _text(chat, "offline_ask_email"), now)


def _offline_email(chat: ChatSession, ticket: Ticket, now: datetime) -> None:
    if chat.email:
        _go_email(chat, ticket, now)
    else:
        say(chat, ticket, _text(chat, "offline_ask_email_again"), now)


def _go_email(chat: ChatSession, ticket: Ticket, now: datetime) -> None:
    chat.state = "email"
    if not any(tag.name == EMAIL_FALLBACK_TAG for tag in ticket.tags):
        ticket.tags.append(TicketTag(name=EMAIL_FALLBACK_TAG))
        record_event(
            "ticket.tag_added", ticket=ticket, actor="bot", tag=EMAIL_FALLBACK_TAG
        ).created_at = now
    say(chat, ticket, _text(chat, "offline_by_email", email=chat.email), now)


def _order_number(chat: ChatSession, ticket: Ticket, text: str, now: datetime) -> None:
    number = find_order_number(text)
    if number:
        _got_number(chat, ticket, number, text, now)
        return
    if _unclear(chat):
        hand_off(chat, ticket, now, reason="unsure")
    else:
        say(chat, ticket, _text(chat, "order_number_again"), now)


def _got_number(chat: ChatSession, ticket: Ticket, number: str, text: str, now: datetime) -> None:
    chat.data = {**chat.data, "order_number": number, "unclear": 0}
    email = find_email(text)  # "100457, helga@example.de" in one go
    if email:
        _check_order(chat, ticket, email, now)
        return
    chat.state = "order_email"
    say(chat, ticket, _text(chat, "order_email"), now)


def _order_email(chat: ChatSession, ticket: Ticket, text: str, now: datetime) -> None:
    email = find_email(text)
    if email:
        _check_order(chat, ticket, email, now)
        return
    if _unclear(chat):
        hand_off(chat, ticket, now, reason="unsure")
    else:
        say(chat, ticket, _text(chat, "order_email_again"), now)


def _unclear(chat: ChatSession) -> bool:
    count = int(chat.data.get("unclear", 0)) + 1
    chat.data = {**chat.data, "unclear": count}
    return count >= MAX_UNCLEAR


def _check_order(chat: ChatSession, ticket: Ticket, email: str, now: datetime) -> None:
    number = chat.data.get("order_number", "")
    if _lookups_failed_from(chat.ip_hash, now) >= MAX_FAILED_LOOKUPS_PER_ADDRESS:
        # New conversations do not buy new guesses: a person takes it from here.
        hand_off(chat, ticket, now, reason="unsure")
        return
    order = find_order(number, email)
    if order is None:
        tries = int(chat.data.get("failed", 0)) + 1
        chat.data = {"failed": tries}
        record_event("chat.order_lookup_failed", ticket=ticket, actor="bot", tries=tries,
                     ip=chat.ip_hash).created_at = now  # fmt: skip
        if tries >= MAX_ORDER_TRIES:
            hand_off(chat, ticket, now, reason="unsure")
            return
        chat.state = "order_number"
        say(chat, ticket, _text(chat, "order_not_found"), now)
        return
    chat.state = "bot"
    chat.data = {}
    say(chat, ticket, order_status_text(order, chat.language), now, order=order.number)
    set_status(ticket, "solved", actor="bot", at=now, metrics_now=False)


def _lookups_failed_from(ip_hash: str, now: datetime) -> int:
    """Failed order lookups from this client address in the last hour, in any chat."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Event)
            .where(
                Event.kind == "chat.order_lookup_failed",
                Event.created_at > now - timedelta(hours=1),
                Event.data["ip"].as_string() == ip_hash,
            )
        )
        or 0
    )


def find_order(number: str, email: str) -> Order | None:
    """The order with `number` placed with `email`; a wrong number and a wrong address
    look the same, so the bot cannot tell anyone whether an order exists."""
    number = number.strip().lstrip("#")
    if not number:
        return None
    return db.session.scalar(
        select(Order)
        .where(
            or_(Order.number == number, Order.number == f"#{number}"),
            func.lower(Order.email) == email.strip().lower(),
        )
        .order_by(Order.id)
        .limit(1)
    )


def order_status_text(order: Order, language: str) -> str:
    """Status and tracking of `order`, in `language`."""
    if order.status == "cancelled":
        return bot_text(language, "order_cancelled", number=order.number)
    shipments = [s for s in order.shipments if s.kind == "order"] or list(order.shipments)
    if not shipments:
        return bot_text(language, "order_not_shipped", number=order.number)
    lines = []
    for shipment in shipments:
        known = shipment.status in BOT_TEXTS["de"]
        state = bot_text(language, shipment.status) if known else shipment.status
        carrier = shipment.carrier or bot_text(language, "carrier")
        line = bot_text(language, "order_shipment", number=order.number, state=state,
                        carrier=carrier)  # fmt: skip
        if shipment.tracking_number:
            line += " " + bot_text(language, "tracking", tracking=shipment.tracking_number)
        if shipment.tracking_url:
            line += " " + bot_text(language, "tracking_url", url=shipment.tracking_url)
        lines.append(line)
    return "\n".join(lines)


def _text(chat: ChatSession, key: str, **values: str) -> str:
    """The bot's own sentences, in the conversation's language."""
    return bot_text(chat.language, key, **values)


def greeting(language: str) -> str:
    return bot_text(language, "greeting")
