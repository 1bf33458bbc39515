"""Social to care: DMs linked to a customer's open ticket on arrival, "escalate to care"
in one step, what care and the social manager then see, and care answering on
Instagram or by e-mail from the care ticket."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from channel_adapters.base import Identity
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Event, Message, OutboxItem, Team, Ticket
from helpdesk.services.customers import resolve_customer
from helpdesk.services.inbox import Filters, list_tickets
from tests.conftest import log_in, make_user
from tests.factories import inbound

EMAIL = "lena.vogel@example.de"
INSTAGRAM = "17841400000000042"


def signed_in(app, role: str):
    client = app.test_client()
    user = make_user(role)
    assert log_in(client, user.email).status_code == 302
    return client, user


def post(client, page: str, path: str, data: dict):
    shown = client.get(page).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', shown).group(1)
    seen = re.search(r'name="seen" value="(\d+)"', shown)
    extra = {"seen": seen.group(1)} if seen and path.endswith("/compose") else {}
    return client.post(path, data={**extra, **data, "csrf_token": token})


def text_of(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(page)).replace("\u00a0", " ")


def known_customer():
    """Lena, known by e-mail and on Instagram (she told us her handle earlier)."""
    customer = resolve_customer(
        [Identity("email", EMAIL, "Lena Vogel"), Identity("instagram", INSTAGRAM, "lena.v")],
        actor="tests",
    )
    db.session.commit()
    return customer


def unanswered_mail():
    result = ingest(inbound("email", EMAIL, "Meine Rücksendung ist seit zwei Wochen bei Ihnen, "
                            "wo bleibt die Erstattung?", subject="Erstattung R-1042"))  # fmt: skip
    db.session.commit()
    return result.ticket


def dm(text="Hallo? Auf meine Mail antwortet niemand!", **fields):
    result = ingest(inbound("instagram", INSTAGRAM, text, thread_key=f"ig:{INSTAGRAM}", **fields))
    db.session.commit()
    return result


def test_a_dm_from_a_customer_with_an_open_ticket_is_linked_to_it_on_arrival(app):
    known_customer()
    mail = unanswered_mail()
    arrived = dm()
    social = arrived.ticket
    assert arrived.created_ticket and social.escalated_to_id == mail.id
    note = db.session.scalar(select(Message).where(Message.ticket_id == mail.id,
                                                   Message.direction == "note"))  # fmt: skip
    assert f"#{social.id}" in note.text and note.author_kind == "system"
    kinds = {(e.kind, e.ticket_id) for e in db.session.scalars(select(Event))}
    assert ("ticket.escalated", social.id) in kinds
    assert ("ticket.escalation_received", mail.id) in kinds
    # The care ticket is in the inbox's "Escalated from social" view.
    agent = make_user("agent")
    page = list_tickets(agent, view="escalated", filters=Filters(), sort="activity",
                        cursor=None, limit=50)  # fmt: skip
    assert [row.id for row in page.tickets] == [mail.id]
    # The next DM continues the social ticket and links nothing again.
    again = dm("Hallo??")
    assert again.ticket_id == social.id and not again.created_ticket
    notes = select(func.count()).where(Message.direction == "note")
    assert db.session.scalar(notes) == 1


def test_no_link_without_an_open_care_ticket(app):
    known_customer()
    mail = unanswered_mail()
    mail.status = "solved"
    db.session.commit()
    assert dm().ticket.escalated_to_id is None
    stranger = ingest(inbound("instagram", "17841400000000099", "Hi!"))
    assert stranger.ticket.escalated_to_id is None


def test_escalating_opens_a_care_ticket_with_note_priority_and_team_in_one_step(app):
    client, manager = signed_in(app, "social")
    team = Team(name="Retouren")
    db.session.add(team)
    social = dm("Mein Paket kam beschädigt an").ticket  # nobody known: no link
    page = f"/tickets/{social.id}"
    assert "Escalate to care" in text_of(client.get(page))
    note = "Bitte Ersatz anbieten, Fotos liegen im DM."
    form = {"target": "new", "note": note, "priority": "high", "team": str(team.id)}
    answer = post(client, page, f"{page}/escalate", form)
    assert answer.status_code == 302
    db.session.expire_all()
    social = db.session.get(Ticket, social.id)
    care = db.session.get(Ticket, social.escalated_to_id)
    assert care.customer_id == social.customer_id and care.status == "open"
    assert (care.priority, care.team_id) == ("high", team.id)
    note = next(m for m in care.messages if m.direction == "note")
    assert note.author_id == manager.id and note.text.startswith("Bitte Ersatz")
    # The social manager sees the care ticket's status (it is not theirs to open).
    shown = text_of(client.get(page))
    assert f"Escalated to care: #{care.id}" in shown and "Open" in shown
    assert "Escalate to care" not in shown or "Linked to" in shown

    # Care sees the whole story on the care ticket.
    agent_client, _agent = signed_in(app, "agent")
    care_page = text_of(agent_client.get(f"/tickets/{care.id}"))
    assert f"Escalated from social: #{social.id}" in care_page
    assert "Mein Paket kam beschädigt an" in care_page and "Bitte Ersatz anbieten" in care_page
    # Care solves it: the social manager sees that.
    care.status = "solved"
    db.session.commit()
    assert "Solved" in text_of(client.get(page))


def test_escalating_a_linked_dm_hands_it_over_to_that_ticket(app):
    client, _manager = signed_in(app, "social")
    known_customer()
    mail = unanswered_mail()
    social = dm().ticket
    page = f"/tickets/{social.id}"
    shown = text_of(client.get(page))
    assert f"Linked to #{mail.id}" in shown
    answer = post(client, page, f"{page}/escalate", {"target": str(mail.id),
                  "note": "Kundin wartet seit zwei Wochen, bitte heute.", "priority": "urgent",
                  "team": ""})  # fmt: skip
    assert answer.status_code == 302
    db.session.expire_all()
    mail = db.session.get(Ticket, mail.id)
    assert mail.priority == "urgent"
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 2


def test_escalation_refusals_change_nothing(app):
    client, _manager = signed_in(app, "social")
    social = dm("Hallo").ticket
    page = f"/tickets/{social.id}"
    for form, reason in (
        ({"target": "new", "note": " ", "priority": "high"}, "note is empty"),
        ({"target": "new", "note": "x", "priority": "sofort"}, "Unknown priority"),
        ({"target": "999", "note": "x", "priority": "high"}, "other tickets"),
    ):
        answer = post(client, page, f"{page}/escalate", form)
        assert reason in text_of(client.get(answer.location))
    db.session.expire_all()
    assert db.session.get(Ticket, social.id).escalated_to_id is None
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_care_tickets_are_not_escalated(app):
    client, _agent = signed_in(app, "agent")
    known_customer()
    mail = unanswered_mail()
    page = f"/tickets/{mail.id}"
    assert "Escalate to care" not in text_of(client.get(page))
    answer = post(client, page, f"{page}/escalate", {"note": "x", "priority": "high"})
    assert "Only social tickets" in text_of(client.get(answer.location))


def test_care_answers_the_dm_and_the_mail_from_the_care_ticket(app):
    known_customer()
    mail = unanswered_mail()
    social = dm().ticket
    client, agent = signed_in(app, "agent")
    page = f"/tickets/{mail.id}"
    shown = client.get(page).get_data(as_text=True)
    assert 'value="instagram"' in shown and 'value="email"' in shown
    answers = (
        ("instagram", "Hallo Lena, wir kümmern uns, Antwort per Mail folgt."),
        ("email", "Liebe Frau Vogel, die Erstattung ist heute angewiesen."),
    )
    for channel, text in answers:
        answer = post(client, page, f"{page}/compose",
                      {"kind": "reply", "channel": channel, "text": text})  # fmt: skip
        assert answer.status_code == 302, text_of(answer)
    replies = db.session.scalars(
        select(Message).where(Message.direction == "outbound").order_by(Message.id)
    ).all()
    assert [(m.channel, m.counterpart, m.ticket_id) for m in replies] == [
        ("instagram", INSTAGRAM, mail.id), ("email", EMAIL, mail.id)]  # fmt: skip
    queued = {o.channel for o in db.session.scalars(select(OutboxItem))}
    assert queued == {"instagram", "email"}
    assert social.escalated_to_id == mail.id


def test_a_care_ticket_opened_by_escalation_is_cares_not_a_dm(app):
    client, manager = signed_in(app, "social")
    social = dm("Paket beschädigt").ticket
    page = f"/tickets/{social.id}"
    post(client, page, f"{page}/escalate", {"target": "new", "note": "Bitte Ersatz.",
                                            "priority": "high"})  # fmt: skip
    db.session.expire_all()
    care_id = db.session.get(Ticket, social.id).escalated_to_id
    care_page = text_of(client.get(f"/tickets/{care_id}"))
    assert "Escalate to care" not in care_page
    listed = text_of(client.get("/social"))
    assert f"#{social.id} " in listed and f"#{care_id} Paket" not in listed
    # The customer writes in a new conversation: it joins the open care ticket.
    later = ingest(inbound("instagram", INSTAGRAM, "Und noch was", thread_key="ig:other"))
    db.session.commit()
    assert later.created_ticket and later.ticket.escalated_to_id == care_id
    answer = post(client, f"/tickets/{care_id}", f"/tickets/{care_id}/escalate",
                  {"target": "new", "note": "x", "priority": "high"})  # fmt: skip
    assert "Only social tickets" in text_of(client.get(answer.location))
    assert manager.role == "social"
