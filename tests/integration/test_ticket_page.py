"""The ticket page: one timeline, the side panel's edits, attachments, merge and split,
@mentions, and the reply composer (channel, collisions, send-and-set-status, uploads)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from channel_adapters.base import Identity, InboundAttachment
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Event, Message, OutboxItem, Team, Ticket
from helpdesk.models.tickets import Notification
from helpdesk.models.types import utcnow
from helpdesk.services.replies import add_note, add_reply, set_status
from tests.conftest import csrf_token, log_in, make_user
from tests.factories import Classified, inbound

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def text_of(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(page)).replace("\u00a0", " ")


def signed_in(app, role: str, email: str | None = None, **fields):
    client = app.test_client()
    user = make_user(role, email, **fields)
    assert log_in(client, user.email).status_code == 302
    return client, user


def post(client, path: str, data: dict, **kwargs):
    """A form post as the browser sends it from the page the form is on: with its CSRF
    token and, for the composer, the newest message id the page showed."""
    page = re.sub(r"/(compose|properties|take|tags.*|merge|unmerge|messages/.*)$", "", path)
    shown = client.get(page).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', shown).group(1)
    seen = re.search(r'name="seen" value="(\d+)"', shown)
    defaults = {"seen": seen.group(1)} if seen and path.endswith("/compose") else {}
    return client.post(path, data={**defaults, **data, "csrf_token": token}, **kwargs)


def mail(text: str = "Hallo, wo bleibt meine Bestellung?", **fields):
    fields.setdefault("sender", "kunde@example.com")
    fields.setdefault("subject", "Bestellung")
    return ingest(inbound("email", text=text, **fields))


def events_of(ticket_id: int, kind: str) -> list[Event]:
    return list(
        db.session.scalars(
            select(Event).where(Event.ticket_id == ticket_id, Event.kind == kind).order_by(Event.id)
        )
    )


# --- the timeline ------------------------------------------------------------------------


def test_one_timeline_in_order_across_channels_with_events_between(app):
    client, agent = signed_in(app, "agent", name="Julia Sommer")
    start = utcnow() - timedelta(hours=2)
    first = ingest(
        inbound("email", "anna@example.com", "Meine Jacke ist zu klein.", subject="Jacke"),
        received_at=start,
    )
    ticket = first.ticket
    add_reply(ticket, None, "Hallo! Ich bin der Shop-Bot.", channel="email", author_kind="bot",
              deliver=False, at=start + timedelta(minutes=1))  # fmt: skip
    add_reply(ticket, agent, "Rückruf: Umtausch in M vereinbart.", channel="phone",
              deliver=False, at=start + timedelta(minutes=10))  # fmt: skip
    add_note(ticket, agent, "Lager fragen, ob M da ist.", at=start + timedelta(minutes=20))
    db.session.commit()
    set_status(ticket, "pending", user=agent)  # now: after everything above
    db.session.commit()
    add_reply(ticket, agent, "Die Jacke in M ist unterwegs.", at=utcnow() + timedelta(minutes=1))
    db.session.commit()

    response = client.get(f"/tickets/{ticket.id}")
    assert response.status_code == 200
    page = text_of(response)
    order = [
        "Meine Jacke ist zu klein.",
        "Hallo! Ich bin der Shop-Bot.",
        "Rückruf: Umtausch in M vereinbart.",
        "Lager fragen, ob M da ist.",
        "Status: Open → Pending",
        "Die Jacke in M ist unterwegs.",
    ]
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions), page
    raw = response.get_data(as_text=True)
    assert 'class="message outbound author-bot kind-bot' in raw
    assert 'class="message outbound author-agent kind-call' in raw
    assert 'class="message note author-agent kind-note' in raw
    # What the messages already say is not repeated as an event line.
    assert "message.received" not in page and "note.added" not in page


def test_quoted_history_is_collapsed_and_html_is_sanitised(app):
    client, _ = signed_in(app, "agent")
    result = mail(
        "Danke, passt!",
        quoted_text="Am 3. Nov. schrieb Service: Ihre Retoure ist da.",
        html="<p>Danke, <b>passt</b>!</p><blockquote>Ihre Retoure ist da.</blockquote>"
        '<img src=x onerror="alert(1)"><script>alert(2)</script>',
    )
    db.session.commit()
    raw = client.get(f"/tickets/{result.ticket_id}").get_data(as_text=True)
    assert re.search(r"<details class=\"quoted\"><summary>Quoted history</summary><pre>Am 3\.", raw)
    assert '<div class="body text">Danke, passt!</div>' in raw  # the reply itself on top
    assert "<b>passt</b>" in raw  # the original formatting, folded away
    assert "onerror" not in raw and "<script>alert" not in raw


def test_order_events_recorded_on_the_customer_show_on_the_ticket(app):
    from helpdesk.services.returns import ReturnLine, register_return, transition
    from tests import factories

    client, _ = signed_in(app, "agent")
    order = factories.order("100457", "helga@example.de")
    result = ingest(
        inbound("email", "helga@example.de", "Wo ist meine Erstattung zu 100457?"),
        classifier=Classified("refund_status", order_numbers=["100457"]),
    )
    db.session.commit()
    return_ = register_return(order, [ReturnLine(order.items[0], 1, "too_small")])
    transition(return_, "received")
    db.session.commit()
    page = text_of(client.get(f"/tickets/{result.ticket_id}"))
    assert f"Return {return_.number}: Requested" in page
    assert f"Return {return_.number}: Received" in page
    assert "Reminders for invoice RE-100457 paused" in page


# --- the side panel ----------------------------------------------------------------------


def test_customer_identities_and_other_tickets_with_links(app):
    client, _ = signed_in(app, "agent")
    dm = ingest(
        inbound("instagram", "1784100", "Hallo?", thread_key="ig-1", display_name="Anna S.",
                also_known_as=(Identity("email", "anna@example.com"),))
    )  # fmt: skip
    email = mail("Noch eine Frage", sender="anna@example.com")
    db.session.commit()
    response = client.get(f"/tickets/{email.ticket_id}")
    page = text_of(response)
    assert "Instagram 1784100" in page and "E-mail anna@example.com" in page
    assert f'href="/tickets/{dm.ticket_id}"' in response.get_data(as_text=True)


def test_other_tickets_are_the_customers_latest_ten_and_merged_ones_are_named(app):
    client, _ = signed_in(app, "agent")
    ids = [mail(f"Frage {n}", subject=f"Frage {n}").ticket_id for n in range(13)]
    now = utcnow()
    for age, ticket_id in enumerate(reversed(ids)):  # the last one is the latest
        db.session.get(Ticket, ticket_id).last_activity_at = now - timedelta(hours=age)
    viewed, merged = ids[0], ids[1]  # the two oldest
    db.session.get(Ticket, merged).merged_into_id = viewed
    db.session.commit()

    response = client.get(f"/tickets/{viewed}")
    shown = response.get_data(as_text=True)
    side = shown[shown.index('class="other-tickets"') :]
    side = side[: side.index("</ul>")]
    listed = [int(n) for n in re.findall(r'href="/tickets/(\d+)"', side)]
    assert listed == list(reversed(ids[3:]))  # latest first; not the viewed one
    merged_line = shown[shown.index("merged-here") :]
    assert f'href="/tickets/{merged}"' in merged_line[: merged_line.index("</p>")]


def test_field_edits_are_events_and_show_in_the_timeline(app):
    client, agent = signed_in(app, "agent", name="Julia Sommer")
    colleague = make_user("agent", "max@shop.example", name="Max Bauer")
    team = Team(name="Retouren")
    db.session.add(team)
    ticket_id = mail().ticket_id
    db.session.commit()
    path = f"/tickets/{ticket_id}"

    fields = {"status": "pending", "priority": "high", "assignee": str(colleague.id),
              "team": str(team.id)}  # fmt: skip
    saved = post(client, f"{path}/properties", fields, follow_redirects=True)
    assert "Saved." in text_of(saved)
    post(client, f"{path}/tags", {"tag": "Eilig Retoure"})
    post(client, f"{path}/tags/remove", {"tag": "eilig-retoure"})
    post(client, f"{path}/take", {})

    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket_id)
    assert (ticket.status, ticket.priority, ticket.team_id) == ("pending", "high", team.id)
    assert ticket.assignee_id == agent.id and ticket.tags == []
    assigned = events_of(ticket_id, "ticket.assigned")
    assert [(e.data["old"], e.data["new"]) for e in assigned] == [
        (None, colleague.id),
        (colleague.id, agent.id),
    ]
    assert events_of(ticket_id, "ticket.priority_changed")[0].data == {"old": "normal",
                                                                       "new": "high"}  # fmt: skip
    assert events_of(ticket_id, "ticket.tag_added")[0].data == {"tag": "eilig-retoure"}
    assert events_of(ticket_id, "ticket.tag_removed")[0].user_id == agent.id
    page = text_of(client.get(path))
    for line in (
        "Status: New → Pending",
        "Priority: Normal → High",
        "Assigned to Max Bauer",
        "Team: – → Retouren",
        "Tag added: eilig-retoure",
        "Tag removed: eilig-retoure",
        "Assigned to Julia Sommer",
    ):
        assert line in page


def test_a_refused_edit_changes_nothing(app):
    client, _ = signed_in(app, "agent")
    ticket_id = mail().ticket_id
    db.session.commit()
    path = f"/tickets/{ticket_id}"
    refused = post(client, f"{path}/properties", {"status": "pending", "priority": "whenever"},
                   follow_redirects=True)  # fmt: skip
    assert "Unknown priority whenever." in text_of(refused)
    bad_tag = post(client, f"{path}/tags", {"tag": "<script>"}, follow_redirects=True)
    assert "A tag is one word" in text_of(bad_tag)
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket_id)
    assert ticket.status == "new" and ticket.tags == []  # the status in the same form, too
    assert not events_of(ticket_id, "ticket.status_changed")


# --- attachments -------------------------------------------------------------------------


def _with_attachments():
    files = (
        InboundAttachment.from_bytes("Rücksendeschein.pdf", "application/pdf", b"%PDF-1.4 x"),
        InboundAttachment.from_bytes("page.html", "text/html", b"<script>alert(1)</script>"),
        InboundAttachment.from_bytes("huge.zip", "application/zip", b"x" * 50, max_size=10),
    )
    return mail("Anbei der Schein.", attachments=files)


def test_attachments_download_for_those_who_may_see_the_ticket(app):
    result = _with_attachments()
    db.session.commit()
    message = db.session.get(Message, result.message_id)
    pdf, page_html, huge = message.attachments
    client, _ = signed_in(app, "agent")

    raw = client.get(f"/tickets/{result.ticket_id}").get_data(as_text=True)
    assert f'href="/attachments/{pdf.id}"' in raw and f'href="/attachments/{huge.id}"' not in raw
    assert "not kept: larger than the limit of 10 bytes" in html.unescape(raw)

    download = client.get(f"/attachments/{pdf.id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 x"
    assert download.mimetype == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "R%C3%BCcksendeschein.pdf" in disposition
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    risky = client.get(f"/attachments/{page_html.id}")
    assert risky.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in risky.headers["Content-Security-Policy"]
    assert client.get(f"/attachments/{huge.id}").status_code == 404
    assert client.get("/attachments/999999").status_code == 404

    social, _ = signed_in(app, "social")
    assert social.get(f"/attachments/{pdf.id}").status_code == 403  # an e-mail ticket
    anonymous = app.test_client().get(f"/attachments/{pdf.id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


# --- merge and split ---------------------------------------------------------------------


def test_merge_moves_messages_closes_the_source_with_a_pointer_and_can_be_undone(app):
    client, agent = signed_in(app, "agent", name="Julia Sommer")
    target = mail("Wo ist meine Bestellung?", subject="Bestellung 100234").ticket
    source = mail("Ich hatte schon geschrieben!", subject="Nochmal", sender="kunde@example.com",
                  references=()).ticket  # fmt: skip
    db.session.commit()
    assert source.id != target.id
    source_id, target_id = source.id, target.id
    source_message = source.messages[0].id

    merged = post(client, f"/tickets/{source_id}/merge", {"into": f"#{target_id}"},
                  follow_redirects=True)  # fmt: skip
    assert f"#{source_id} is merged into this ticket" in text_of(merged)
    db.session.expire_all()
    source, target = db.session.get(Ticket, source_id), db.session.get(Ticket, target_id)
    assert source_message in [m.id for m in target.messages]
    assert source.status == "closed" and source.merged_into_id == target_id
    assert [m.text for m in source.messages] == [f"Merged into #{target_id} (1 message moved)."]
    assert events_of(source_id, "ticket.merged")[0].data["messages"] == [source_message]
    assert events_of(target_id, "ticket.merged_in")[0].data["source"] == source_id
    target_page = text_of(client.get(f"/tickets/{target_id}"))
    assert "Ich hatte schon geschrieben!" in target_page
    assert f"#{source_id} merged into this ticket" in target_page
    assert f"This ticket is merged into #{target_id}" in text_of(
        client.get(f"/tickets/{source_id}")
    )

    late = post(client, f"/tickets/{source_id}/compose",
                {"kind": "note", "text": "Noch was", "action": "send"})  # fmt: skip
    assert late.status_code == 422
    assert f"This ticket is merged into #{target_id}; answer there." in text_of(late)

    undone = post(client, f"/tickets/{source_id}/unmerge", {}, follow_redirects=True)
    assert "The merge is undone." in text_of(undone)
    db.session.expire_all()
    source, target = db.session.get(Ticket, source_id), db.session.get(Ticket, target_id)
    assert source.merged_into_id is None and source.status == "new"
    assert source_message in [m.id for m in source.messages]
    assert source_message not in [m.id for m in target.messages]
    assert events_of(source_id, "ticket.unmerged") and events_of(target_id, "ticket.unmerged")


def test_mail_naming_a_merged_tickets_number_lands_on_the_merge_target(app):
    client, _agent = signed_in(app, "agent")
    target = mail("Wo ist meine Bestellung?", subject="Bestellung 100234").ticket
    source = mail("Nochmal geschrieben", subject="Nochmal", references=()).ticket
    db.session.commit()
    source_id, target_id = source.id, target.id
    post(client, f"/tickets/{source_id}/merge", {"into": f"#{target_id}"})
    # The customer answers an old reply of the source: only its number ties it.
    late = mail("Ist jetzt etwas passiert?", subject=f"Re: Nochmal [#{source_id}]", references=())
    db.session.commit()
    assert late.ticket_id == target_id and not late.created_ticket
    # Someone else's mail with that number still gets a ticket of its own.
    other = mail("Hallo", subject=f"Re: [#{source_id}]", sender="fremd@example.com",
                 references=())  # fmt: skip
    assert other.created_ticket


def test_merges_that_make_no_sense_are_refused(app):
    client, _ = signed_in(app, "agent")
    one = mail("eins", subject="eins").ticket_id
    two = mail("zwei", subject="zwei").ticket_id
    closed = mail("drei", subject="drei").ticket
    set_status(closed, "closed")
    db.session.commit()
    itself = post(client, f"/tickets/{one}/merge", {"into": str(one)}, follow_redirects=True)
    assert "A ticket cannot be merged into itself." in text_of(itself)
    into_closed = post(client, f"/tickets/{one}/merge", {"into": str(closed.id)},
                       follow_redirects=True)  # fmt: skip
    assert "is closed; nothing can be merged into it" in text_of(into_closed)
    assert post(client, f"/tickets/{one}/merge", {"into": "999999"}).status_code == 404
    not_merged = post(client, f"/tickets/{two}/unmerge", {}, follow_redirects=True)
    assert f"#{two} is not merged." in text_of(not_merged)
    assert db.session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.merged_into_id.is_not(None))) == 0  # fmt: skip


def test_split_a_message_into_its_own_ticket(app):
    client, agent = signed_in(app, "agent")
    first = ingest(inbound("email", "kunde@example.com", "Wo ist 100234?", subject="Paket",
                           thread_key="conv-1"), classifier=Classified("order_status"))  # fmt: skip
    second = ingest(inbound("email", "kunde@example.com", "Und: wie storniere ich 100777?",
                            subject="Paket", thread_key="conv-1"),
                    classifier=Classified("order_change_cancel"))  # fmt: skip
    db.session.commit()
    assert first.ticket_id == second.ticket_id
    old_id = first.ticket_id
    path = f"/tickets/{old_id}"
    assert f'action="{path}/messages/{second.message_id}/split"' in client.get(path).get_data(
        as_text=True
    )

    split = post(client, f"{path}/messages/{second.message_id}/split", {})
    assert split.status_code == 302
    db.session.expire_all()
    new = db.session.scalars(select(Ticket).where(Ticket.id != old_id)).one()
    assert split.headers["Location"].endswith(f"/tickets/{new.id}")
    assert [m.id for m in new.messages] == [second.message_id]
    assert new.customer_id == db.session.get(Ticket, old_id).customer_id
    assert new.intents == ["order_change_cancel"] and new.status == "open"
    assert events_of(old_id, "message.split")[0].data["new_ticket"] == new.id
    assert events_of(new.id, "ticket.created")[0].data["split_from"] == old_id
    assert f"Split off #{old_id}" in text_of(client.get(f"/tickets/{new.id}"))
    assert f"A message became #{new.id}" in text_of(client.get(path))

    assert "/split" not in client.get(f"/tickets/{new.id}").get_data(as_text=True)
    only = post(client, f"/tickets/{new.id}/messages/{second.message_id}/split", {},
                follow_redirects=True)  # fmt: skip
    assert "This is the ticket's only message" in text_of(only)
    other = post(client, f"{path}/messages/{second.message_id}/split", {})
    assert other.status_code == 404  # the message is no longer on that ticket


# --- mentions ----------------------------------------------------------------------------


def test_mentions_in_a_note_notify_colleagues_until_they_read_it(app):
    client, agent = signed_in(app, "agent", name="Julia Sommer")
    max_client, colleague = signed_in(app, "lead", "max.bauer@shop.example", name="Max Bauer")
    ticket_id = mail().ticket_id
    db.session.commit()
    sent = post(client, f"/tickets/{ticket_id}/compose",
                {"kind": "note", "text": "@Max bitte prüfen, cc @julia", "action": "send"},
                follow_redirects=True)  # fmt: skip
    assert "Your note is added." in text_of(sent)
    notes = db.session.scalars(select(Notification)).all()
    assert [(n.user_id, n.actor_id, n.kind) for n in notes] == [(colleague.id, agent.id, "mention")]

    inbox = max_client.get("/inbox").get_data(as_text=True)
    assert re.search(r'class="mentions-link">Mentions <span class="badge unread"[^>]*>1<', inbox)
    listing = text_of(max_client.get("/mentions"))
    assert "Julia Sommer: @Max bitte prüfen" in listing and "unread" in listing
    max_client.get(f"/tickets/{ticket_id}")  # reading the ticket reads the mention
    db.session.expire_all()
    assert db.session.scalars(select(Notification.read_at)).one() is not None
    assert 'class="badge unread"' not in max_client.get("/inbox").get_data(as_text=True)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("@Nobody schau mal", "Nobody is called @Nobody"),
        ("@Max schau mal", "@Max could be @max.bauer@shop.example, @max.weber@shop.example"),
        ("@social schau mal", "Social cannot see this ticket."),
    ],
)
def test_a_mention_that_fits_nobody_or_several_is_refused_and_loses_nothing(app, text, error):
    client, _ = signed_in(app, "agent")
    make_user("agent", "max.bauer@shop.example", name="Max Bauer")
    make_user("agent", "max.weber@shop.example", name="Max Weber")
    make_user("social")
    ticket_id = mail().ticket_id
    db.session.commit()
    refused = post(client, f"/tickets/{ticket_id}/compose",
                   {"kind": "note", "text": text, "action": "send"})  # fmt: skip
    assert refused.status_code == 422
    assert error in text_of(refused)
    assert f">{text}</textarea>" in refused.get_data(as_text=True)  # nothing typed is lost
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert not db.session.scalars(select(Message).where(Message.direction == "note")).all()


def test_mention_by_full_address(app):
    client, _ = signed_in(app, "agent")
    colleague = make_user("agent", "julia@example.com", name="Julia Sommer")
    ticket_id = mail().ticket_id
    db.session.commit()
    post(client, f"/tickets/{ticket_id}/compose",
         {"kind": "note", "text": "Frage an @julia@example.com.", "action": "send"})  # fmt: skip
    assert db.session.scalars(select(Notification.user_id)).all() == [colleague.id]


# --- the composer ------------------------------------------------------------------------


def _anna_on_two_channels():
    """Anna wrote an e-mail, then (later, on another ticket) an Instagram DM."""
    email = ingest(inbound("email", "anna@example.com", "Frage per Mail", subject="Mail"),
                   received_at=utcnow() - timedelta(hours=3))  # fmt: skip
    ingest(
        inbound("instagram", "1784100", "Und hier per DM", thread_key="ig-7",
                also_known_as=(Identity("email", "anna@example.com"),)),
        received_at=utcnow() - timedelta(hours=1),
    )  # fmt: skip
    db.session.commit()
    return email.ticket_id


def _options(response) -> tuple[list[str], str | None]:
    raw = response.get_data(as_text=True)
    select_html = re.search(r'<select name="channel">(.*?)</select>', raw, re.S).group(1)
    values = re.findall(r'<option value="([^"]+)"', select_html)
    chosen = re.search(r'<option value="([^"]+)" selected', select_html)
    return values, chosen.group(1) if chosen else None


def test_the_composer_offers_the_customers_channels_and_defaults_to_the_last_used(app):
    ticket_id = _anna_on_two_channels()
    client, _ = signed_in(app, "agent")
    assert _options(client.get(f"/tickets/{ticket_id}")) == (["email", "instagram"], "instagram")

    sent = post(client, f"/tickets/{ticket_id}/compose",
                {"kind": "reply", "channel": "instagram", "text": "Hallo Anna!",
                 "action": "send"})  # fmt: skip
    assert sent.status_code == 302
    reply = db.session.scalars(select(Message).where(Message.direction == "outbound")).one()
    assert (reply.channel, reply.counterpart, reply.ticket_id) == ("instagram", "1784100",
                                                                   ticket_id)  # fmt: skip

    refused = post(
        client,
        f"/tickets/{ticket_id}/compose",
        {"kind": "reply", "channel": "whatsapp", "text": "Hallo?", "action": "send"},
    )
    assert refused.status_code == 422
    assert "This customer cannot be answered on whatsapp." in text_of(refused)


def test_a_call_is_recorded_on_the_phone_channel_but_never_the_default(app):
    email = mail("Bitte rufen Sie mich an.", sender="markus@example.net")
    ingest(inbound("phone", "+4915123847561", "Anruf: will Rückruf", thread_key="+4915123847561",
                   also_known_as=(Identity("email", "markus@example.net"),)))  # fmt: skip
    db.session.commit()
    client, _ = signed_in(app, "agent")
    path = f"/tickets/{email.ticket_id}"
    assert _options(client.get(path)) == (["email", "phone"], "email")
    recorded = post(client, f"{path}/compose", {"kind": "reply", "channel": "phone",
                    "text": "Zurückgerufen, alles geklärt.", "action": "send"},
                    follow_redirects=True)  # fmt: skip
    assert "The call is recorded." in text_of(recorded)
    call = db.session.scalars(select(Message).where(Message.direction == "outbound")).one()
    assert call.channel == "phone" and call.counterpart == "+4915123847561"
    assert db.session.scalar(select(func.count()).select_from(OutboxItem)) == 0  # nothing to send
    assert 'class="message outbound author-agent kind-call' in recorded.get_data(as_text=True)


def test_a_social_manager_answers_on_social_channels_only(app):
    _anna_on_two_channels()
    dm_ticket = db.session.scalars(select(Ticket).where(Ticket.channel == "instagram")).one()
    client, _ = signed_in(app, "social")
    assert _options(client.get(f"/tickets/{dm_ticket.id}")) == (["instagram"], "instagram")
    refused = post(
        client,
        f"/tickets/{dm_ticket.id}/compose",
        {"kind": "reply", "channel": "email", "text": "Per Mail?", "action": "send"},
    )
    assert refused.status_code == 422


def test_preview_shows_what_will_go_out_and_stores_nothing(app):
    client, _ = signed_in(app, "agent")
    ticket_id = mail(subject="Bestellung 100234").ticket_id
    db.session.commit()
    previewed = post(client, f"/tickets/{ticket_id}/compose",
                     {"kind": "reply", "channel": "email", "action": "preview",
                      "text": "Hallo <b>Frau Weber</b>,\nIhr Paket ist unterwegs."})  # fmt: skip
    assert previewed.status_code == 200
    raw = previewed.get_data(as_text=True)
    preview = re.search(r'<div class="preview".*?</div>\s*</div>', raw, re.S).group(0)
    assert "&lt;b&gt;Frau Weber&lt;/b&gt;" in preview and "<b>Frau" not in preview
    assert f"Re: Bestellung 100234 [#{ticket_id}]" in preview and "kunde@example.com" in preview
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1


def test_send_and_set_status_in_one_step(app):
    client, agent = signed_in(app, "agent")
    ticket_id = mail().ticket_id
    db.session.commit()
    sent = post(client, f"/tickets/{ticket_id}/compose",
                {"kind": "reply", "channel": "email", "text": "Ist unterwegs.",
                 "action": "send_pending", "response": "order-shipped"},
                follow_redirects=True)  # fmt: skip
    assert "Your reply is on its way." in text_of(sent)
    ticket = db.session.get(Ticket, ticket_id)
    assert ticket.status == "pending"
    reply = db.session.scalars(select(Message).where(Message.direction == "outbound")).one()
    assert reply.details["canned_response"] == "order-shipped" and reply.author_id == agent.id
    assert db.session.scalar(select(OutboxItem.message_id)) == reply.id
    changed = events_of(ticket_id, "ticket.status_changed")
    assert [(e.data["old"], e.data["new"]) for e in changed] == [("open", "pending")]

    post(client, f"/tickets/{ticket_id}/compose",
         {"kind": "note", "text": "Erledigt.", "action": "send_solved"})  # fmt: skip
    db.session.expire_all()
    assert db.session.get(Ticket, ticket_id).status == "solved"


def test_sending_after_someone_else_replied_warns_first_then_sends_on_a_second_click(app):
    client, _ = signed_in(app, "agent")
    colleague = make_user("agent", "max@shop.example", name="Max Bauer")
    ticket = mail().ticket
    db.session.commit()
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    seen = re.search(r'name="seen" value="(\d+)"', page).group(1)

    add_reply(ticket, colleague, "Max war schneller: Paket ist unterwegs.")
    db.session.commit()
    form = {"kind": "reply", "channel": "email", "text": "Ihr Paket kommt morgen.",
            "action": "send", "seen": seen}  # fmt: skip
    warned = post(client, f"/tickets/{ticket.id}/compose", form)
    assert warned.status_code == 409
    warning = text_of(warned)
    assert "Someone else wrote on this ticket since you opened it" in warning
    assert "Max Bauer" in warning and "Max war schneller: Paket ist unterwegs." in warning
    raw = warned.get_data(as_text=True)
    assert ">Ihr Paket kommt morgen.</textarea>" in raw and "Send anyway" in raw
    outbound = select(func.count()).select_from(Message).where(Message.direction == "outbound")
    assert db.session.scalar(outbound) == 1  # only Max's

    again = re.search(r'name="seen" value="(\d+)"', raw).group(1)
    sent = post(client, f"/tickets/{ticket.id}/compose", {**form, "seen": again})
    assert sent.status_code == 302
    assert db.session.scalar(outbound) == 2


def test_my_own_earlier_reply_is_no_collision(app):
    client, agent = signed_in(app, "agent")
    ticket = mail().ticket
    db.session.commit()
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    seen = re.search(r'name="seen" value="(\d+)"', page).group(1)
    form = {"kind": "note", "text": "eins", "action": "send", "seen": seen}
    assert post(client, f"/tickets/{ticket.id}/compose", form).status_code == 302
    assert (
        post(client, f"/tickets/{ticket.id}/compose", {**form, "text": "zwei"}).status_code == 302
    )


def test_attachments_are_sent_within_the_limits_and_refused_clearly_beyond(app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 1000)
    monkeypatch.setitem(app.config, "UPLOAD_TYPES", "pdf,png,txt")
    client, _ = signed_in(app, "agent")
    ticket_id = mail().ticket_id
    db.session.commit()
    path = f"/tickets/{ticket_id}/compose"
    form = {"kind": "reply", "channel": "email", "text": "Anbei das Foto.", "action": "send"}

    def send(*files):
        from io import BytesIO

        data = {**form, "attachments": [(BytesIO(body), name) for name, body in files]}
        return post(client, path, data, content_type="multipart/form-data")

    too_big = send(("foto.png", PNG + b"\x00" * 1000))
    assert too_big.status_code == 422
    assert "foto.png is larger than 1000 bytes" in text_of(too_big)
    assert ">Anbei das Foto.</textarea>" in too_big.get_data(as_text=True)
    wrong_type = send(("tool.exe", b"MZ\x90\x00"))
    assert "tool.exe: this kind of file cannot be attached (allowed: pdf, png, txt)" in text_of(
        wrong_type
    )
    disguised = send(("rechnung.pdf", b"<html>not a pdf</html>"))
    assert "rechnung.pdf is not what its name says (application/pdf)" in text_of(disguised)
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1  # nothing sent

    assert send(("foto.png", PNG), ("notiz.txt", "Größe M".encode())).status_code == 302
    reply = db.session.scalars(select(Message).where(Message.direction == "outbound")).one()
    assert [(a.filename, a.content_type) for a in reply.attachments] == [
        ("foto.png", "image/png"),
        ("notiz.txt", "text/plain"),
    ]
    assert client.get(f"/attachments/{reply.attachments[0].id}").data == PNG


def test_a_suggested_answer_is_filled_in_without_javascript(app):
    from helpdesk.models import CannedResponse

    db.session.add(
        CannedResponse(
            title="Danke",
            shortcut="thanks",
            language="de",
            intents=[],
            channels=[],
            requires=[],
            body="Danke, {{ customer.name }}!",
        )
    )
    client, _ = signed_in(app, "agent")
    ticket_id = mail(display_name="Anna Weber").ticket_id
    db.session.commit()
    page = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    link = f'href="/tickets/{ticket_id}?response=thanks#composer"'
    assert link in page and 'data-insert-text="Danke, Anna Weber!\n"' in page
    filled = client.get(f"/tickets/{ticket_id}?response=thanks").get_data(as_text=True)
    assert '<textarea name="text" rows="9"' in filled
    assert re.search(r"<textarea name=\"text\"[^>]*>Danke, Anna Weber!\n</textarea>", filled)
    assert 'name="response" value="thanks"' in filled


# --- who may do what ---------------------------------------------------------------------


def test_roles_and_sign_in_are_checked_on_every_action(app):
    email_ticket = mail().ticket
    dm = ingest(inbound("instagram", "1784100", "Hallo?", thread_key="ig-1"))
    db.session.commit()
    message_id = email_ticket.messages[0].id
    n, dm_id = email_ticket.id, dm.ticket_id
    actions = [
        f"/tickets/{n}/compose",
        f"/tickets/{n}/properties",
        f"/tickets/{n}/take",
        f"/tickets/{n}/tags",
        f"/tickets/{n}/tags/remove",
        f"/tickets/{n}/intents",
        f"/tickets/{n}/merge",
        f"/tickets/{n}/unmerge",
        f"/tickets/{n}/messages/{message_id}/split",
    ]
    anonymous = app.test_client()
    for path in [f"/tickets/{n}", "/mentions"]:
        assert anonymous.get(path).status_code == 302
    social, _ = signed_in(app, "social")
    token = csrf_token(social, f"/tickets/{dm_id}")
    for path in actions:  # an e-mail ticket: not theirs to see, let alone change
        assert social.post(path, data={"csrf_token": token}).status_code == 403, path
    for path in (f"/tickets/{dm_id}/merge", f"/tickets/{dm_id}/unmerge"):
        assert social.post(path, data={"csrf_token": token, "into": "1"}).status_code == 403
    agent, _ = signed_in(app, "agent")
    assert agent.post(f"/tickets/{n}/take").status_code == 400  # no CSRF token
    assert db.session.get(Ticket, n).assignee_id is None
    assert social.get("/mentions").status_code == 200


def test_the_ticket_page_escapes_what_customers_and_agents_wrote(app):
    client, _ = signed_in(app, "agent")
    result = ingest(
        inbound("email", "evil@example.com", "<script>alert('text')</script>",
                subject="<img src=x onerror=alert('subject')>",
                display_name="<svg onload=alert('name')>")
    )  # fmt: skip
    db.session.commit()
    post(client, f"/tickets/{result.ticket_id}/tags", {"tag": "ok"})
    raw = client.get(f"/tickets/{result.ticket_id}").get_data(as_text=True)
    assert "<script>alert('text')" not in raw and "<img src=x" not in raw
    assert "<svg onload" not in raw
    assert "&lt;svg onload=alert(&#39;name&#39;)&gt;" in raw
