"""The return state machine with its side effects: events, dunning hold, notifications."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import Event, Message, OutboxItem, Stock, Ticket, WebhookEndpoint
from helpdesk.services import dunning
from helpdesk.services.returns import IllegalTransition, ReturnLine, register_return, transition
from tests import factories


def kinds_of_events() -> list[str]:
    return list(db.session.scalars(select(Event.kind).order_by(Event.id)))


def notifications() -> list[Message]:
    return list(
        db.session.scalars(
            select(Message).where(Message.author_kind == "system").order_by(Message.id)
        )
    )


def test_a_return_moves_from_request_to_refund_pausing_reminders_and_telling_the_customer(app):
    db.session.add(WebhookEndpoint(name="payments", url="http://127.0.0.1:9/hook",
                                   secret_env="PAYMENT_SECRET", events=["dunning.*"]))  # fmt: skip
    order = factories.order(reminder_level=1)
    shoes, shirts = order.items
    invoice = order.invoices[0]

    return_ = register_return(
        order, [ReturnLine(shoes, 1, "too_small")], source="portal", actor="portal"
    )
    db.session.commit()
    assert return_.status == "requested" and return_.value_cents == 8995
    assert invoice.on_hold and invoice.hold_cents == 8995 and invoice.hold_source == "return"
    assert invoice.hold_reason == return_.number

    transition(return_, "in_transit", carrier="DHL", tracking_number="00340434161094015902")
    transition(return_, "received")
    assert invoice.on_hold, "the hold stays until the money is settled"
    transition(return_, "refunded", actor="warehouse")
    db.session.commit()

    assert invoice.amount_due_cents == 2 * 1995  # the shirts are still owed
    assert not invoice.on_hold and invoice.hold_since is None
    assert kinds_of_events().count("dunning.hold") == 1
    assert kinds_of_events().count("dunning.release") == 1
    for kind in ("return.requested", "return.in_transit", "return.received", "return.refunded",
                 "invoice.credited"):  # fmt: skip
        assert kind in kinds_of_events()

    sent = notifications()
    assert [m.details["moment"] for m in sent] == [
        "return_registered", "return_on_its_way", "return_arrived", "return_refunded"
    ]  # fmt: skip
    assert "Retoure" in sent[0].text and "Sneaker Lauf" in sent[0].text
    assert "00340434161094015902" in sent[1].text
    assert "89,95\u00a0€" in sent[3].text  # babel: a no-break space
    ticket = db.session.get(Ticket, return_.ticket_id)
    assert ticket.status == "solved" and ticket.order_id == order.id
    assert {m.ticket_id for m in sent} == {ticket.id}
    queued = db.session.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
    assert [i.kind for i in queued if i.kind == "send_message"] == ["send_message"] * 4
    hooks = [i.payload["body"] for i in queued if i.kind == "webhook"]
    assert [h["type"] for h in hooks] == ["dunning.hold", "dunning.release"]
    assert hooks[0]["data"]["hold_cents"] == 8995 and hooks[0]["data"]["invoice"] == "RE-100457"


def test_illegal_steps_are_refused_with_the_steps_that_are_allowed(app):
    order = factories.order()
    return_ = register_return(order, [ReturnLine(order.items[0], 1, "too_big")])
    with pytest.raises(IllegalTransition, match="is requested; it can go to label_created, "
                       "in_transit, received, rejected, not refunded"):  # fmt: skip
        transition(return_, "refunded")
    transition(return_, "received")
    transition(return_, "rejected", note="worn")
    with pytest.raises(IllegalTransition, match="it can go to nothing: it is closed"):
        transition(return_, "received")
    assert transition(return_, "rejected") is False  # the same status again changes nothing
    with pytest.raises(IllegalTransition, match="not a return status"):
        transition(return_, "lost")


def test_a_rejected_return_releases_the_hold_and_the_customer_owes_everything(app):
    order = factories.order()
    return_ = register_return(order, [ReturnLine(order.items[1], 2, "changed_mind")])
    invoice = order.invoices[0]
    assert invoice.hold_cents == 2 * 1995
    transition(return_, "received")
    transition(return_, "rejected", note="Ware getragen")
    db.session.commit()
    assert not invoice.on_hold and invoice.amount_due_cents == order.total_cents


def test_exchange_offers_only_sizes_in_stock_and_sets_the_replacement_aside(app):
    order = factories.order(
        stock={
            "SHOE-BLK-40": ("Sneaker Lauf, schwarz", "40", 3),
            "SHOE-BLK-41": ("Sneaker Lauf, schwarz", "41", 1),
            "SHOE-BLK-42": ("Sneaker Lauf, schwarz", "42", 0),
        }
    )
    shoes = order.items[0]
    from helpdesk.services.returns import exchange_options

    assert [s.sku for s in exchange_options(shoes)] == ["SHOE-BLK-41"]
    with pytest.raises(InvalidInput, match="choose a size or colour that is in stock"):
        register_return(order, [ReturnLine(shoes, 1, "too_small", "SHOE-BLK-42")],
                        resolution="exchange")  # fmt: skip
    return_ = register_return(
        order, [ReturnLine(shoes, 1, "too_small", "SHOE-BLK-41")], resolution="exchange"
    )
    assert db.session.get(Stock, (order.shop_id, "SHOE-BLK-41")).quantity == 0
    with pytest.raises(IllegalTransition, match="asks for a refund|not an exchange"):
        other = register_return(order, [ReturnLine(order.items[1], 1, "style")])
        transition(other, "received")
        transition(other, "exchanged")
    transition(return_, "received")
    transition(return_, "exchanged")
    db.session.commit()
    assert notifications()[-1].details["moment"] == "return_exchanged"
    assert "SHOE-BLK-41" in notifications()[-1].text


def test_items_cannot_be_returned_twice_or_from_another_order(app):
    order = factories.order()
    other = factories.order("100458", "someone@example.com")
    register_return(order, [ReturnLine(order.items[1], 1, "style")])
    with pytest.raises(InvalidInput, match="1 of 2 can still be returned"):
        register_return(order, [ReturnLine(order.items[1], 2, "style")])
    with pytest.raises(InvalidInput, match="is not part of order 100457"):
        register_return(order, [ReturnLine(other.items[0], 1, "style")])
    with pytest.raises(InvalidInput, match="reason must be one of"):
        register_return(order, [ReturnLine(order.items[0], 1, "meh")])


def test_a_shop_can_switch_notifications_off(app):
    order = factories.order(shop=factories.shop("quiet", return_notifications=False))
    return_ = register_return(order, [ReturnLine(order.items[0], 1, "defective")])
    transition(return_, "in_transit")
    db.session.commit()
    assert notifications() == [] and order.invoices[0].on_hold


def test_english_customers_get_english_notifications_with_english_money(app):
    order = factories.order("200100", "jane@example.co.uk", name="Jane Doe", language="en")
    return_ = register_return(order, [ReturnLine(order.items[0], 1, "too_big")])
    transition(return_, "received")
    transition(return_, "refunded", refund_cents=8000)
    db.session.commit()
    sent = notifications()
    assert sent[0].text.startswith("Hello Jane Doe,")
    assert "€80.00" in sent[-1].text
    assert db.session.get(Ticket, return_.ticket_id).subject == (
        f"Your return {return_.number} for order 200100"
    )


def test_an_agent_pauses_reminders_by_hand_and_only_an_agent_hold_ends_by_hand(app):
    from tests.conftest import make_user

    lead = make_user("lead")
    order = factories.order(reminder_level=2)
    invoice = order.invoices[0]
    dunning.hold_by_agent(invoice, lead, "Kundin hat am 3.11. zurückgeschickt")
    assert invoice.on_hold and invoice.hold_source == "agent"
    # A return registered later does not take over the agent's hold.
    return_ = register_return(order, [ReturnLine(order.items[0], 1, "too_small")])
    assert invoice.hold_source == "agent"
    dunning.release_by_agent(invoice, lead)
    assert invoice.hold_source == "return", "the open return's hold takes over"
    with pytest.raises(InvalidInput, match="resume when it is refunded"):
        dunning.release_by_agent(invoice, lead)
    with pytest.raises(InvalidInput, match="on hold already"):
        dunning.hold_by_agent(invoice, lead, "again")
    assert return_.status == "requested"
