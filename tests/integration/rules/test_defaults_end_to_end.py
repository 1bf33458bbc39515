"""The shipped default rules through the real ingest: the two stories of issue #10.

"Retoure ist längst da, trotzdem Mahnung" lands with the returns team at high priority,
the hold checked and set, a filled-in draft waiting, with nobody touching it; "where is
my order" for a shipped order is answered with its tracking link, and the mail reaches
a real SMTP server when the outbox is delivered.
"""

from __future__ import annotations

from sqlalchemy import select

from channel_adapters.base import Identity
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Draft, Event, Message, OutboxItem, Rule, Ticket
from helpdesk.services.delivery import deliver_due
from helpdesk.services.rules.defaults import install_default_rules
from tests.factories import Classified, inbound
from tests.integration.rules.helpers import returned_order, shipped_order, team_with
from tests.mail_servers import SmtpRecorder

GERMAN = "Guten Tag, die Retoure ist längst da, trotzdem bekomme ich eine Mahnung!"


def test_payment_reminder_for_a_returned_order_goes_to_returns_with_hold_and_draft(app):
    install_default_rules()
    team_with("Returns", "jana@shop.example", "omar@shop.example")
    order, return_ = returned_order()
    assert not order.invoices[0].on_hold

    result = ingest(
        inbound(sender="helga.brandt@example.de", text=GERMAN, subject="Mahnung"),
        classifier=Classified("payment_reminder", "return_status"),
    )
    db.session.commit()

    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket.team.name == "Returns"
    assert ticket.priority == "high"
    assert ticket.assignee is not None and ticket.assignee.email.endswith("@shop.example")
    db.session.refresh(order.invoices[0])
    assert order.invoices[0].on_hold and order.invoices[0].hold_source == "return"
    draft = db.session.scalar(select(Draft).where(Draft.ticket_id == ticket.id))
    assert draft is not None and draft.response == "reminder-return"
    assert return_.number in draft.text and "Zahlungserinnerung" in draft.text
    assert "Helga Brandt" in draft.text
    # Nothing went to the customer: the draft waits for an agent.
    assert not db.session.scalars(
        select(Message).where(Message.ticket_id == ticket.id, Message.direction == "outbound")
    ).all()
    rule = db.session.scalar(select(Rule).where(Rule.name.like("Payment reminder%")))
    kinds = {
        e.kind for e in db.session.scalars(select(Event).where(Event.actor == f"rule:{rule.id}"))
    }
    assert {"ticket.team_changed", "ticket.priority_changed", "dunning.hold",
            "rule.hold_checked", "draft.prepared", "ticket.assigned"} <= kinds  # fmt: skip


def test_the_customers_next_reminder_keeps_the_ticket_with_its_agent(app):
    install_default_rules()
    team_with("Returns", "jana@shop.example", "omar@shop.example")
    returned_order()
    first = ingest(
        inbound(sender="helga.brandt@example.de", text=GERMAN, subject="Mahnung"),
        classifier=Classified("payment_reminder", "return_status"),
    )
    db.session.commit()
    agent = db.session.get(Ticket, first.ticket_id).assignee_id
    again = ingest(
        inbound(sender="helga.brandt@example.de", subject="Re: Mahnung",
                text="Schon wieder eine Mahnung, die Retoure ist doch da!",
                references=(first.message.external_id,)),
        classifier=Classified("payment_reminder", "return_status"),
    )  # fmt: skip
    db.session.commit()
    assert again.ticket_id == first.ticket_id
    db.session.expire_all()
    assert db.session.get(Ticket, first.ticket_id).assignee_id == agent
    assigned = db.session.scalars(
        select(Event).where(Event.ticket_id == first.ticket_id, Event.kind == "ticket.assigned")
    ).all()
    assert len(assigned) == 1
    drafts = db.session.scalars(select(Draft).where(Draft.ticket_id == first.ticket_id)).all()
    assert len(drafts) == 1


def test_a_lowered_priority_stays_when_the_customer_writes_about_the_damage_again(app):
    install_default_rules()
    first = ingest(
        inbound(sender="kai@example.de", subject="Kaputt", text="Die Tasse kam zerbrochen an."),
        classifier=Classified("damaged_or_wrong"),
    )
    db.session.commit()
    ticket = db.session.get(Ticket, first.ticket_id)
    assert ticket.priority == "high" and "reklamation" in {t.name for t in ticket.tags}
    ticket.priority = "normal"  # the agent sent a new cup: no hurry any more
    db.session.commit()
    again = ingest(
        inbound(sender="kai@example.de", subject="Re: Kaputt",
                text="Danke, aber auch der Henkel der ersten war schon gebrochen.",
                references=(first.message.external_id,)),
        classifier=Classified("damaged_or_wrong"),
    )  # fmt: skip
    db.session.commit()
    assert again.ticket_id == first.ticket_id
    db.session.expire_all()
    assert db.session.get(Ticket, first.ticket_id).priority == "normal"


def test_where_is_my_order_is_answered_with_tracking_and_the_mail_leaves(app):
    install_default_rules()
    shipped_order()

    with SmtpRecorder() as smtp:
        app.config["SMTP_URL"] = smtp.url()
        app.config["MAIL_FROM"] = "service@shop.test"
        try:
            result = ingest(
                inbound(sender="sam.taylor@example.com", text="Hi, where is my order?",
                        subject="My order"),
                classifier=Classified("order_status", language="en"),
            )  # fmt: skip
            db.session.commit()
            ticket = db.session.get(Ticket, result.ticket_id)
            answer = db.session.scalar(
                select(Message).where(
                    Message.ticket_id == ticket.id, Message.direction == "outbound"
                )
            )
            assert answer is not None and answer.author_kind == "system"
            assert answer.details["automatic"] == "rule"
            assert "https://www.dhl.de/track?piececode=JJD000390007788123" in answer.text
            assert ticket.status == "pending"
            assert ticket.first_response_at is None  # automatic: not a first response
            assert db.session.scalar(select(OutboxItem).where(OutboxItem.message_id == answer.id))

            assert deliver_due() == {"sent": 1}
        finally:
            app.config["SMTP_URL"] = None
            app.config["MAIL_FROM"] = None
        mails = smtp.messages
    assert len(mails) == 1 and mails[0].rcpt_tos == ("sam.taylor@example.com",)
    body = mails[0].parsed().get_body(("plain",)).get_content()
    assert "JJD000390007788123" in body and "https://www.dhl.de/track" in body


def test_the_agent_finds_the_prepared_draft_in_the_composer(agent_client):
    install_default_rules()
    team_with("Returns", "jana@shop.example")
    returned_order()
    result = ingest(
        inbound(sender="helga.brandt@example.de", text=GERMAN, subject="Mahnung"),
        classifier=Classified("payment_reminder", "return_status"),
    )
    db.session.commit()
    page = agent_client.get(f"/tickets/{result.ticket_id}").get_data(as_text=True)
    assert "Insert draft" in page and "Payment reminder for a returned order" in page
    # The filled-in text rides on the link; composer.js inserts it in one click.
    assert "als gegenstandslos betrachten" in page

    # Once an agent answered, the draft is spent: the page no longer offers it.
    from datetime import timedelta

    from helpdesk.models import User
    from helpdesk.models.types import utcnow
    from helpdesk.services.replies import add_reply

    agent = db.session.scalar(select(User).where(User.role == "agent"))
    ticket = db.session.get(Ticket, result.ticket_id)
    add_reply(ticket, agent, "Wir kümmern uns.", at=utcnow() + timedelta(seconds=1))
    db.session.commit()
    page = agent_client.get(f"/tickets/{result.ticket_id}").get_data(as_text=True)
    assert "Insert draft" not in page


def test_the_agent_discards_a_draft_and_a_reply_spends_the_rest(agent_client):
    from helpdesk.models.types import utcnow
    from helpdesk.services.rules.drafts import open_drafts
    from tests.conftest import csrf_token

    install_default_rules()
    team_with("Returns", "jana@shop.example")
    returned_order()
    first = ingest(inbound(sender="helga.brandt@example.de", text=GERMAN, subject="Mahnung"),
                   classifier=Classified("payment_reminder", "return_status"))  # fmt: skip
    db.session.commit()
    path = f"/tickets/{first.ticket_id}"
    draft = db.session.scalar(select(Draft).where(Draft.ticket_id == first.ticket_id))
    token = csrf_token(agent_client, path)

    stranger = agent_client.post(f"/tickets/{first.ticket_id + 1000}/drafts/{draft.id}/discard",
                                 data={"csrf_token": token})  # fmt: skip
    assert stranger.status_code == 404
    done = agent_client.post(f"{path}/drafts/{draft.id}/discard", data={"csrf_token": token},
                             follow_redirects=True)  # fmt: skip
    page = done.get_data(as_text=True)
    assert "Draft discarded." in page and "Insert draft" not in page
    assert "Draft discarded" in page  # the timeline says so, with the rule
    db.session.expire_all()
    assert db.session.get(Draft, draft.id).used_at is not None
    assert (
        db.session.scalar(select(Event.data).where(Event.kind == "draft.discarded"))["rule"]
        == "Payment reminder for a returned order"
    )

    # A draft left open is spent by the agent's reply: marked used, no longer offered.
    db.session.add(Draft(ticket_id=first.ticket_id, text="Noch ein Entwurf", response=None))
    db.session.commit()
    assert len(open_drafts(db.session.get(Ticket, first.ticket_id))) == 1
    from tests.integration.test_ticket_page import post

    reply = {"kind": "reply", "channel": "email", "text": "Ist erledigt.", "action": "send"}
    assert post(agent_client, f"{path}/compose", reply).status_code == 302
    db.session.expire_all()
    used = db.session.scalars(select(Draft.used_at).where(Draft.ticket_id == first.ticket_id))
    assert all(at is not None and at <= utcnow() for at in used)


def test_a_dm_escalated_from_social_goes_to_the_care_team(app):
    from helpdesk.services.escalation import Escalation, escalate
    from tests.conftest import make_user

    install_default_rules()
    team_with("Care", "carla@shop.example", "cem@shop.example")
    social = make_user("social", "nina@shop.example")
    dm = ingest(inbound("instagram", sender="1784100", text="Paket kaputt!!", thread_key="ig-9"))
    db.session.commit()

    care = escalate(dm.ticket, social, Escalation("Karton zerdrückt, Foto im DM", "high"))
    db.session.commit()
    care = db.session.get(Ticket, care.id)
    assert care.team.name == "Care"
    assert care.assignee.email in ("carla@shop.example", "cem@shop.example")
    rule = db.session.scalar(select(Rule).where(Rule.name == "Social escalation to care"))
    assert db.session.scalar(
        select(Event).where(Event.ticket_id == care.id, Event.actor == f"rule:{rule.id}",
                            Event.kind == "ticket.team_changed")
    )  # fmt: skip


def test_the_default_answer_leaves_chat_to_the_chat_bot(app):
    install_default_rules()
    shipped_order()
    result = ingest(
        inbound("chat", sender="v-sam", text="where is my order?", thread_key="chat-1",
                also_known_as=(Identity("email", "sam.taylor@example.com", None),)),
        classifier=Classified("order_status", language="en"),
    )  # fmt: skip
    db.session.commit()
    # Everything else an automatic answer needs is there: the order, its tracking number.
    assert db.session.get(Ticket, result.ticket_id).order.shipments[0].tracking_number
    assert not db.session.scalars(
        select(Message).where(Message.ticket_id == result.ticket_id,
                              Message.direction == "outbound")
    ).all()  # fmt: skip
