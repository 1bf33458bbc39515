"""The one ingest path: idempotency, customers, threading, reopening, events, classification."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from channel_adapters.base import Identity, InboundAttachment
from classifiers.base import Classification, Entity
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import (
    Customer,
    CustomerIdentity,
    Event,
    IntentTag,
    Message,
    RawSource,
    Ticket,
)
from helpdesk.services.replies import add_reply, set_status
from tests.conftest import make_user
from tests.factories import inbound


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def event_kinds(ticket: Ticket) -> list[str]:
    return list(
        db.session.scalars(
            select(Event.kind).where(Event.ticket_id == ticket.id).order_by(Event.id)
        )
    )


def test_first_message_creates_customer_ticket_and_events(app):
    result = ingest(inbound(subject="Wo bleibt meine Bestellung?", display_name="Anna Weber"))
    db.session.commit()

    assert result.created_ticket and not result.duplicate
    ticket = db.session.get(Ticket, result.ticket.id)
    assert ticket.status == "new"
    assert ticket.subject == "Wo bleibt meine Bestellung?"
    assert ticket.customer.name == "Anna Weber"
    assert ticket.customer.identity("email") == "kunde@example.com"
    assert [m.direction for m in ticket.messages] == ["inbound"]
    assert event_kinds(ticket) == ["ticket.created", "message.received"]
    assert count(Event) == 3  # and customer.created


def test_redelivery_is_a_no_op(app):
    message = inbound(external_id="<same@example.com>")
    first = ingest(message)
    db.session.commit()
    second = ingest(message)
    db.session.commit()

    assert second.duplicate and not second.created_ticket
    assert second.message.id == first.message.id
    assert (count(Message), count(Ticket), count(Customer), count(Event)) == (1, 1, 1, 3)


def test_the_store_itself_refuses_a_second_copy(app):
    """Idempotency rests on the unique constraint, not only on the look-up before it."""
    first = ingest(inbound(external_id="<dup@example.com>"))
    db.session.commit()
    copy = Message(
        ticket_id=first.ticket.id,
        channel="email",
        direction="inbound",
        author_kind="customer",
        external_id="<dup@example.com>",
        sent_at=first.message.sent_at,
    )
    db.session.add(copy)
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        db.session.flush()
    db.session.rollback()


def test_subject_without_text_takes_the_first_line(app):
    result = ingest(inbound("chat", "v-1", "Hi!\nWhere is my parcel?", thread_key="s-1"))
    assert result.ticket.subject == "Hi!"


def test_email_reply_threads_by_references(app):
    first = ingest(inbound(external_id="<a1@example.com>", subject="Rücksendung"))
    agent = make_user("agent")
    reply = add_reply(first.ticket, agent, "Danke, wir kümmern uns.", external_id="<r1@shop>")
    db.session.commit()

    answer = ingest(
        inbound(subject="Re: Rücksendung", references=("<a1@example.com>", reply.external_id))
    )
    db.session.commit()
    assert not answer.created_ticket
    assert answer.ticket.id == first.ticket.id
    assert count(Ticket) == 1


def test_reply_from_a_colleague_threads_by_references_too(app):
    first = ingest(inbound(external_id="<b1@example.com>"))
    db.session.commit()
    cc = ingest(inbound(sender="partner@example.org", references=("<b1@example.com>",)))
    assert cc.ticket.id == first.ticket.id


def test_subject_token_threads_only_for_the_tickets_own_customer(app):
    first = ingest(inbound(subject="Umtausch"))
    db.session.commit()
    token = f"[#{first.ticket.number}]"

    same = ingest(inbound(subject=f"AW: Umtausch {token}"))
    stranger = ingest(inbound(sender="fremd@example.net", subject=f"Re: {token} hijack"))
    db.session.commit()

    assert same.ticket.id == first.ticket.id
    assert stranger.created_ticket and stranger.ticket.id != first.ticket.id


@pytest.mark.parametrize(
    ("channel", "sender", "key"),
    [
        ("chat", "v-42", "chat-session-42"),
        ("messenger", "2476113579", "t_10223"),
        ("instagram", "17841400000", "ig-conv-1"),
        ("whatsapp", "+49 151 2345678", "+4915112345678"),
        ("x", "783214", "783214-99"),
        ("phone", "+49 30 1234567", "+49301234567"),
    ],
)
def test_conversation_channels_thread_by_their_key(app, channel, sender, key):
    first = ingest(inbound(channel, sender, "first", thread_key=key))
    again = ingest(inbound(channel, sender, "second", thread_key=key))
    other = ingest(inbound(channel, sender, "other conversation", thread_key=key + "-b"))
    db.session.commit()
    assert again.ticket.id == first.ticket.id
    assert other.ticket.id != first.ticket.id
    assert [m.text for m in first.ticket.messages] == ["first", "second"]


def test_new_message_reopens_a_solved_ticket(app):
    first = ingest(inbound(external_id="<c1@example.com>"))
    set_status(first.ticket, "solved")
    db.session.commit()
    assert first.ticket.solved_at is not None

    ingest(inbound(subject="Re:", references=("<c1@example.com>",)))
    db.session.commit()
    ticket = db.session.get(Ticket, first.ticket.id)
    assert ticket.status == "open"
    assert ticket.solved_at is None
    reopened = db.session.scalars(
        select(Event).where(Event.ticket_id == ticket.id, Event.kind == "ticket.status_changed")
    ).all()
    assert [(e.data["old"], e.data["new"]) for e in reopened] == [
        ("new", "solved"),
        ("solved", "open"),
    ]


def test_auto_reply_does_not_reopen(app):
    first = ingest(inbound(external_id="<d1@example.com>"))
    set_status(first.ticket, "solved")
    ingest(inbound(references=("<d1@example.com>",), auto_submitted=True, text="Out of office"))
    assert first.ticket.status == "solved"
    assert len(first.ticket.messages) == 2


def test_closed_ticket_is_not_continued(app):
    first = ingest(inbound("chat", "v-7", "hello", thread_key="s-7"))
    set_status(first.ticket, "closed")
    later = ingest(inbound("chat", "v-7", "me again", thread_key="s-7"))
    assert later.created_ticket
    assert later.ticket.customer_id == first.ticket.customer_id


def test_same_customer_across_channels_by_shared_identity(app):
    """WhatsApp senders are phone numbers: a call from that number is the same customer."""
    wa = ingest(inbound("whatsapp", "+49 (151) 1234-5678", "Hallo", thread_key="wa-1"))
    call = ingest(
        inbound("phone", "004915112345678", "Anruf: Frage zur Retoure", thread_key="+4915112345678")
    )
    db.session.commit()
    assert wa.ticket.customer_id == call.ticket.customer_id
    assert count(Customer) == 1


def test_message_with_two_known_identities_merges_their_customers(app):
    mail = ingest(inbound("email", "lena@example.com", "Meine Retoure?"))
    chat = ingest(inbound("chat", "v-lena", "hi", thread_key="s-l"))
    db.session.commit()
    keep_id, gone_id = mail.ticket.customer_id, chat.ticket.customer_id
    assert keep_id != gone_id

    # In the chat she types the e-mail address she ordered with.
    ingest(
        inbound(
            "chat",
            "v-lena",
            "lena@example.com",
            thread_key="s-l",
            also_known_as=(Identity("email", "Lena@Example.com"),),
        )
    )
    db.session.commit()

    keep = db.session.get(Customer, keep_id)
    gone = db.session.get(Customer, gone_id)
    assert gone.merged_into_id == keep.id
    assert {(i.kind, i.value) for i in keep.identities} == {
        ("email", "lena@example.com"),
        ("chat_visitor", "v-lena"),
    }
    assert db.session.get(Ticket, chat.ticket.id).customer_id == keep.id
    assert count(CustomerIdentity) == 2
    merged = db.session.scalars(select(Event).where(Event.kind == "customer.merged")).one()
    assert merged.data == {"merged_customer_id": gone.id}


def test_new_identity_is_added_to_the_known_customer(app):
    first = ingest(inbound("chat", "v-9", "hi", thread_key="s-9"))
    ingest(
        inbound(
            "chat",
            "v-9",
            "tom@example.com",
            thread_key="s-9",
            also_known_as=(Identity("email", "tom@example.com"),),
        )
    )
    mail = ingest(inbound("email", "TOM@example.com", "About my chat"))
    db.session.commit()
    assert mail.ticket.customer_id == first.ticket.customer_id


class FakeClassifier:
    """Answers like the real classifier will, so the call site is tested end to end."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def classify(self, text: str, *, subject: str = "") -> Classification:
        self.seen.append((subject, text))
        start = text.index("100234")
        return Classification(
            intents=("return_status", "payment_reminder"),
            scores={"return_status": 0.91, "payment_reminder": 0.84, "order_status": 0.2},
            language="de",
            entities=(Entity("order_number", "100234", start, start + 6),),
            model_version="test-1",
        )


def test_classifier_results_are_stored(app):
    classifier = FakeClassifier()
    text = "Ich habe 100234 zurückgeschickt und trotzdem eine Mahnung bekommen!"
    result = ingest(inbound(text=text, subject="Mahnung"), classifier=classifier)
    db.session.commit()

    assert classifier.seen == [("Mahnung", text)]
    ticket = db.session.get(Ticket, result.ticket.id)
    assert ticket.intents == ["payment_reminder", "return_status"]
    tags = db.session.scalars(select(IntentTag).order_by(IntentTag.intent)).all()
    assert [(t.intent, t.confidence, t.source, t.model_version) for t in tags] == [
        ("payment_reminder", 0.84, "model", "test-1"),
        ("return_status", 0.91, "model", "test-1"),
    ]
    assert all(t.message_id == result.message.id for t in tags)
    assert result.message.details["entities"] == [
        {"kind": "order_number", "value": "100234", "start": 9, "end": 15}
    ]
    assert ticket.language == "de" and ticket.customer.language == "de"


def test_channel_language_hint_is_used_when_the_classifier_has_none(app):
    result = ingest(inbound("chat", "v-3", "hello", thread_key="s-3", language="en"))
    assert result.ticket.language == "en"


def test_ingest_is_one_transaction(app):
    class Broken:
        def classify(self, text, *, subject=""):
            raise RuntimeError("model file unreadable")

    with pytest.raises(RuntimeError):
        ingest(inbound(), classifier=Broken())
    db.session.rollback()
    assert (count(Message), count(Ticket), count(Customer), count(Event)) == (0, 0, 0, 0)


def test_attachments_raw_source_and_sanitised_html(app):
    pdf = b"%PDF-1.4 invoice"
    raw = b"From: kunde@example.com\r\nSubject: Rechnung\r\n\r\nanbei"
    result = ingest(
        inbound(
            subject="Rechnung",
            html='<p onclick="steal()">Anbei <script>alert(1)</script><img src="https://track.example/p.gif">'
            '<a href="javascript:alert(1)">hier</a></p>',
            attachments=(
                InboundAttachment.from_bytes("rechnung.pdf", "application/pdf", pdf),
                InboundAttachment.from_bytes("video.mp4", "video/mp4", b"x" * 2000, max_size=1000),
            ),
            raw=raw,
            raw_content_type="message/rfc822",
        )
    )
    db.session.commit()

    message = db.session.get(Message, result.message.id)
    kept, omitted = message.attachments
    assert (kept.filename, kept.size, kept.sha256, kept.data) == (
        "rechnung.pdf",
        len(pdf),
        hashlib.sha256(pdf).hexdigest(),
        pdf,
    )
    assert omitted.data is None and omitted.size == 2000 and "limit" in omitted.omitted_reason
    assert message.raw_source.data == raw
    assert db.session.scalar(select(RawSource.sha256)) == hashlib.sha256(raw).hexdigest()
    for dangerous in ("onclick", "<script", "track.example", "javascript:"):
        assert dangerous not in message.html
    assert "Anbei" in message.html


def test_agent_reply_counts_first_response_and_queues_delivery(app):
    from helpdesk.models import OutboxItem

    result = ingest(inbound("instagram", "1784", "hi 👋", thread_key="ig-1"))
    agent = make_user("agent")
    reply = add_reply(result.ticket, agent, "Hi! How can we help?")
    db.session.commit()

    assert reply.channel == "instagram" and reply.thread_key == "ig-1"
    assert result.ticket.first_response_at == reply.created_at
    assert result.ticket.status == "open"
    item = db.session.scalars(select(OutboxItem)).one()
    assert (item.kind, item.status, item.message_id) == ("send_message", "pending", reply.id)


def test_message_on_a_ticket_solved_long_ago_opens_a_linked_follow_up(app):
    from datetime import timedelta

    first = ingest(inbound(external_id="<old@example.com>"))
    solved = first.ticket
    set_status(solved, "solved", at=solved.created_at)
    solved.solved_at = solved.created_at - timedelta(days=app.config["FOLLOW_UP_AFTER_DAYS"] + 1)
    db.session.commit()

    later = ingest(inbound(subject="Re: again", references=("<old@example.com>",)))
    db.session.commit()
    assert later.created_ticket
    assert later.ticket.follow_up_of_id == solved.id
    assert db.session.get(Ticket, solved.id).status == "solved"
    created = db.session.scalars(
        select(Event).where(Event.ticket_id == later.ticket_id, Event.kind == "ticket.created")
    ).one()
    assert created.data["follow_up_of"] == solved.id


def test_outlook_conversation_threads_only_for_the_same_customer(app):
    first = ingest(inbound(thread_key="outlook:AdkB4Xyz", subject="Rücksendung"))
    same = ingest(inbound(thread_key="outlook:AdkB4Xyz", subject="AW: Rücksendung"))
    other = ingest(inbound(sender="x@example.net", thread_key="outlook:AdkB4Xyz"))
    assert same.ticket_id == first.ticket_id
    assert other.created_ticket


def test_bounce_threads_to_the_ticket_of_the_mail_that_bounced(app):
    first = ingest(inbound())
    reply = add_reply(
        first.ticket, make_user("agent"), "Ihre Retoure ist da.", external_id="<o1@shop>"
    )
    set_status(first.ticket, "solved")
    db.session.commit()
    bounce = ingest(
        inbound(
            sender="mailer-daemon@mx.example.com",
            subject="Undelivered Mail Returned to Sender",
            auto_submitted=True,
            metadata={"automatic": "bounce", "bounced_message_id": reply.external_id},
        )
    )
    assert bounce.ticket_id == first.ticket_id
    assert db.session.get(Ticket, first.ticket_id).status == "solved"
