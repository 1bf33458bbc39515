"""Tokens and a small store for the API tests: two e-mail tickets, a social one, a team."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from helpdesk.api import issue_token
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Team
from helpdesk.services.canned import install_default_responses
from tests import factories
from tests.conftest import make_user


def token_for(role: str) -> str:
    user = make_user(role, f"{role}-api@shop.example", name=f"{role.title()} API")
    token = issue_token(user, "tests")
    db.session.commit()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Store:
    email_ticket: int
    second_ticket: int
    social_ticket: int
    customer: int
    team: int


@pytest.fixture
def store(app) -> Store:
    first = ingest(factories.inbound(text="Wo bleibt meine Bestellung 100457?",
                                     sender="helga.brandt@example.de",
                                     display_name="Helga Brandt"))  # fmt: skip
    second = ingest(factories.inbound(text="I want to return my shoes.", sender="sam@example.com",
                                      subject="Return"))  # fmt: skip
    social = ingest(factories.inbound("instagram", sender="ig-4711", text="Hi, quick question"))
    team = Team(name="Care")
    db.session.add(team)
    install_default_responses()
    db.session.commit()
    return Store(first.ticket.id, second.ticket.id, social.ticket.id, first.ticket.customer_id,
                 team.id)  # fmt: skip
