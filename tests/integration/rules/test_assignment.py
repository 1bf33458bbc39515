"""Round-robin assignment: fair over 1,000 tickets while agents go away and come back,
capacity, channel access, a returning customer's own agent, and two workers at once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Customer, Team, Ticket, User
from helpdesk.models.types import utcnow
from helpdesk.services.assignment import choose
from tests.factories import inbound
from tests.integration.rules.helpers import team_with

AGENTS = [f"agent{n}@shop.example" for n in range(1, 5)]


def _ticket(customer: Customer, channel: str = "email", status: str = "open") -> Ticket:
    now = utcnow()
    ticket = Ticket(subject="t", channel=channel, customer=customer, status=status,
                    created_at=now, last_activity_at=now)  # fmt: skip
    db.session.add(ticket)
    db.session.flush()
    return ticket


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_round_robin_is_fair_over_1000_assignments_with_agents_going_away(app):
    team = team_with("Care", *AGENTS)
    customers = [Customer(name=f"c{n}") for n in range(50)]
    db.session.add_all(customers)
    db.session.commit()
    app.config["ASSIGN_MAX_OPEN_TICKETS"] = 10_000
    away_plan = {0: set(), 250: {AGENTS[1]}, 500: {AGENTS[1], AGENTS[3]}, 750: {AGENTS[3]}}
    per_phase: dict[int, Counter] = {}
    phase = 0
    try:
        for index in range(1000):
            if index in away_plan:
                phase = index
                for email in AGENTS:
                    _user(email).away = email in away_plan[index]
                per_phase[phase] = Counter()
            ticket = _ticket(customers[index % 50])
            agent, how = choose(team, ticket, sticky=False)
            assert agent is not None and how == "round_robin"
            assert agent.email not in away_plan[phase]
            ticket.assignee = agent
            per_phase[phase][agent.email] += 1
            db.session.commit()
    finally:
        app.config.pop("ASSIGN_MAX_OPEN_TICKETS")
    for start, counts in per_phase.items():
        present = set(AGENTS) - away_plan[start]
        assert set(counts) == present
        assert max(counts.values()) - min(counts.values()) <= 1, (start, counts)
    total = sum(per_phase.values(), Counter())
    assert sum(total.values()) == 1000


def test_capacity_channel_access_and_role_decide_who_is_eligible(app):
    team = team_with("Care", *AGENTS[:3])
    full, chats_only, free = (_user(e) for e in AGENTS[:3])
    full.max_open_tickets = 1
    chats_only.channels = ["chat"]
    customer = Customer(name="c")
    db.session.add(customer)
    _ticket(customer).assignee = full
    db.session.commit()

    chosen = {choose(team, _ticket(customer), sticky=False)[0].email for _ in range(4)}
    assert chosen == {free.email}  # full is at capacity, chats_only may not do e-mail

    free.max_chats = 1
    chat = _ticket(customer, channel="chat")
    chat.assignee = free
    db.session.commit()
    chosen = {choose(team, _ticket(customer, channel="chat"), sticky=False)[0].email
              for _ in range(3)}  # fmt: skip
    assert chosen == {chats_only.email}  # free has one chat already, full is full

    for user in (full, chats_only, free):
        user.away = True
    assert choose(team, _ticket(customer), sticky=False) == (None, "nobody available")


def test_a_returning_customer_keeps_their_agent_while_available(app):
    team = team_with("Care", *AGENTS[:3])
    customer = Customer(name="Helga")
    db.session.add(customer)
    earlier = _ticket(customer, status="solved")
    earlier.assignee = _user(AGENTS[2])
    db.session.commit()
    assert choose(team, _ticket(customer)) == (_user(AGENTS[2]), "sticky")

    _user(AGENTS[2]).away = True
    agent, how = choose(team, _ticket(customer))
    assert how == "round_robin" and agent.email != AGENTS[2]


def test_social_managers_get_no_email_tickets(app):
    team = team_with("Care")
    social = User(email="nina@shop.example", name="Nina", role="social", password_hash="x")
    team.members.append(social)
    customer = Customer(name="c")
    db.session.add_all([social, customer])
    db.session.commit()
    assert choose(team, _ticket(customer), sticky=False) == (None, "nobody available")
    assert choose(team, _ticket(customer, channel="instagram"), sticky=False)[0] == social


def test_two_workers_assigning_at_once_take_turns(app, backend):
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time; the row lock is PostgreSQL's question")
    team_with("Care", *AGENTS[:2])
    customers = [Customer(name=f"c{n}") for n in range(2)]
    db.session.add_all(customers)
    db.session.commit()
    ids = [c.id for c in customers]
    results: list[str] = []
    barrier = threading.Barrier(2)

    def work(customer_id: int) -> None:
        with app.app_context():
            team = db.session.scalar(select(Team).where(Team.name == "Care"))
            barrier.wait()
            agent, _how = choose(team, _ticket(db.session.get(Customer, customer_id)),
                                 sticky=False)  # fmt: skip
            results.append(agent.email)
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == sorted(AGENTS[:2])


def test_assign_action_round_robin_through_ingest(app):
    from helpdesk.services.rules.store import save_rule

    team_with("Care", *AGENTS[:2])
    save_rule({"name": "care", "events": ["message.received"],
               "actions": [{"type": "set_team", "team": "Care"},
                           {"type": "assign", "to": "round_robin"}]})  # fmt: skip
    db.session.commit()
    owners = []
    for n in range(4):
        result = ingest(inbound(sender=f"kunde{n}@example.com"))
        db.session.commit()
        owners.append(db.session.get(Ticket, result.ticket_id).assignee.email)
    assert Counter(owners) == {AGENTS[0]: 2, AGENTS[1]: 2}
