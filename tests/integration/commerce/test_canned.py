"""Canned responses: which fit a ticket, filled in with its facts, safely."""

from __future__ import annotations

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import CannedResponse, Order, Ticket, User
from helpdesk.services.canned import install_default_responses, suggestions
from helpdesk.services.returns import ReturnLine, register_return
from tests import factories
from tests.conftest import make_user, signed_in_client
from tests.factories import Classified, inbound

HELGA = "helga.brandt@example.de"


def response(shortcut: str, body: str, *, language: str = "de", **fields) -> CannedResponse:
    row = CannedResponse(shortcut=shortcut, title=fields.pop("title", shortcut), language=language,
                         body=body, **fields)  # fmt: skip
    db.session.add(row)
    db.session.commit()
    return row


def ticket_about(order: Order | None, *intents: str, language: str = "de") -> Ticket:
    numbers = [order.number] if order is not None else []
    classifier = Classified(*intents, order_numbers=numbers, language=language)
    result = ingest(inbound(sender=HELGA), classifier=classifier)
    db.session.commit()
    return db.session.get(Ticket, result.ticket_id)


def offered(ticket: Ticket, agent: User | None = None) -> dict[str, str]:
    return {s.response.shortcut: s.missing or s.text for s in suggestions(ticket, agent=agent)}


def test_money_and_dates_in_german_and_english(app):
    order = factories.order("100457", HELGA)
    body = "{{ invoice.amount_due_cents | money(invoice.currency) }} / {{ invoice.due_date|date }}"
    response("due", body, language="de")
    response("due", body, language="en")
    assert offered(ticket_about(order, language="de")) == {"due": "129,85\u00a0€ / 07.12.2026\n"}
    assert offered(ticket_about(order, language="en")) == {"due": "€129.85 / 7 Dec 2026\n"}


def test_language_intents_requirements_and_ranking_decide_what_is_offered(app):
    order = factories.order("100457", HELGA)
    response("anytime", "Hallo", intents=[])
    response("reminder", "Mahnung {{ order.number }}", intents=["payment_reminder"])
    response("both", "Beides", intents=["payment_reminder", "return_status"])
    response("needs-return", "{{ return.number }}", intents=["payment_reminder"],
             requires=["return"])  # fmt: skip
    response("needs-hold", "{{ invoice.hold_reason }}", requires=["hold"])
    response("english", "Reminder", language="en", intents=["payment_reminder"])
    response("off", "Alt", intents=["payment_reminder"], active=False)
    response("chat-only", "Chat", intents=["payment_reminder"], channels=["chat"])
    response("other-intent", "Umtausch", intents=["exchange_request"])

    ticket = ticket_about(order, "payment_reminder", "return_status")
    assert list(offered(ticket)) == ["both", "reminder", "anytime"]
    assert offered(ticket)["reminder"] == "Mahnung 100457\n"

    register_return(order, [ReturnLine(order.items[0], 1, "too_big")])
    db.session.commit()
    return_number = order.returns[0].number
    assert list(offered(ticket)) == ["both", "needs-return", "reminder", "needs-hold", "anytime"]
    assert offered(ticket)["needs-return"] == f"{return_number}\n"
    assert offered(ticket)["needs-hold"] == f"{return_number}\n"


def test_without_a_ticket_language_the_customers_decides(app):
    order = factories.order("100457", HELGA, language="en")
    order.customer.language = "en"
    db.session.commit()
    response("hello", "Hallo", language="de")
    response("hello", "Hello", language="en")
    ticket = ticket_about(order)
    ticket.language = None
    assert offered(ticket) == {"hello": "Hello\n"}
    ticket.language = "fr"  # a language we do not write in
    assert offered(ticket) == {"hello": "Hello\n"}


def test_a_missing_fact_or_a_broken_template_is_a_message_not_an_error(app):
    response("no-return", "Ihre Retoure {{ return.number }}")  # requires nothing: a mistake
    response("typo", "{{ ordr.number }}")
    response("syntax", "{% if order %}unclosed")
    response("zero", "{{ 1 / 0 }}")
    ticket = ticket_about(None)
    found = offered(ticket)
    assert found["no-return"].startswith("a placeholder has no value for this ticket")
    assert "'None' has no attribute 'number'" in found["no-return"]
    assert "'ordr' is undefined" in found["typo"]
    assert found["syntax"].startswith("the template has an error in line 1")
    assert "ZeroDivisionError" in found["zero"]
    assert all(s.text == "" for s in suggestions(ticket))

    client = signed_in_client(app, "agent")
    page = client.get(f"/tickets/{ticket.id}")
    assert page.status_code == 200
    assert "This answer cannot be filled in: the template has an error in line 1" in page.get_data(
        as_text=True
    )


def test_the_sandbox_keeps_templates_away_from_python_and_the_database(app):
    order = factories.order("100457", HELGA)
    response("mro", "{{ ''.__class__.__mro__ }}")
    response("globals", "{{ order.__class__.__init__.__globals__ }}")
    response("query", "{{ order.query }}")  # the row's ORM query is not in the context
    response("delete", "{{ customer.identities }}")  # nor are its relationships
    response("config", "{{ config }}")
    ticket = ticket_about(order)
    found = offered(ticket)
    assert "not allowed" in found["mro"] and "__class__" in found["mro"]
    assert "not allowed" in found["globals"]
    assert found["query"].startswith("a placeholder has no value")
    assert found["delete"].startswith("a placeholder has no value")
    assert "'config' is undefined" in found["config"]
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_the_agent_signs_and_the_portal_link_is_absolute_in_a_request(app):
    factories.order("100457", HELGA)
    install_default_responses()
    db.session.commit()
    ticket = ticket_about(None, "return_request")
    agent = make_user("lead", name="Lena Lead")
    text = offered(ticket, agent)["return-howto"]
    assert "/returns" in text and "Lena Lead" in text

    client = signed_in_client(app, "agent")
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "http://localhost/returns" in page


def test_default_responses_are_installed_once_and_edits_survive(app):
    assert install_default_responses() == 12
    db.session.commit()
    edited = db.session.scalar(
        select(CannedResponse).where(
            CannedResponse.shortcut == "return-status", CannedResponse.language == "de"
        )
    )
    edited.body = "Unser eigener Text"
    db.session.commit()
    assert install_default_responses() == 0
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(CannedResponse)) == 12
    db.session.refresh(edited)
    assert edited.body == "Unser eigener Text"
    shortcuts = set(db.session.scalars(select(CannedResponse.shortcut)))
    assert shortcuts == {"reminder-return", "return-status", "refund-status", "order-status",
                         "return-howto", "exchange-howto"}  # fmt: skip


def test_every_default_response_fills_in_for_every_return_status(app):
    """The defaults are templates too: none of them may break on a real ticket."""
    from helpdesk.models import Shipment
    from helpdesk.services.returns import transition

    install_default_responses()
    order = factories.order("100457", HELGA)
    order.shipments.append(Shipment(carrier="DHL", tracking_number="00340434161094015902",
                                    status="in_transit"))  # fmt: skip
    db.session.commit()
    intents = ("payment_reminder", "return_status", "refund_status", "order_status",
               "return_request", "exchange_request")  # fmt: skip
    for language in ("de", "en"):
        ticket = ticket_about(order, *intents, language=language)
        assert len(offered(ticket)) == 4  # the two that need a return are not offered yet
        return_ = register_return(order, [ReturnLine(order.items[1], 1, "style")])
        for status in ("label_created", "in_transit", "received", "rejected"):
            transition(return_, status)
            found = suggestions(ticket)
            assert len(found) == 6
            assert [s.missing for s in found] == [None] * 6, status
            assert all(return_.number in s.text for s in found if s.response.requires == ["return"])
        db.session.rollback()
