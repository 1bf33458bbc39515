"""The panel beside a ticket: order, shipments, invoice with its hold, returns, answers."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Event, Invoice, Message, OutboxItem, Return, Shipment, Ticket
from helpdesk.services.canned import install_default_responses
from helpdesk.services.returns import ReturnLine, register_return, transition
from tests import factories
from tests.conftest import csrf_token, log_in, make_user
from tests.factories import Classified, inbound

HELGA = "helga.brandt@example.de"
NOV_20 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
NOV_23 = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)


def text_of(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(page)).replace("\u00a0", " ")


def client_for(app, role: str, language: str = "en"):
    client = app.test_client()
    make_user(role, language=language)
    assert log_in(client, f"{role}@shop.example").status_code == 302
    return client


def reminder_story(channel: str = "email", sender: str = HELGA):
    """Helga returned the shoes (registered 20 Nov, received 23 Nov) and writes that she
    got a payment reminder anyway."""
    order = factories.order("100457", HELGA, reminder_level=1)
    order.shipments.append(
        Shipment(carrier="DHL", tracking_number="00340434161094015902", status="delivered",
                 tracking_url="https://www.dhl.de/track?piececode=00340434161094015902")
    )  # fmt: skip
    return_ = register_return(order, [ReturnLine(order.items[0], 1, "too_small")], now=NOV_20)
    transition(return_, "received", now=NOV_23)
    install_default_responses()
    db.session.commit()
    result = ingest(
        inbound(channel, sender, "Ich habe die Schuhe zurückgeschickt und trotzdem eine Mahnung!",
                **({"thread_key": "dm-1"} if channel != "email" else {})),
        classifier=Classified("payment_reminder", order_numbers=["100457"]),
    )  # fmt: skip
    db.session.commit()
    return order, return_, result.ticket_id


def test_the_panel_shows_order_shipment_invoice_hold_and_return(app):
    order, return_, ticket_id = reminder_story()
    client = client_for(app, "agent", "en")
    page = text_of(client.get(f"/tickets/{ticket_id}"))

    assert "100457" in page and "Sneaker Lauf, schwarz" in page and "SHIRT-WHT-M" in page
    assert "€129.85" in page  # the order total, in the English agent's format
    assert "€89.95" in page and "Placed" in page
    raw = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert 'href="https://www.dhl.de/track?piececode=00340434161094015902"' in raw
    assert "Delivered" in page
    assert "RE-100457" in page and "Reminder level 1" in page and "7 Dec 2026" in page
    assert f"Reminders paused since 20 Nov 2026: {return_.number}" in page
    assert f"{return_.number} Received" in page and "Too small" in page
    assert "20 Nov 2026, 10:30 · Requested" in page  # the timeline, in Berlin time
    assert "23 Nov 2026, 15:05 · Received" in page
    # Next steps from "received", and no button that the state machine would refuse.
    assert 'value="refunded"' in raw and 'value="rejected"' in raw
    assert 'value="exchanged"' not in raw and 'value="in_transit"' not in raw


def test_money_and_dates_follow_the_agents_language(app):
    _, return_, ticket_id = reminder_story()
    page = text_of(client_for(app, "agent", "de").get(f"/tickets/{ticket_id}"))
    assert "129,85 €" in page and "07.12.2026" in page
    assert "20.11.2026" in page and f"{return_.number}" in page


def test_the_done_when_story_banner_and_the_right_answer_ready_to_send(app):
    order, return_, ticket_id = reminder_story()
    client = client_for(app, "agent", "en")
    response = client.get(f"/tickets/{ticket_id}")
    page = text_of(response)

    banner = f"Return {return_.number} received on 23 Nov 2026 · reminders paused since 20 Nov 2026"
    assert banner in page
    # Above the answers; the ticket is German, so the German answer is the one offered.
    assert page.index(banner) < page.index("Zahlungserinnerung trotz Retoure")
    assert "Payment reminder while a return is open" not in page
    # The ticket is German, so the German answer is offered, filled with the real status.
    raw = response.get_data(as_text=True)
    textareas = re.findall(r'<textarea name="text"[^>]*>(.*?)</textarea>', raw, re.S)
    answer = html.unescape(textareas[0])
    assert answer.startswith("Guten Tag Helga Brandt,")
    assert f"Ihre Retoure {return_.number} ist am 23.11.2026 bei uns eingegangen" in answer
    assert "seit dem 20.11.2026 pausiert" in answer and "RE-100457" in answer
    assert "Agent" in answer and "Demo Shop" in answer  # signed by the agent and the shop

    queued_before = db.session.scalar(select(func.count()).select_from(OutboxItem))
    token = csrf_token(client, f"/tickets/{ticket_id}")
    sent = client.post(
        f"/tickets/{ticket_id}/reply",
        data={"text": answer, "response": "reminder-return", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Your reply is on its way." in text_of(sent)
    db.session.expire_all()
    reply = db.session.scalars(
        select(Message).where(Message.ticket_id == ticket_id, Message.direction == "outbound")
    ).one()
    assert reply.text == answer and reply.details["canned_response"] == "reminder-return"
    outbox = db.session.scalars(select(OutboxItem).where(OutboxItem.message_id == reply.id)).one()
    assert outbox.kind == "send_message" and outbox.channel == "email"
    assert db.session.scalar(select(func.count()).select_from(OutboxItem)) == queued_before + 1


def test_an_empty_reply_is_refused_with_a_message(app):
    _, _, ticket_id = reminder_story()
    client = client_for(app, "agent")
    token = csrf_token(client, f"/tickets/{ticket_id}")
    page = client.post(f"/tickets/{ticket_id}/reply", data={"text": "  ", "csrf_token": token},
                       follow_redirects=True)  # fmt: skip
    assert "a reply needs some text" in text_of(page)
    assert db.session.scalar(select(func.count()).select_from(Message).where(
        Message.ticket_id == ticket_id, Message.direction == "outbound")) == 0  # fmt: skip


def test_an_agent_pauses_and_resumes_reminders_in_one_click(app):
    order = factories.order("100500", HELGA)
    result = ingest(inbound(sender=HELGA), classifier=Classified(order_numbers=["100500"]))
    db.session.commit()
    client = client_for(app, "agent")
    page_url = f"/tickets/{result.ticket_id}"
    invoice_id = order.invoices[0].id
    token = csrf_token(client, page_url)
    assert "Pause reminders" in text_of(client.get(page_url))

    hold = f"{page_url}/invoices/{invoice_id}/hold"
    refused = client.post(hold, data={"reason": " ", "csrf_token": token}, follow_redirects=True)
    assert "say why reminders are paused" in text_of(refused)
    assert not db.session.get(Invoice, invoice_id).on_hold

    paused = client.post(
        f"{page_url}/invoices/{invoice_id}/hold",
        data={"reason": "Kundin hat am 3.11. zurückgeschickt", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Reminders paused since" in text_of(paused)
    assert ": Kundin hat am 3.11. zurückgeschickt" in text_of(paused)
    db.session.expire_all()
    invoice = db.session.get(Invoice, invoice_id)
    assert invoice.on_hold and invoice.hold_source == "agent"
    assert invoice.hold_cents == invoice.amount_due_cents

    resumed = client.post(f"{page_url}/invoices/{invoice_id}/release",
                          data={"csrf_token": token}, follow_redirects=True)  # fmt: skip
    assert "may go out again" in text_of(resumed)
    db.session.expire_all()
    assert not db.session.get(Invoice, invoice_id).on_hold
    kinds = list(db.session.scalars(select(Event.kind).order_by(Event.id)))
    assert kinds.count("dunning.hold") == 1 and kinds.count("dunning.release") == 1


def test_a_returns_hold_cannot_be_released_by_hand(app):
    order, _, ticket_id = reminder_story()
    client = client_for(app, "agent")
    raw = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "Resume reminders" not in raw  # no button for what would be refused
    token = csrf_token(client, f"/tickets/{ticket_id}")
    page = client.post(f"/tickets/{ticket_id}/invoices/{order.invoices[0].id}/release",
                       data={"csrf_token": token}, follow_redirects=True)  # fmt: skip
    assert "they resume when it is refunded, exchanged or rejected" in text_of(page)
    db.session.expire_all()
    assert db.session.get(Invoice, order.invoices[0].id).on_hold


def test_returns_move_from_the_panel_and_illegal_steps_show_why(app):
    order = factories.order("100600", HELGA)
    return_ = register_return(order, [ReturnLine(order.items[1], 1, "style")])
    db.session.commit()
    result = ingest(inbound(sender=HELGA), classifier=Classified(order_numbers=["100600"]))
    db.session.commit()
    client = client_for(app, "agent")
    url = f"/tickets/{result.ticket_id}/returns/{return_.id}/transition"
    token = csrf_token(client, f"/tickets/{result.ticket_id}")

    moved = client.post(url, data={"to": "in_transit", "csrf_token": token}, follow_redirects=True)
    assert f"Return {return_.number} is now: On its way back." in text_of(moved)
    db.session.expire_all()
    assert db.session.get(Return, return_.id).status == "in_transit"

    illegal = client.post(url, data={"to": "refunded", "csrf_token": token})
    assert illegal.status_code == 302
    page = text_of(client.get(illegal.headers["Location"]))
    assert f"return {return_.number} is in_transit; it can go to received, not refunded" in page
    db.session.expire_all()
    assert db.session.get(Return, return_.id).status == "in_transit"

    client.post(url, data={"to": "received", "csrf_token": token})
    client.post(url, data={"to": "rejected", "note": "getragen", "csrf_token": token})
    db.session.expire_all()
    rejected = db.session.get(Return, return_.id)
    assert rejected.status == "rejected" and rejected.note == "getragen"
    assert [step["status"] for step in rejected.history] == [
        "requested", "in_transit", "received", "rejected"
    ]  # fmt: skip
    assert rejected.history[-1]["actor"].startswith("user:")


def test_a_return_of_another_order_cannot_be_reached_through_a_ticket(app):
    helgas = factories.order("100700", HELGA)
    others = factories.order("100701", "other@example.com", name="Otto")
    foreign = register_return(others, [ReturnLine(others.items[0], 1, "defective")])
    foreign_invoice = others.invoices[0].id
    db.session.commit()
    result = ingest(inbound(sender=HELGA), classifier=Classified(order_numbers=["100700"]))
    db.session.commit()
    client = client_for(app, "agent")
    token = csrf_token(client, f"/tickets/{result.ticket_id}")
    base = f"/tickets/{result.ticket_id}"
    moved = client.post(f"{base}/returns/{foreign.id}/transition",
                        data={"to": "received", "csrf_token": token})  # fmt: skip
    held = client.post(f"{base}/invoices/{foreign_invoice}/hold",
                       data={"reason": "x", "csrf_token": token})  # fmt: skip
    assert (moved.status_code, held.status_code) == (404, 404)
    db.session.expire_all()
    assert db.session.get(Return, foreign.id).status == "requested" and helgas.id


@pytest.mark.parametrize("path", ["returns/{return_id}/transition", "invoices/{invoice_id}/hold",
                                  "invoices/{invoice_id}/release"])  # fmt: skip
def test_social_media_managers_see_the_panel_but_may_not_change_returns_or_holds(app, path):
    order, return_, ticket_id = reminder_story(channel="instagram", sender="helga.insta")
    # The DM's customer is another identity; the agent linked Helga's order by hand.
    ticket = db.session.get(Ticket, ticket_id)
    ticket.order_id, ticket.order_link = order.id, "agent"
    db.session.commit()
    client = client_for(app, "social")
    page = client.get(f"/tickets/{ticket_id}")
    assert page.status_code == 200
    raw = page.get_data(as_text=True)
    assert "RE-100457" in raw and return_.number in raw
    assert "Pause reminders" not in raw and 'name="to"' not in raw
    token = csrf_token(client, f"/tickets/{ticket_id}")
    url = f"/tickets/{ticket_id}/" + path.format(return_id=return_.id,
                                                 invoice_id=order.invoices[0].id)  # fmt: skip
    refused = client.post(url, data={"to": "refunded", "reason": "x", "csrf_token": token})
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.get(Return, return_.id).status == "received"
    assert db.session.get(Invoice, order.invoices[0].id).hold_source == "return"


def test_every_role_sees_the_panel(app, role):
    order, _, ticket_id = reminder_story(
        channel="instagram" if role == "social" else "email",
        sender="helga.insta" if role == "social" else HELGA,
    )
    ticket = db.session.get(Ticket, ticket_id)
    ticket.order_id = order.id
    db.session.commit()
    page = text_of(client_for(app, role).get(f"/tickets/{ticket_id}"))
    assert "RE-100457" in page and "Sneaker Lauf" in page


def test_a_ticket_without_an_order_says_so_and_offers_to_link_one(app):
    result = ingest(inbound(sender="new@example.com"))
    db.session.commit()
    page = text_of(client_for(app, "agent").get(f"/tickets/{result.ticket_id}"))
    assert "No order linked." in page and "Link to order" in page


def test_a_tracking_link_that_is_not_a_web_page_is_not_a_link(app):
    order = factories.order("100800", HELGA)
    order.shipments.append(Shipment(carrier="DHL", tracking_number="JJD000390007730781",
                                    tracking_url="javascript:alert(1)"))  # fmt: skip
    db.session.commit()
    result = ingest(inbound(sender=HELGA))
    db.session.commit()
    raw = client_for(app, "agent").get(f"/tickets/{result.ticket_id}").get_data(as_text=True)
    assert "JJD000390007730781" in raw and "javascript:alert" not in raw
