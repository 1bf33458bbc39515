"""Satisfaction surveys, volume spikes, the wall of pain and ideas, and the SLA admin."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import (
    CsatSurvey,
    Event,
    Message,
    OutboxItem,
    SlaPolicy,
    Ticket,
    VolumeSpike,
    WallEntry,
    WallTicket,
)
from helpdesk.models.tickets import Notification
from helpdesk.services import csat, spikes
from helpdesk.services.replies import add_reply, set_status
from helpdesk.services.ticket_metrics import refresh_all_due
from tests.conftest import csrf_token, log_in, make_user
from tests.factories import Classified, inbound

BERLIN = ZoneInfo("Europe/Berlin")


def new_ticket(sender: str, when: datetime, channel: str = "email") -> Ticket:
    result = ingest(inbound(channel, sender, "Hallo", sent_at=when),
                    classifier=Classified("order_status"), received_at=when)  # fmt: skip
    refresh_all_due()  # the worker's refresh-metrics job
    db.session.commit()
    return result.ticket


def solved_ticket(sender: str, when: datetime, agent) -> Ticket:
    ticket = new_ticket(sender, when)
    ticket.assignee = agent
    add_reply(ticket, agent, "Erledigt.", at=when + timedelta(minutes=5), deliver=False)
    set_status(ticket, "solved", user=agent, at=when + timedelta(minutes=6))
    db.session.commit()
    return ticket


# -- CSAT --------------------------------------------------------------------------------


def test_survey_sent_once_per_customer_and_period_and_answered_in_one_click(app, client):
    agent = make_user("agent")
    lead = make_user("lead")
    now = datetime.now(UTC)
    first = solved_ticket("anna@example.com", now - timedelta(hours=3), agent)
    second = solved_ticket("anna@example.com", now - timedelta(hours=2), agent)
    other = solved_ticket("ben@example.com", now - timedelta(hours=2), agent)
    assert csat.send_due_surveys(now=now) == 2  # Anna once, Ben once
    db.session.commit()
    assert csat.send_due_surveys(now=now) == 0  # nothing twice
    surveyed = set(db.session.scalars(select(CsatSurvey.ticket_id)))
    assert surveyed == {first.id, other.id} and second.id not in surveyed

    mail = db.session.scalar(select(Message).where(
        Message.ticket_id == first.id, Message.author_kind == "system"))  # fmt: skip
    assert mail.counterpart == "anna@example.com" and mail.details["automatic"] == "csat"
    assert db.session.scalar(select(OutboxItem).where(OutboxItem.message_id == mail.id))
    links = re.findall(r"http://127\.0\.0\.1:5000(/csat/\S+)", mail.text)
    assert len(links) == 5

    # One click on "1": recorded, and the lead gets a follow-up on the ticket.
    page = client.get(links[0])
    assert page.status_code == 200
    survey = db.session.scalar(select(CsatSurvey).where(CsatSurvey.ticket_id == first.id))
    db.session.refresh(survey)
    assert survey.rating == 1
    notified = select(Notification.user_id).where(
        Notification.kind == "csat", Notification.ticket_id == first.id
    )
    assert db.session.scalars(notified).all() == [lead.id]
    # A comment with the form (CSRF), then a change of mind to 4.
    token = csrf_token(client, links[0])
    client.post(links[0], data={"comment": "Zu langsam.", "csrf_token": token})
    client.get(links[3])
    db.session.refresh(survey)
    assert (survey.rating, survey.comment) == (4, "Zu langsam.")
    # A forged token is refused and changes nothing.
    assert client.get(links[0][:-3] + "xyz").status_code == 404

    rows, total = csat.results(now - timedelta(days=1), now + timedelta(days=1), "agent")
    assert (total.sent, total.answered, total.csat) == (2, 1, 1.0)
    assert rows[0].label == agent.name


def test_chat_visitor_without_an_address_is_asked_in_the_chat(app):
    agent = make_user("agent")
    now = datetime.now(UTC)
    ticket = new_ticket("visitor-77", now - timedelta(hours=3), channel="chat")
    add_reply(ticket, agent, "Gern!", at=now - timedelta(hours=2, minutes=55), deliver=False)
    set_status(ticket, "solved", user=agent, at=now - timedelta(hours=2, minutes=50))
    db.session.commit()
    assert csat.send_due_surveys(now=now) == 1
    db.session.commit()
    asked = db.session.scalar(select(Message).where(Message.author_kind == "system"))
    assert asked.channel == "chat" and "/csat/" in asked.text
    assert db.session.scalar(select(OutboxItem.id)) is None  # the widget shows it, nothing sent


# -- spikes ------------------------------------------------------------------------------


def test_monday_spike_detected_against_earlier_mondays(app):
    make_user("lead")
    monday = datetime(2026, 11, 30, 11, 0, tzinfo=BERLIN).astimezone(UTC)
    n = 0
    # Eight earlier Mondays, 10:00-11:00: 3 new tickets each.
    for week in range(1, 9):
        for minute in (5, 25, 45):
            n += 1
            new_ticket(f"c{n}@example.com", monday - timedelta(weeks=week, minutes=60 - minute))
    spikes.save_settings(factor=2.0, min_tickets=5, auto_acknowledge=True,
                         text_de="Wir antworten in {hours} Stunden.",
                         text_en="We answer within {hours} hours.")  # fmt: skip
    db.session.commit()
    # This Monday: 5 is not yet twice the usual 3 ...
    for minute in range(5):
        n += 1
        new_ticket(f"c{n}@example.com", monday - timedelta(minutes=50 - minute))
    assert spikes.check_volume(now=monday) is None
    # ... 6 is.
    n += 1
    new_ticket(f"c{n}@example.com", monday - timedelta(minutes=10))
    spike = spikes.check_volume(now=monday)
    db.session.commit()
    assert spike is not None and (spike.tickets, spike.usual) == (6, 3.0)
    assert db.session.scalar(select(Event.kind).where(Event.kind == "volume.spike"))
    # Every ticket of the spike got the automatic answer in its language, once.
    answers = db.session.scalars(select(Message).where(Message.author_kind == "system")).all()
    assert len(answers) == 6 == spike.acknowledged
    assert all(m.text.startswith("Wir antworten in") for m in answers)
    assert spikes.check_volume(now=monday + timedelta(minutes=5)).acknowledged == 6
    # An hour later, back to normal: the spike ends.
    assert spikes.check_volume(now=monday + timedelta(hours=2)) is None
    db.session.commit()
    assert db.session.scalar(select(VolumeSpike.ended_at)) is not None


def test_spike_settings_form_checks_the_texts(app, client):
    make_user("lead")
    log_in(client, "lead@shop.example")
    token = csrf_token(client, "/kpis/spikes")
    bad = client.post("/kpis/spikes", data={"csrf_token": token, "factor": "2",
                      "min_tickets": "5", "text_de": "{oops}", "text_en": "ok"})  # fmt: skip
    assert bad.status_code == 422
    good = client.post("/kpis/spikes", data={"csrf_token": token, "factor": "3",
                       "min_tickets": "20", "auto_acknowledge": "1",
                       "text_de": "In {hours} h.", "text_en": "In {hours} h."})  # fmt: skip
    assert good.status_code == 302
    assert (spikes.settings().factor, spikes.settings().auto_acknowledge) == (3.0, True)


# -- wall ---------------------------------------------------------------------------------


def test_wall_entries_ranked_by_votes_and_pinned_tickets(app, client):
    make_user("agent")
    lead = make_user("lead")
    ticket = new_ticket("x@example.com", datetime.now(UTC))
    log_in(client, "agent@shop.example")
    token = csrf_token(client, "/wall")
    pain_form = {"kind": "pain", "title": "Mahnung trotz Retoure", "ticket": f"#{ticket.id}"}
    client.post("/wall", data={"csrf_token": token, **pain_form})
    client.post("/wall", data={"csrf_token": token, "kind": "idea", "title": "Umtausch-Button"})
    pain, idea = db.session.scalars(select(WallEntry).order_by(WallEntry.id)).all()
    client.post(f"/wall/{idea.id}/vote", data={"csrf_token": token})
    page = client.get("/wall").get_data(as_text=True)
    assert page.index("Umtausch-Button") < page.index("Mahnung trotz Retoure")  # by votes
    page = client.get("/wall?sort=tickets").get_data(as_text=True)
    assert page.index("Mahnung trotz Retoure") < page.index("Umtausch-Button")
    refused = client.post(
        f"/wall/{pain.id}/status", data={"csrf_token": token, "status": "planned"}
    )
    assert refused.status_code == 403
    lead_client = app.test_client()
    log_in(lead_client, lead.email)
    lead_token = csrf_token(lead_client, "/wall")
    lead_client.post(f"/wall/{pain.id}/status", data={"csrf_token": lead_token,
                                                      "status": "planned"})  # fmt: skip
    db.session.refresh(pain)
    assert pain.status == "planned"


def test_agent_pins_a_ticket_from_its_page_to_a_new_and_to_an_existing_entry(app, client):
    make_user("agent")
    first = new_ticket("a@example.com", datetime.now(UTC))
    second = new_ticket("b@example.com", datetime.now(UTC))
    log_in(client, "agent@shop.example")
    ticket_page = client.get(f"/tickets/{first.id}").get_data(as_text=True)
    assert f'href="/tickets/{first.id}/wall"' in ticket_page
    token = csrf_token(client, f"/tickets/{first.id}/wall")
    new_entry = {"entry": "new", "kind": "pain", "title": "Rücksendeetikett fehlt"}
    answer = client.post(f"/tickets/{first.id}/wall", data={"csrf_token": token, **new_entry})
    assert answer.status_code == 302 and answer.location.endswith(f"/tickets/{first.id}")
    entry = db.session.scalars(select(WallEntry)).one()
    assert (entry.kind, entry.title) == ("pain", "Rücksendeetikett fehlt")
    assert "Pinned to the wall: Rücksendeetikett fehlt" in client.get(answer.location).get_data(
        as_text=True
    )
    # The second ticket joins the entry: the wall ranks it by two tickets now.
    form = client.get(f"/tickets/{second.id}/wall").get_data(as_text=True)
    assert f'value="{entry.id}"' in form
    client.post(f"/tickets/{second.id}/wall", data={"csrf_token": token, "entry": entry.id})
    pinned = db.session.scalars(select(WallTicket.ticket_id).order_by(WallTicket.ticket_id)).all()
    assert pinned == [first.id, second.id]
    assert "2 tickets" in client.get("/wall").get_data(as_text=True)
    # Pinned already: offered no more, and an empty new entry is refused with a reason.
    form = client.get(f"/tickets/{second.id}/wall").get_data(as_text=True)
    assert "Already pinned to:" in form and f'value="{entry.id}" disabled' in form
    empty = {"csrf_token": token, "entry": "new", "kind": "idea", "title": " "}
    refused = client.post(f"/tickets/{second.id}/wall", data=empty, follow_redirects=True)
    assert "A title needs 1 to 200 characters." in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(WallEntry)) == 1


def test_social_managers_cannot_pin_from_a_ticket(app, client):
    make_user("social")
    ticket = new_ticket("c@example.com", datetime.now(UTC), channel="instagram")
    log_in(client, "social@shop.example")
    assert client.get(f"/tickets/{ticket.id}/wall").status_code == 403
    assert 'class="pin-to-wall"' not in client.get(f"/tickets/{ticket.id}").get_data(as_text=True)


# -- SLA admin ------------------------------------------------------------------------------


def test_admin_adds_a_policy_and_new_tickets_get_due_times(app, admin_client):
    token = csrf_token(admin_client, "/admin/sla")
    response = admin_client.post("/admin/sla/policies", data={
        "csrf_token": token, "name": "Chat", "channel": "chat",
        "first_response_minutes": "5", "warn_before_minutes": "2", "active": "1"})  # fmt: skip
    assert response.status_code == 302
    assert db.session.scalar(select(SlaPolicy.first_response_minutes)) == 5
    created = datetime(2026, 12, 5, 23, 0, tzinfo=UTC)  # a Saturday night: chat runs 24/7
    ticket = new_ticket("visitor-9", created, channel="chat")
    assert ticket.sla_due_at == created + timedelta(minutes=5)
    bad = admin_client.post("/admin/sla/policies", data={
        "csrf_token": token, "name": "x", "first_response_minutes": "0"})  # fmt: skip
    assert bad.status_code == 302 and db.session.scalar(
        select(SlaPolicy.id).where(SlaPolicy.name == "x")) is None  # fmt: skip
    hours = admin_client.post("/admin/sla/hours", data={
        "csrf_token": token, "timezone": "Europe/Berlin", "weekly": '{"0": [["9:00"]]}',
        "holiday_country": "DE"})  # fmt: skip
    assert hours.status_code == 302
    assert "not a pair" in admin_client.get("/admin/sla").get_data(as_text=True)
