"""Shared set-up for the rules tests: teams with agents, orders with returns and shipments."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Shipment, Team, User
from helpdesk.models.types import utcnow
from helpdesk.services.returns import ReturnLine, register_return, transition
from tests import factories
from tests.conftest import make_user


def team_with(name: str, *emails: str) -> Team:
    users = [
        db.session.scalar(select(User).where(User.email == email))
        or make_user("agent", email, name=email.split("@")[0].title())
        for email in emails
    ]
    team = db.session.scalar(select(Team).where(Team.name == name)) or Team(name=name)
    db.session.add(team)
    team.members.extend(u for u in users if u not in team.members)
    db.session.commit()
    return team


def returned_order(number: str = "100457", email: str = "helga.brandt@example.de"):
    """An order whose return arrived in the warehouse while its invoice is in dunning, and
    whose hold the shop's system never set (a return booked there, not here)."""
    order = factories.order(number, email, reminder_level=1)
    item = order.items[0]
    return_ = register_return(order, [ReturnLine(item, 1, "too_small")], actor="tests")
    for step in ("label_created", "in_transit", "received"):
        transition(return_, step, actor="tests")
    for invoice in order.invoices:  # the hold the shop forgot
        invoice.hold_cents = invoice.hold_reason = invoice.hold_source = None
        invoice.hold_since = None
    db.session.commit()
    return order, return_


def shipped_order(number: str = "200811", email: str = "sam.taylor@example.com"):
    order = factories.order(number, email, name="Sam Taylor", language="en")
    order.shipments.append(
        Shipment(
            carrier="DHL",
            tracking_number="JJD000390007788123",
            tracking_url="https://www.dhl.de/track?piececode=JJD000390007788123",
            status="in_transit",
            shipped_at=utcnow() - timedelta(days=1),
        )
    )
    db.session.commit()
    return order
