"""Ingest links a ticket to the order its message names, else to the customer's latest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Event, Order, Ticket
from tests import factories
from tests.conftest import csrf_token
from tests.factories import Classified, inbound

HELGA = "helga.brandt@example.de"


def ticket_of(result) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, result.ticket_id)


def days_ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def link_events() -> list[dict]:
    return [
        e.data
        for e in db.session.scalars(
            select(Event).where(Event.kind.like("ticket.order_%")).order_by(Event.id)
        )
    ]


def test_the_order_a_message_names_is_linked_also_without_hash_or_prefix(app):
    named = factories.order("100457", HELGA, placed_at=days_ago(200))
    factories.order("100460", HELGA)  # more recent, but not the one she writes about
    result = ingest(inbound(sender=HELGA), classifier=Classified(order_numbers=["100457"]))
    db.session.commit()
    ticket = ticket_of(result)
    assert (ticket.order_id, ticket.order_link) == (named.id, "entity")
    assert link_events() == [{"order_id": named.id, "link": "entity", "order": "100457"}]

    shopify = factories.order("#1001", HELGA)
    prefixed = factories.order("SW-100458", HELGA)
    for quoted, expected in (("1001", shopify), ("#100458", prefixed), ("100458", prefixed)):
        result = ingest(inbound(sender=HELGA), classifier=Classified(order_numbers=[quoted]))
        db.session.commit()
        assert ticket_of(result).order_id == expected.id, quoted


def test_a_prefix_match_needs_the_whole_number(app):
    factories.order("SW-1100458", HELGA, placed_at=days_ago(200))
    result = ingest(inbound(sender=HELGA), classifier=Classified(order_numbers=["100458"]))
    db.session.commit()
    assert ticket_of(result).order_id is None


def test_without_a_number_the_customers_latest_order_of_90_days_is_linked(app):
    factories.order("100400", HELGA, placed_at=days_ago(40))
    latest = factories.order("100401", HELGA, placed_at=days_ago(3))
    factories.order("100300", HELGA, placed_at=days_ago(120))
    result = ingest(inbound(sender=HELGA, text="Wo bleibt mein Paket?"))
    db.session.commit()
    ticket = ticket_of(result)
    assert (ticket.order_id, ticket.order_link) == (latest.id, "recent")

    # Another message on the same ticket naming nothing changes nothing.
    later = factories.order("100402", HELGA)
    again = ingest(inbound(sender=HELGA, references=(result.message.external_id,)))
    db.session.commit()
    assert again.ticket_id == result.ticket_id
    assert ticket_of(again).order_id == latest.id and later.id != latest.id
    # ... but naming an order moves the link there.
    named = ingest(
        inbound(sender=HELGA, references=(result.message.external_id,)),
        classifier=Classified(order_numbers=["100400"]),
    )
    db.session.commit()
    assert ticket_of(named).order_link == "entity"
    assert ticket_of(named).order.number == "100400"


def test_orders_older_than_90_days_are_not_guessed(app):
    factories.order("100300", HELGA, placed_at=days_ago(120))
    result = ingest(inbound(sender=HELGA))
    db.session.commit()
    assert ticket_of(result).order_id is None and link_events() == []


def test_another_customers_order_is_never_linked(app):
    helgas = factories.order("100457", HELGA)
    stranger = "stranger@example.com"
    result = ingest(inbound(sender=stranger), classifier=Classified(order_numbers=["100457"]))
    db.session.commit()
    ticket = ticket_of(result)
    assert ticket.order_id is None and ticket.customer.identity("email") == stranger
    assert helgas.customer_id != ticket.customer_id

    # The stranger's own recent order is what they get, not Helga's.
    own = factories.order("200001", stranger, name="Sam Stranger")
    result = ingest(inbound(sender=stranger), classifier=Classified(order_numbers=["100457"]))
    db.session.commit()
    assert (ticket_of(result).order_id, ticket_of(result).order_link) == (own.id, "recent")


def test_an_order_without_customer_links_by_the_customers_email(app):
    factories.order("100001", HELGA, placed_at=days_ago(500))  # makes Helga a customer
    guest = factories.order("100777", "Helga.Brandt@example.de", placed_at=days_ago(300))
    guest.customer_id = None
    nobodys = factories.order("100778", "someone.else@example.com", placed_at=days_ago(300))
    nobodys.customer_id = None
    db.session.commit()

    result = ingest(inbound(sender=HELGA), classifier=Classified(order_numbers=["100777"]))
    db.session.commit()
    assert ticket_of(result).order_id == guest.id

    result = ingest(inbound(sender=HELGA), classifier=Classified(order_numbers=["100778"]))
    db.session.commit()
    assert ticket_of(result).order_id is None


def test_the_customers_own_order_wins_over_another_shops_order_with_the_same_number(app):
    other_shop = factories.shop("other", "Other Shop")
    theirs = factories.order("100457", "x@example.com", shop=other_shop)
    theirs.customer_id = None  # a guest order of someone else
    theirs.invoices[0].number = "OTHER-RE-100457"  # invoice numbers are unique
    db.session.commit()
    helgas = factories.order("100457", HELGA)
    result = ingest(inbound(sender=HELGA), classifier=Classified(order_numbers=["#100457"]))
    db.session.commit()
    assert ticket_of(result).order_id == helgas.id


def test_an_agents_choice_is_kept_and_never_overwritten(app, agent_client):
    first = factories.order("100457", HELGA)
    second = factories.order("100458", HELGA)
    result = ingest(inbound(sender=HELGA), classifier=Classified(order_numbers=["100457"]))
    db.session.commit()
    page = f"/tickets/{result.ticket_id}"
    token = csrf_token(agent_client, page)

    response = agent_client.post(f"{page}/order", data={"order": "100458", "csrf_token": token})
    assert response.status_code == 302
    ticket = ticket_of(result)
    assert (ticket.order_id, ticket.order_link) == (second.id, "agent")

    named_again = ingest(
        inbound(sender=HELGA, references=(result.message.external_id,)),
        classifier=Classified(order_numbers=["100457"]),
    )
    db.session.commit()
    assert named_again.ticket_id == result.ticket_id
    assert (ticket_of(result).order_id, ticket_of(result).order_link) == (second.id, "agent")

    # Removing the link is a choice too: nothing is guessed afterwards.
    agent_client.post(f"{page}/order", data={"order": "", "csrf_token": token})
    ingest(inbound(sender=HELGA, references=(result.message.external_id,)))
    db.session.commit()
    ticket = ticket_of(result)
    assert (ticket.order_id, ticket.order_link) == (None, "agent")
    kinds = [e.kind for e in db.session.scalars(select(Event).order_by(Event.id))]
    assert "ticket.order_unlinked" in kinds
    assert first.id != second.id


def test_agent_links_the_customers_order_first_then_any_by_exact_number(app, agent_client):
    own = factories.order("SW-100457", HELGA)
    other = factories.order("300001", "other@example.com", name="Otto")
    result = ingest(inbound(sender=HELGA))
    db.session.commit()
    page = f"/tickets/{result.ticket_id}"
    token = csrf_token(agent_client, page)

    agent_client.post(f"{page}/order", data={"order": "100457", "csrf_token": token})
    assert ticket_of(result).order_id == own.id
    agent_client.post(f"{page}/order", data={"order": "300001", "csrf_token": token})
    assert ticket_of(result).order_id == other.id  # the agent decides; it is recorded

    refused = agent_client.post(
        f"{page}/order", data={"order": "999999", "csrf_token": token}, follow_redirects=True
    )
    assert "there is no order 999999" in refused.get_data(as_text=True)
    assert ticket_of(result).order_id == other.id
    event = link_events()[-1]
    assert (event["order"], event["previous"], event["link"]) == ("300001", "SW-100457", "agent")


def test_changing_the_link_needs_the_csrf_token(app, agent_client):
    factories.order("100457", HELGA)
    result = ingest(inbound(sender=HELGA))
    db.session.commit()
    response = agent_client.post(f"/tickets/{result.ticket_id}/order", data={"order": ""})
    assert response.status_code == 400
    assert ticket_of(result).order_link == "recent"
    assert db.session.scalar(select(Order.number)) == "100457"
