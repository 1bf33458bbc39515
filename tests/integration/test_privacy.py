"""A customer can have their data, and have it erased; the shop keeps its accounting."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from channel_adapters.base import Identity
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Customer, Event, Message, Order, RawSource, Ticket
from helpdesk.services.customers import merge_customers, resolve_customer
from tests import factories


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_export_then_erase_leaves_no_personal_data_but_keeps_the_order(app):
    order = factories.order(email="helga.brandt@example.de")
    first = ingest(
        factories.inbound(sender="helga.brandt@example.de", raw=b"From: helga\r\n\r\nhi")
    )
    ingest(factories.inbound("whatsapp", sender="+4915112345678", text="Hallo, Helga hier"))
    phone = resolve_customer([Identity("phone", "+4915112345678")])
    merge_customers(
        order.customer, phone, actor="tests"
    )  # she wrote on WhatsApp too, then we learned it
    other = ingest(factories.inbound(sender="someone.else@example.com"))
    db.session.get(Ticket, other.ticket_id).follow_up_of_id = first.ticket_id
    db.session.commit()
    assert count(RawSource) == 1
    runner = app.test_cli_runner()

    exported = runner.invoke(args=["customers", "export", "helga.brandt@example.de"])
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.stdout)
    assert {i["value"] for i in data["identities"]} >= {"helga.brandt@example.de", "+4915112345678"}
    assert len(data["tickets"]) == 2 and data["orders"][0]["number"] == "100457"

    erased = runner.invoke(args=["customers", "erase", "+4915112345678", "--yes"])
    assert erased.exit_code == 0, erased.output
    assert "2 tickets" in erased.output and "1 orders kept without personal data" in erased.output
    db.session.expire_all()
    assert count(Customer) == 1  # only the other customer is left
    assert db.session.scalars(select(Message.text)).all() == [factories.inbound().text]
    assert count(RawSource) == 0, "her raw mail goes too"
    kept = db.session.scalar(select(Order))
    assert (kept.number, kept.customer_id, kept.email, kept.name) == ("100457", None, None, None)
    assert db.session.get(Ticket, other.ticket_id).follow_up_of_id is None
    assert db.session.scalar(select(Event.kind).where(Event.kind == "customer.erased"))
    assert (
        "helga"
        not in json.dumps(
            [e.data for e in db.session.scalars(select(Event))], ensure_ascii=False
        ).lower()
    )

    missing = runner.invoke(args=["customers", "erase", "helga.brandt@example.de", "--yes"])
    assert missing.exit_code == 1 and "no customer" in missing.output
