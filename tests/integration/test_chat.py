"""Live chat through its public JSON API, on both databases: conversations and tokens, the
chatbot's answers, where-is-my-order, hand-off to a person or to e-mail, limits and errors."""

from __future__ import annotations

import json
import secrets

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import (
    ChatSession,
    CustomerIdentity,
    Event,
    Message,
    OutboxItem,
    Shipment,
    Ticket,
)
from helpdesk.services.faq import install_default_faq
from helpdesk.services.replies import add_reply
from tests import factories
from tests.conftest import make_user
from tests.integration.test_live import Browser, gunicorn  # noqa: F401  (a fixture)


@pytest.fixture
def faq(app):
    install_default_faq()
    db.session.commit()


def start(client, **fields) -> dict:
    response = client.post("/chat/api/start", json=fields)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def say(client, token: str, text: str, *, client_id: str | None = None, after: int = 0):
    return client.post(
        "/chat/api/messages",
        json={"id": client_id or secrets.token_hex(8), "text": text, "after": after},
        headers={"X-Chat-Token": token},
    )


def lines(response) -> list[tuple[str, str]]:
    return [(m["author"], m["text"]) for m in response.get_json()["messages"]]


def online_agent(app):
    """An agent who has just used the helpdesk (counts as online for chats)."""
    client = app.test_client()
    make_user("agent", name="Julia Brandt")
    from tests.conftest import log_in

    assert log_in(client, "agent@shop.example").status_code == 302
    assert client.get("/inbox").status_code == 200
    return client


def test_start_send_and_reload_with_the_token(client, faq):
    started = start(client, name="Helga Brandt", language="de")
    assert started["state"] == "bot"
    token = started["token"]

    sent = say(
        client, token, "Hallo, ich habe eine Frage zu meiner Jacke", client_id="first-message"
    )
    assert sent.status_code == 200
    assert lines(sent)[0] == ("visitor", "Hallo, ich habe eine Frage zu meiner Jacke")

    # A reload: the browser has only the token, and gets the whole conversation back.
    reloaded = client.get("/chat/api/messages", headers={"X-Chat-Token": token})
    assert reloaded.status_code == 200
    assert lines(reloaded) == lines(sent)

    # The same browser message sent twice (a retry) is stored once.
    again = say(
        client, token, "Hallo, ich habe eine Frage zu meiner Jacke", client_id="first-message"
    )
    assert again.status_code == 200
    chat = db.session.scalar(select(ChatSession))
    inbound = db.session.scalars(select(Message).where(Message.direction == "inbound")).all()
    assert len(inbound) == 1
    assert inbound[0].channel == "chat" and inbound[0].thread_key == chat.visitor
    ticket = db.session.get(Ticket, chat.ticket_id)
    assert ticket.channel == "chat" and ticket.customer.name == "Helga Brandt"


def test_a_forged_or_missing_token_is_refused(client, faq):
    token = start(client)["token"]
    assert client.get("/chat/api/messages").status_code == 401
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.get("/chat/api/messages", headers={"X-Chat-Token": forged})
    assert response.status_code == 401
    assert response.get_json()["error"]["detail"]


@pytest.mark.parametrize(
    ("language", "question", "expected"),
    [
        ("de", "Was kostet der Versand nach Österreich?", "7,95 €"),
        ("en", "How much is shipping to Germany?", "€4.95"),
    ],
)
def test_the_bot_answers_the_shipping_cost(client, faq, language, question, expected):
    token = start(client, language=language)["token"]
    response = say(client, token, question)
    assert response.status_code == 200
    (_, asked), (author, answer) = lines(response)
    assert asked == question
    assert author == "bot" and expected in answer
    bot = db.session.scalar(select(Message).where(Message.author_kind == "bot"))
    assert bot.direction == "outbound" and bot.channel == "chat"
    assert bot.details["bot"]["faq"]["topic"] == "shipping_costs"
    assert bot.ticket.status == "solved"  # answered; a further message reopens it


def test_an_faq_entry_changed_by_an_admin_is_what_the_bot_says(client, admin_client, faq):
    entries = admin_client.get("/admin/faq")
    assert entries.status_code == 200 and "Was kostet der Versand?" in entries.get_data(
        as_text=True
    )
    from helpdesk.models import FaqEntry

    entry = db.session.scalar(
        select(FaqEntry).where(FaqEntry.topic == "shipping_costs", FaqEntry.language == "en")
    )
    page = admin_client.get(f"/admin/faq/{entry.id}").get_data(as_text=True)
    import re

    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    saved = admin_client.post(
        f"/admin/faq/{entry.id}",
        data={"csrf_token": csrf, "topic": "shipping_costs", "language": "en",
              "question": entry.question, "alternatives": entry.alternatives,
              "answer": "Shipping is €3.50 this winter.", "position": "10", "active": "on"},
    )  # fmt: skip
    assert saved.status_code == 302
    token = start(client, language="en")["token"]
    assert lines(say(client, token, "What are the shipping costs?"))[-1] == (
        "bot",
        "Shipping is €3.50 this winter.",
    )
    assert "Shipping is €3.50 this winter." in client.get("/faq?lang=en").get_data(as_text=True)


def test_where_is_my_order_with_the_right_and_a_wrong_email(client, faq):
    order = factories.order("100457", "helga.brandt@example.de")
    order.shipments.append(
        Shipment(carrier="DHL", tracking_number="00340434161094015902", status="in_transit",
                 tracking_url="https://www.dhl.de/track?n=00340434161094015902")
    )  # fmt: skip
    db.session.commit()
    token = start(client, language="de")["token"]

    asked = lines(say(client, token, "Wo ist meine Bestellung?"))
    assert asked[-1][0] == "bot" and "Bestellnummer" in asked[-1][1]
    number = lines(say(client, token, "100457"))
    assert "E-Mail" in number[-1][1]
    wrong = lines(say(client, token, "someone.else@example.de"))
    assert "keine Bestellung" in wrong[-1][1]
    assert "00340434161094015902" not in wrong[-1][1]
    # Asked again for the number, then the right address.
    say(client, token, "100457")
    right = lines(say(client, token, "helga.brandt@example.de"))
    assert right[-1][0] == "bot"
    assert "100457" in right[-1][1] and "unterwegs" in right[-1][1]
    assert "00340434161094015902" in right[-1][1] and "DHL" in right[-1][1]


def test_too_many_wrong_order_lookups_hand_over_to_a_person(app, client, faq):
    factories.order("100457", "helga.brandt@example.de")
    online_agent(app)
    token = start(client, language="en")["token"]
    say(client, token, "Where is my order?")
    for _attempt in range(3):
        say(client, token, "100457")
        last = lines(say(client, token, "guess@example.com"))
    assert "colleague" in last[-1][1]
    assert db.session.scalar(select(ChatSession.state)) == "human"


def test_new_conversations_buy_no_new_order_guesses(app, client, faq, monkeypatch):
    from helpdesk.services import chatbot

    factories.order("100457", "helga.brandt@example.de")
    monkeypatch.setattr(chatbot, "MAX_FAILED_LOOKUPS_PER_ADDRESS", 4)
    for _conversation in range(2):
        token = start(client, language="en")["token"]
        say(client, token, "Where is my order?")
        for _attempt in range(2):
            say(client, token, "100457")
            say(client, token, "guess@example.com")
    token = start(client, language="en")["token"]
    say(client, token, "Where is my order?")
    say(client, token, "100457")
    # Even the right pair gets no answer from the bot now: a person takes over.
    last = lines(say(client, token, "helga.brandt@example.de"))
    assert "100457" not in last[-1][1]
    assert db.session.get(ChatSession, 3).state in ("human", "offline_email")


def test_identify_later(client, faq):
    token = start(client, language="de")["token"]
    answer = client.post(
        "/chat/api/identify",
        json={"name": "Kim Lee", "email": "Kim.Lee@example.com"},
        headers={"X-Chat-Token": token},
    )
    assert answer.status_code == 200
    assert answer.get_json()["email"] == "kim.lee@example.com"
    say(client, token, "Hallo")
    chat = db.session.scalar(select(ChatSession))
    customer = db.session.get(Ticket, chat.ticket_id).customer
    assert customer.name == "Kim Lee" and customer.identity("email") == "kim.lee@example.com"
    bad = client.post(
        "/chat/api/identify", json={"email": "kim at example"}, headers={"X-Chat-Token": token}
    )
    assert bad.status_code == 422


def test_asking_for_a_person_hands_over_when_an_agent_is_online(app, client, faq):
    agent = online_agent(app)
    token = start(client, language="de")["token"]
    say(client, token, "Was kostet der Versand?")
    handed = lines(say(client, token, "Ich möchte bitte mit einem Mitarbeiter sprechen"))
    assert handed[-1][0] == "bot" and "verbinde Sie mit einer Kollegin" in handed[-1][1]
    chat = db.session.scalar(select(ChatSession))
    assert chat.state == "human"
    ticket = db.session.get(Ticket, chat.ticket_id)
    assert ticket.status == "open"  # the bot had solved it; the visitor reopened it

    # The bot keeps out now; the chat list shows the visitor waiting.
    quiet = lines(say(client, token, "Meine Jacke ist zu klein"))
    assert quiet[-1] == ("visitor", "Meine Jacke ist zu klein")
    listed = agent.get("/chats").get_data(as_text=True)
    assert f"#{ticket.number}" in listed and "unread-dot" in listed
    page = agent.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert "Chatbot handed the chat to a person" in page
    assert 'aria-label="1 waiting"' in page  # the badge beside "Chats"

    # The agent answers on the ticket; the visitor gets it, and its outbox row is done
    # once the visitor's stream delivered it.
    from helpdesk.models import User

    julia = db.session.scalar(select(User))
    reply = add_reply(ticket, julia, "Gern tausche ich sie um. Welche Größe brauchen Sie?")
    db.session.commit()
    assert reply.channel == "chat"
    item = db.session.scalar(select(OutboxItem).where(OutboxItem.message_id == reply.id))
    assert item.status == "pending"  # until the visitor's browser has it
    app.config["LIVE_STREAM_SECONDS"] = 0
    try:
        streamed = client.get(f"/chat/api/stream?token={token}&after=0").get_data(as_text=True)
    finally:
        app.config.pop("LIVE_STREAM_SECONDS")
    events = [
        json.loads(line.removeprefix("data: "))
        for line in streamed.splitlines()
        if line.startswith("data: {")
    ]
    assert events[-1]["text"] == "Gern tausche ich sie um. Welche Größe brauchen Sie?"
    assert events[-1]["author"] == "agent"
    assert events[-1]["name"] == "Julia"  # colleagues' first names only
    db.session.expire_all()
    assert db.session.get(OutboxItem, item.id).status == "sent"
    assert db.session.get(Message, reply.id).details["delivery"]["status"] == "sent"
    # A reload gets the whole conversation again; nothing is delivered twice.
    got = client.get("/chat/api/messages?after=0", headers={"X-Chat-Token": token})
    assert lines(got)[-1] == ("agent", "Gern tausche ich sie um. Welche Größe brauchen Sie?")
    delivered = db.session.scalars(
        select(Event).where(Event.kind == "message.delivered", Event.message_id == reply.id)
    ).all()
    assert len(delivered) == 1
    answered = agent.get("/chats").get_data(as_text=True)
    assert "unread-dot" not in answered and 'aria-label="1 waiting"' not in answered


def test_the_bot_steps_aside_when_a_colleague_joins(client, faq):
    token = start(client, language="en")["token"]
    say(client, token, "How much is shipping?")
    chat = db.session.scalar(select(ChatSession))
    ticket = db.session.get(Ticket, chat.ticket_id)
    add_reply(ticket, make_user("agent"), "Hi, Julia here – anything else?")
    db.session.commit()
    answer = lines(say(client, token, "How long does delivery take?"))
    assert answer[-1] == ("visitor", "How long does delivery take?")
    assert db.session.scalar(select(ChatSession.state)) == "human"


def test_a_greeting_is_answered_not_handed_over(client, faq):
    token = start(client, language="de")["token"]
    assert lines(say(client, token, "Hallo!"))[-1] == ("bot", "Hallo! Wie kann ich Ihnen helfen?")
    assert db.session.scalar(select(ChatSession.state)) == "bot"


def test_unsure_means_hand_off_not_a_guess(app, client, faq):
    online_agent(app)
    token = start(client, language="en")["token"]
    answer = lines(say(client, token, "My parcel arrived with a torn sleeve, what now?"))
    assert answer[-1][0] == "bot" and "not sure" in answer[-1][1]
    assert db.session.scalar(select(ChatSession.state)) == "human"


def test_without_an_agent_online_the_chat_becomes_an_email_ticket(client, faq):
    token = start(client, language="en")["token"]
    asked = lines(say(client, token, "I need a human please"))
    assert "e-mail address" in asked[-1][1]
    assert db.session.scalar(select(ChatSession.state)) == "offline_email"

    done = lines(say(client, token, "It is kim.lee@example.com"))
    assert "kim.lee@example.com" in done[-1][1]
    chat = db.session.scalar(select(ChatSession))
    assert chat.state == "email" and chat.email == "kim.lee@example.com"
    ticket = db.session.get(Ticket, chat.ticket_id)
    kinds = {(i.kind, i.value) for i in ticket.customer.identities}
    assert ("email", "kim.lee@example.com") in kinds and ("chat_visitor", chat.visitor) in kinds
    assert "chat-to-email" in {t.name for t in ticket.tags}
    # The composer offers e-mail first for this ticket.
    from helpdesk.services.composer import default_channel, reply_channels, used_channels

    user = make_user("agent")
    options = reply_channels(ticket, user)
    assert default_channel(ticket, options, used_channels(ticket)) == "email"


def test_an_email_given_in_chat_joins_the_customer_who_has_it(client, faq):
    factories.order("100964", "heike.bauer@example.de", name="Heike Bauer")
    token = start(client, name="Heike", email="Heike.Bauer@example.de", language="de")["token"]
    say(client, token, "Hallo, kurze Frage")
    chat = db.session.scalar(select(ChatSession))
    ticket = db.session.get(Ticket, chat.ticket_id)
    identities = db.session.scalars(
        select(CustomerIdentity).where(CustomerIdentity.customer_id == ticket.customer_id)
    ).all()
    assert {i.kind for i in identities} == {"email", "chat_visitor"}


def test_a_customers_chats_are_exported_and_erased_with_them(client, faq):
    from helpdesk.services.privacy import erase_customer, export_customer

    token = start(client, name="Kim Lee", email="kim.lee@example.com")["token"]
    say(client, token, "Hallo")
    chat = db.session.scalar(select(ChatSession))
    customer = db.session.get(Ticket, chat.ticket_id).customer
    exported = export_customer(customer)["chats"]
    assert [(c["visitor"], c["name"], c["email"]) for c in exported] == [
        (chat.visitor, "Kim Lee", "kim.lee@example.com")
    ]
    erase_customer(customer, actor="tests")
    db.session.commit()
    assert db.session.scalar(select(ChatSession)) is None
    assert client.get("/chat/api/messages", headers={"X-Chat-Token": token}).status_code == 401


def test_bad_input_gets_clear_errors(app, client, faq):
    token = start(client)["token"]
    headers = {"X-Chat-Token": token, "Content-Type": "application/json"}
    bad = client.post("/chat/api/messages", data=b"{not json", headers=headers)
    assert bad.status_code == 400 and "not JSON" in bad.get_json()["error"]["detail"]
    not_object = client.post("/chat/api/messages", data=b"[1, 2]", headers=headers)
    assert not_object.status_code == 400
    missing = client.post("/chat/api/messages", json={"id": "abcdefgh"}, headers=headers)
    assert missing.status_code == 400 and "text" in missing.get_json()["error"]["detail"]
    huge = json.dumps({"id": "abcdefgh", "text": "x" * 20000}).encode()
    too_large = client.post("/chat/api/messages", data=huge, headers=headers)
    assert too_large.status_code == 413
    long_text = client.post(
        "/chat/api/messages", json={"id": "abcdefgh", "text": "y" * 4001}, headers=headers
    )
    assert long_text.status_code == 422
    bad_email = client.post("/chat/api/start", json={"email": "not an address"})
    assert bad_email.status_code == 422
    assert db.session.scalar(select(Message.id)) is None  # nothing was stored


def test_messages_per_visitor_and_starts_per_address_are_limited(app, client, faq):
    app.config["CHAT_MESSAGES_PER_MINUTE"] = 3
    app.config["CHAT_STARTS_PER_IP_PER_HOUR"] = 2
    try:
        token = start(client)["token"]
        for n in range(3):
            assert say(client, token, f"Nachricht {n}").status_code == 200
        limited = say(client, token, "noch eine")
        assert limited.status_code == 429 and limited.headers["Retry-After"]
        start(client)
        refused = client.post("/chat/api/start", json={})
        assert refused.status_code == 429
    finally:
        app.config.pop("CHAT_MESSAGES_PER_MINUTE")
        app.config.pop("CHAT_STARTS_PER_IP_PER_HOUR")


def test_customer_text_is_never_rendered_unescaped(app, client, faq):
    agent = online_agent(app)
    token = start(client, name="<b>Eve</b>")["token"]
    say(client, token, "<script>alert(1)</script> human please")
    page = agent.get("/chats").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # The API hands text back as data; the widget sets it with textContent.
    got = client.get("/chat/api/messages", headers={"X-Chat-Token": token}).get_json()
    assert got["messages"][0]["text"].startswith("<script>")


def test_public_pages_and_the_widget(client, faq):
    shop = client.get("/demo/shop?lang=en")
    assert shop.status_code == 200
    assert '<script src="/chat/widget.js"' in shop.get_data(as_text=True)
    german = client.get("/faq?lang=de").get_data(as_text=True)
    assert "Was kostet der Versand?" in german and "4,95 €" in german
    english = client.get("/faq?lang=en").get_data(as_text=True)
    assert "How much is shipping?" in english and "Was kostet" not in english
    widget = client.get("/chat/widget.js")
    assert widget.status_code == 200 and "javascript" in widget.content_type
    texts = client.get("/chat/api/texts?lang=de").get_json()
    assert texts["language"] == "de" and texts["texts"]["send"]
    preflight = client.options("/chat/api/messages", headers={"Origin": "https://shop.example"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Chat-Token" in preflight.headers["Access-Control-Allow-Headers"]


# --- several gunicorn workers -----------------------------------------------------------------


def _wait_for_workers(port: int) -> None:
    """Gunicorn listens before its workers have loaded the app; on a busy machine that
    takes longer than a request's usual timeout."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=180)
    conn.request("GET", "/healthz")
    assert conn.getresponse().status == 200
    conn.close()


def test_visitors_streams_on_several_gunicorn_workers_share_the_conversation(
    app,
    faq,
    gunicorn,  # noqa: F811  (the fixture imported above)
):
    """Three streams of one visitor on two workers: each gets the visitor's message, the
    bot's answer (stored by whichever worker took the POST) and an agent's reply stored
    by this test process. Nothing lives in one worker's memory."""
    _wait_for_workers(gunicorn)
    visitor = Browser(gunicorn)
    conn, response = visitor.request(
        "POST", "/chat/api/start", json.dumps({"language": "en"}),
        **{"Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status == 201
    token = json.loads(response.read())["token"]
    conn.close()
    streams = []
    for _ in range(3):
        conn, stream = visitor.request("GET", f"/chat/api/stream?token={token}")
        assert stream.status == 200
        streams.append((conn, stream))

    body = json.dumps({"id": "gunicorn-0001", "text": "How long does delivery take?"})
    conn, sent = visitor.request(
        "POST", "/chat/api/messages", body,
        **{"Content-Type": "application/json", "X-Chat-Token": token},
    )  # fmt: skip
    assert sent.status == 200
    conn.close()
    chat = db.session.scalar(select(ChatSession))
    ticket = db.session.get(Ticket, chat.ticket_id)
    agent = make_user("agent", name="Julia Brandt")
    add_reply(ticket, agent, "Anything else I can do?")
    db.session.commit()  # SQLite: an open transaction here would hold the write lock

    for conn, stream in streams:
        authors = []
        while len(authors) < 3:
            block = Browser.next_block(stream)
            if block.get("event") == "message":
                authors.append(json.loads(block["data"])["author"])
        assert authors == ["visitor", "bot", "agent"]
        conn.close()


def test_chat_pages_carry_no_inline_script_or_style(app, client, admin_client, faq):
    agent = online_agent(app)
    token = start(client)["token"]
    say(client, token, "Hallo, eine Frage zu meiner Jacke")
    pages = [client.get("/demo/shop"), client.get("/faq"), agent.get("/chats")]
    pages += [admin_client.get("/admin/faq"), admin_client.get("/admin/faq/new")]
    for page in pages:
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert 'style="' not in html and "<style" not in html
        assert "<script>" not in html and " onclick=" not in html
