"""Agents step away and come back themselves, from the top bar."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Customer, Event, Ticket, User
from helpdesk.models.types import utcnow
from helpdesk.services.assignment import choose
from helpdesk.services.chat import agents_online, note_agent_seen
from tests.conftest import csrf_token, log_in
from tests.integration.rules.helpers import team_with


def _agent(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def _new_ticket() -> Ticket:
    now = utcnow()
    ticket = Ticket(subject="Wo bleibt mein Paket?", channel="email", status="open",
                    customer=Customer(name="Kundin"), created_at=now,
                    last_activity_at=now)  # fmt: skip
    db.session.add(ticket)
    db.session.flush()
    return ticket


def test_an_agent_steps_away_and_back_and_round_robin_and_chat_follow(app, client):
    team = team_with("Care", "julia@shop.example", "tom@shop.example")
    log_in(client, "julia@shop.example")
    token = csrf_token(client, "/inbox")
    note_agent_seen(_agent("julia@shop.example"))
    db.session.commit()
    assert agents_online()

    page = client.post("/me/away", data={"csrf_token": token, "away": "on", "next": "/inbox"},
                       follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "You are away" in page and 'class="link status away"' in page
    assert _agent("julia@shop.example").away
    assert not agents_online()  # Julia was the only one at the desk
    chosen = {choose(team, _new_ticket(), sticky=False)[0].email for _ in range(4)}
    assert chosen == {"tom@shop.example"}
    event = db.session.scalar(select(Event).where(Event.kind == "user.availability_changed"))
    assert event.data["away"] is True and event.user_id == _agent("julia@shop.example").id

    page = client.post("/me/away", data={"csrf_token": token, "next": "/inbox"},
                       follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "You are available again." in page and 'class="link status available"' in page
    assert not _agent("julia@shop.example").away
    assert agents_online()
    chosen = {choose(team, _new_ticket(), sticky=False)[0].email for _ in range(4)}
    assert chosen == {"julia@shop.example", "tom@shop.example"}


def test_stepping_away_needs_a_sign_in_and_the_form_token(app, client):
    team_with("Care", "julia@shop.example")
    anonymous = {"away": "on", "csrf_token": csrf_token(client)}
    assert client.post("/me/away", data=anonymous).headers["Location"].startswith("/login")
    log_in(client, "julia@shop.example")
    assert client.post("/me/away", data={"away": "on"}).status_code == 400  # no CSRF token
    assert not _agent("julia@shop.example").away
