"""Replies on Messenger, Instagram, WhatsApp and X leave through the outbox to the send
APIs (a local server that checks method, path, token and JSON body), respect the
messaging window, and show failures on the ticket."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import ChannelState, Message, OutboxItem, Ticket
from helpdesk.services.delivery import deliver_due
from helpdesk.services.replies import add_reply
from tests.conftest import make_user
from tests.factories import inbound
from tests.integration.social.conftest import PAGE_TOKEN, WHATSAPP_TOKEN, X_TOKEN, post_meta

PAGE = "104365328934221"
PSID = "7214563827491023"
IGSID = "6754321987654321"
WA_NUMBER_ID = "1122334455667"


def customer_wrote(channel: str, sender: str, *, ago: timedelta, text: str = "Hallo?", **fields):
    """A customer's message that came in `ago` before now; returns its ticket."""
    at = datetime.now(UTC) - ago
    result = ingest(inbound(channel, sender, text, sent_at=at, **fields), received_at=at)
    db.session.commit()
    return result.ticket


def compose(client, ticket: Ticket, text: str, channel: str, **kwargs):
    """The composer's form, as the browser posts it from the ticket page."""
    path = f"/tickets/{ticket.number}"
    shown = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', shown).group(1)
    seen = re.search(r'name="seen" value="(\d+)"', shown).group(1)
    data = {"kind": "reply", "text": text, "channel": channel, "seen": seen, "csrf_token": token}
    return client.post(f"{path}/compose", data=data, **kwargs)


def outbound() -> Message:
    return db.session.scalars(select(Message).where(Message.direction == "outbound")).one()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- Messenger ------------------------------------------------------------------------------


def test_a_messenger_reply_is_sent_and_its_echo_and_read_receipt_recognised(agent_client, platform):
    ticket = customer_wrote("messenger", PSID, ago=timedelta(hours=1), recipient=PAGE,
                            thread_key=f"{PAGE}:{PSID}", external_id="m_in_1")  # fmt: skip
    sent = compose(agent_client, ticket, "Hallo! Ihr Paket ist unterwegs.", "messenger")
    assert sent.status_code == 302
    our_id = outbound().external_id
    platform.answer(200, {"recipient_id": PSID, "message_id": "m_out_1"})

    assert deliver_due() == {"sent": 1}

    (request,) = platform.requests
    assert (request["method"], request["path"]) == ("POST", "/v21.0/me/messages")
    assert request["headers"]["Authorization"] == f"Bearer {PAGE_TOKEN}"
    assert request["json"] == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hallo! Ihr Paket ist unterwegs.", "metadata": our_id},
    }
    reply = outbound()
    assert reply.external_id == "m_out_1"  # the platform's id, which echoes and receipts name
    assert reply.details["delivery"] == {"status": "sent", "response": "m_out_1", "our_id": our_id}
    assert deliver_due() == {}
    health = db.session.scalars(select(ChannelState)).one()
    assert health.last_success_at is not None and health.last_error is None

    echo = {"sender": {"id": PAGE}, "recipient": {"id": PSID}, "timestamp": 1,
            "message": {"is_echo": True, "app_id": 1, "metadata": our_id, "mid": "m_out_1",
                        "text": "Hallo! Ihr Paket ist unterwegs."}}  # fmt: skip
    read = {"sender": {"id": PSID}, "recipient": {"id": PAGE},
            "timestamp": int(datetime.now(UTC).timestamp() * 1000) + 1000,
            "read": {"watermark": int(datetime.now(UTC).timestamp() * 1000) + 1000}}  # fmt: skip
    answer = post_meta(agent_client, {"object": "page", "entry": [
        {"id": PAGE, "time": 1, "messaging": [echo, read]}]}).get_json()  # fmt: skip
    assert (answer["our_echoes"], answer["receipts_applied"]) == (1, 1)
    db.session.expire_all()
    assert outbound().details["delivery"]["receipt"] == "read"
    assert count(Message) == 2  # the echo is not a second message


# --- Instagram and the window ---------------------------------------------------------------


def test_after_24_hours_instagram_replies_carry_the_human_agent_tag(agent_client, platform):
    ticket = customer_wrote("instagram", IGSID, ago=timedelta(days=3), recipient="1784")
    assert compose(agent_client, ticket, "Entschuldigung für die Wartezeit!", "instagram")
    platform.answer(200, {"recipient_id": IGSID, "message_id": "ig_out_1"})
    assert deliver_due() == {"sent": 1}
    (request,) = platform.requests
    assert request["path"] == "/v21.0/me/messages"
    assert request["json"] == {
        "recipient": {"id": IGSID},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "Entschuldigung für die Wartezeit!"},
    }


def test_after_7_days_the_agent_is_told_and_nothing_is_queued(agent_client, platform):
    ticket = customer_wrote("instagram", IGSID, ago=timedelta(days=8))
    refused = compose(agent_client, ticket, "Hallo?", "instagram")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "within 7 days of the customer" in page and "Instagram" in page
    assert count(OutboxItem) == 0
    assert db.session.scalar(select(func.count()).where(Message.direction == "outbound")) == 0


def test_without_the_human_agent_permission_24_hours_is_the_limit(agent_client, platform, app,
                                                                 monkeypatch):  # fmt: skip
    monkeypatch.setitem(app.config, "META_HUMAN_AGENT_TAG", False)
    ticket = customer_wrote("messenger", PSID, ago=timedelta(hours=30))
    refused = compose(agent_client, ticket, "Hallo?", "messenger")
    assert refused.status_code == 422
    assert "outside the 24-hour window" in refused.get_data(as_text=True)


def test_a_reply_that_waited_past_the_window_fails_with_the_reason(app, platform):
    """The worker checks again: a reply queued without the composer's check (or one that
    waited for retries) is not sent once the window has closed."""
    ticket = customer_wrote("whatsapp", "+4915112345678", ago=timedelta(hours=30),
                            recipient=WA_NUMBER_ID)  # fmt: skip
    add_reply(ticket, make_user("agent"), "Ja, ist angekommen.", channel="whatsapp")
    db.session.commit()
    assert deliver_due() == {"failed": 1}
    assert platform.requests == []
    delivery = outbound().details["delivery"]
    assert delivery["status"] == "failed" and "24 hours" in delivery["error"]


# --- WhatsApp -------------------------------------------------------------------------------


def test_a_whatsapp_reply_leaves_from_the_number_the_customer_wrote_to(agent_client, platform):
    ticket = customer_wrote("whatsapp", "+4915112345678", ago=timedelta(minutes=5),
                            recipient=WA_NUMBER_ID, external_id="wamid.IN")  # fmt: skip
    assert compose(agent_client, ticket, "Ja, Ihre Retoure ist da.", "whatsapp").status_code == 302
    platform.answer(200, {"messaging_product": "whatsapp",
                          "contacts": [{"input": "4915112345678", "wa_id": "4915112345678"}],
                          "messages": [{"id": "wamid.OUT1"}]})  # fmt: skip
    assert deliver_due() == {"sent": 1}
    (request,) = platform.requests
    assert request["path"] == f"/v21.0/{WA_NUMBER_ID}/messages"
    assert request["headers"]["Authorization"] == f"Bearer {WHATSAPP_TOKEN}"
    assert request["json"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "4915112345678",
        "type": "text",
        "text": {"preview_url": False, "body": "Ja, Ihre Retoure ist da."},
    }
    assert outbound().external_id == "wamid.OUT1"

    status = {
        "id": "wamid.OUT1",
        "status": "failed",
        "timestamp": "1733390000",
        "recipient_id": "4915112345678",
        "errors": [{"code": 131026, "title": "Message undeliverable"}],
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": WA_NUMBER_ID},
        "statuses": [status],
    }
    failed = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "W", "changes": [{"field": "messages", "value": value}]}],
    }
    answer = post_meta(agent_client, failed, path="/webhooks/whatsapp").get_json()
    assert answer["receipts_applied"] == 1
    page = agent_client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert "Delivery failed" in page and "Message undeliverable" in page


def test_whatsapp_refuses_replies_after_24_hours(agent_client, platform):
    ticket = customer_wrote("whatsapp", "+4915112345678", ago=timedelta(hours=25))
    refused = compose(agent_client, ticket, "Hallo?", "whatsapp")
    assert refused.status_code == 422
    assert "outside the 24-hour window" in refused.get_data(as_text=True)
    assert count(OutboxItem) == 0


# --- X --------------------------------------------------------------------------------------


def test_an_x_reply_goes_to_the_dm_conversation_with_the_customer(agent_client, platform):
    ticket = customer_wrote("x", "3001969357", ago=timedelta(days=3))  # X has no window
    assert compose(agent_client, ticket, "Your refund is on its way.", "x").status_code == 302
    platform.answer(201, {"data": {"dm_conversation_id": "3001969357-4337869213",
                                   "dm_event_id": "1582838118"}})  # fmt: skip
    assert deliver_due() == {"sent": 1}
    (request,) = platform.requests
    assert request["path"] == "/2/dm_conversations/with/3001969357/messages"
    assert request["headers"]["Authorization"] == f"Bearer {X_TOKEN}"
    assert request["json"] == {"text": "Your refund is on its way."}
    assert outbound().external_id == "1582838118"


# --- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "answer", "outcome", "words"),
    [
        (500, {"error": {"message": "An unexpected error has occurred.", "code": 2}},
         "retrying", "unexpected error"),
        (400, {"error": {"message": "(#613) Calls to this api have exceeded the rate limit.",
                         "code": 613}}, "retrying", "rate limit"),
        (400, {"error": {"message": "This message is sent outside of allowed window.",
                         "code": 10, "error_subcode": 2018278}}, "failed", "allowed window"),
    ],
)  # fmt: skip
def test_platform_errors_are_retried_or_given_up_and_shown_on_the_ticket(
    agent_client, platform, status, answer, outcome, words
):
    ticket = customer_wrote("messenger", PSID, ago=timedelta(hours=1))
    compose(agent_client, ticket, "Hallo!", "messenger")
    platform.answer(status, answer)
    assert deliver_due() == {outcome: 1}
    item = db.session.scalars(select(OutboxItem)).one()
    assert item.status == ("pending" if outcome == "retrying" else "dead")
    assert words in item.last_error
    page = agent_client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    shown = "Not delivered yet, trying again" if outcome == "retrying" else "Delivery failed"
    assert shown in page and words in page


def test_a_wrong_token_fails_without_retrying(agent_client, platform, app, monkeypatch):
    monkeypatch.setitem(app.config, "META_PAGE_ACCESS_TOKEN", "expired")
    ticket = customer_wrote("messenger", PSID, ago=timedelta(hours=1))
    compose(agent_client, ticket, "Hallo!", "messenger")
    assert deliver_due() == {"failed": 1}
    assert platform.requests[0]["headers"]["Authorization"] == "Bearer expired"
    assert "Invalid OAuth access token" in outbound().details["delivery"]["error"]
    health = db.session.scalars(select(ChannelState)).one()  # Admin -> Channels shows it
    assert (health.kind, health.name) == ("messenger", "send API")
    assert "Invalid OAuth access token" in health.last_error


def test_without_a_token_replies_wait_in_the_outbox(agent_client, social_config):
    ticket = customer_wrote("messenger", PSID, ago=timedelta(hours=1))
    compose(agent_client, ticket, "Hallo!", "messenger")
    assert deliver_due() == {}
    assert db.session.scalars(select(OutboxItem)).one().status == "pending"


def test_files_are_refused_on_social_channels_before_queueing(agent_client, platform):
    ticket = customer_wrote("messenger", PSID, ago=timedelta(hours=1))
    path = f"/tickets/{ticket.number}"
    shown = agent_client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', shown).group(1)
    seen = re.search(r'name="seen" value="(\d+)"', shown).group(1)
    refused = agent_client.post(f"{path}/compose", content_type="multipart/form-data", data={
        "kind": "reply", "text": "Anbei", "channel": "messenger", "seen": seen,
        "csrf_token": token, "attachments": (io.BytesIO(b"%PDF-1.4 x"), "label.pdf")})  # fmt: skip
    assert refused.status_code == 422
    assert "files cannot be sent on this channel" in refused.get_data(as_text=True)
    assert count(OutboxItem) == 0


def test_the_composer_says_beforehand_when_a_window_has_closed(agent_client, platform):
    closed = customer_wrote("whatsapp", "+4915112345678", ago=timedelta(hours=25))
    page = agent_client.get(f"/tickets/{closed.number}").get_data(as_text=True)
    assert 'data-window-notice="whatsapp"' in page
    assert "outside the 24-hour window" in page
    tagged = customer_wrote("instagram", IGSID, ago=timedelta(days=3))
    page = agent_client.get(f"/tickets/{tagged.number}").get_data(as_text=True)
    assert 'data-window-notice="instagram"' in page and "human agent tag" in page
    fresh = customer_wrote("messenger", PSID, ago=timedelta(hours=1))
    page = agent_client.get(f"/tickets/{fresh.number}").get_data(as_text=True)
    assert "data-window-notice" not in page


def test_the_social_team_answers_a_dm_from_the_webhook_to_the_send_api(app, platform):
    """The whole way: a signed Instagram webhook, the social media manager's reply in the
    composer, the worker's request to the Send API, and the echo recognised."""
    from tests.conftest import signed_in_client

    social = signed_in_client(app, "social")
    event = {"sender": {"id": IGSID}, "recipient": {"id": "1784"},
             "timestamp": int(datetime.now(UTC).timestamp() * 1000),
             "message": {"mid": "ig_in_1", "text": "Is the green dress back?"}}  # fmt: skip
    body = {"object": "instagram", "entry": [{"id": "1784", "time": 1, "messaging": [event]}]}
    assert post_meta(social, body).status_code == 200
    ticket = db.session.scalars(select(Ticket)).one()
    assert compose(social, ticket, "Yes, since this morning!", "instagram").status_code == 302
    platform.answer(200, {"recipient_id": IGSID, "message_id": "ig_out_9"})
    assert deliver_due() == {"sent": 1}
    assert platform.requests[0]["json"]["recipient"] == {"id": IGSID}
    echo = {"sender": {"id": "1784"}, "recipient": {"id": IGSID}, "timestamp": 2,
            "message": {"is_echo": True, "mid": "ig_out_9", "text": "Yes!"}}  # fmt: skip
    answer = post_meta(social, {"object": "instagram", "entry": [
        {"id": "1784", "time": 2, "messaging": [echo]}]}).get_json()  # fmt: skip
    assert answer["our_echoes"] == 1
    assert count(Message) == 2
