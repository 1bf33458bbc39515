"""WhatsApp Cloud API at /webhooks/whatsapp (with the public pywa samples from
../shared/data) and X DMs at /webhooks/x (CRC and signature)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from channel_adapters.social.common import x_signature
from helpdesk.extensions import db
from helpdesk.models import CustomerIdentity, InboundDelivery, Message, QuarantinedInput
from tests.integration.social.conftest import (
    CONSUMER_SECRET,
    WHATSAPP_VERIFY_TOKEN,
    post_meta,
    post_x,
)

SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "data" / "webhooks" / "whatsapp-pywa"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def sample_dir() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"the public WhatsApp samples are not at {SAMPLES}")
    return SAMPLES


def sample(file: str, name: str) -> dict:
    return json.loads((sample_dir() / f"{file}.json").read_text())[name]


def post_whatsapp(client, payload, **kwargs):
    return post_meta(client, payload, path="/webhooks/whatsapp", **kwargs)


# --- WhatsApp ---------------------------------------------------------------------------------


def test_whatsapp_handshake_uses_its_own_token(client, social_config):
    ok = {"hub.mode": "subscribe", "hub.verify_token": WHATSAPP_VERIFY_TOKEN, "hub.challenge": "77"}
    assert client.get("/webhooks/whatsapp", query_string=ok).get_data(as_text=True) == "77"
    meta_token = {**ok, "hub.verify_token": "verify-token-for-tests"}
    assert client.get("/webhooks/whatsapp", query_string=meta_token).status_code == 403


def test_a_real_whatsapp_text_is_stored_under_the_phone_number(client, social_config):
    response = post_whatsapp(client, sample("message", "text"))
    assert response.status_code == 200
    message = db.session.scalars(select(Message)).one()
    assert (message.channel, message.external_id, message.text) == (
        "whatsapp", "wamid.xyzxyz", "Body Text")  # fmt: skip
    assert message.details["recipient"] == "1122334455667"  # the number the reply leaves from
    identity = db.session.scalars(select(CustomerIdentity)).one()
    assert (identity.kind, identity.value, identity.display_name) == (
        "phone", "+972987654321", "Test Name")  # fmt: skip


def test_the_same_wamid_again_is_not_stored_twice(client, social_config):
    first = sample("message", "text")
    assert post_whatsapp(client, first).status_code == 200
    # The samples share one message id: another body with it is a redelivery.
    redelivered = sample("message", "forwarded")
    answer = post_whatsapp(client, redelivered).get_json()
    assert (answer["stored"], answer["duplicates"]) == (0, 1)
    assert count(Message) == 1


def test_every_kind_of_real_update_is_acknowledged(client, social_config):
    """Account, template and call notices, statuses, deletions, system notices: 200, and
    no message or quarantined body comes of them."""
    sent = 0
    for file in ("account_update", "template_status_update", "message_status", "system",
                 "deleted_message", "call_status"):  # fmt: skip
        for name in json.loads((SAMPLES / f"{file}.json").read_text()) if sample_dir() else ():
            response = post_whatsapp(client, sample(file, name))
            assert response.status_code == 200, (file, name, response.get_json())
            sent += 1
    assert sent > 20
    assert count(Message) == 0
    assert count(QuarantinedInput) == 0


def test_a_wrong_whatsapp_signature_is_403_and_stores_nothing(client, social_config):
    response = post_whatsapp(client, sample("message", "text"), secret="not-the-app-secret")
    assert response.status_code == 403
    assert count(Message) == count(InboundDelivery) == count(QuarantinedInput) == 0


def test_a_whatsapp_body_of_another_object_is_400(client, social_config):
    body = copy.deepcopy(sample("message", "text"))
    body["object"] = "instagram_business_account"
    response = post_whatsapp(client, body)
    assert response.status_code == 400
    assert "whatsapp_business_account" in response.get_json()["error"]["message"]


# --- X ----------------------------------------------------------------------------------------


def dm(event_id: str, sender: str, recipient: str, words: str) -> dict:
    return {
        "for_user_id": "4337869213",
        "direct_message_events": [{
            "type": "message_create", "id": event_id, "created_timestamp": "1733390000000",
            "message_create": {"target": {"recipient_id": recipient}, "sender_id": sender,
                               "message_data": {"text": words, "entities": {}}}}],
        "users": {"3001969357": {"id": "3001969357", "name": "Jordan Brinks",
                                 "screen_name": "furiouscamper"}},
    }  # fmt: skip


def test_the_crc_check_is_answered_with_the_hmac_of_the_token(client, social_config):
    response = client.get("/webhooks/x", query_string={"crc_token": "challenge-123"})
    assert response.status_code == 200
    # printf challenge-123 | openssl dgst -sha256 -hmac x-consumer-secret-for-tests -binary | base64
    assert response.get_json() == {"response_token": x_signature(CONSUMER_SECRET, b"challenge-123")}
    assert client.get("/webhooks/x").status_code == 400


def test_x_is_optional(client):
    assert client.get("/webhooks/x", query_string={"crc_token": "a"}).status_code == 503
    assert post_x(client, dm("1", "3001969357", "4337869213", "Hi")).status_code == 503


def test_an_x_dm_is_stored_and_our_own_is_not(client, social_config):
    answer = post_x(client, dm("9544918301", "3001969357", "4337869213", "Where is my refund?"))
    assert answer.status_code == 200
    message = db.session.scalars(select(Message)).one()
    assert (message.channel, message.counterpart, message.text) == (
        "x", "3001969357", "Where is my refund?")  # fmt: skip
    assert message.ticket.customer.name == "Jordan Brinks"
    ours = post_x(client, dm("9544918302", "4337869213", "3001969357", "It is on its way."))
    assert ours.status_code == 200 and ours.get_json()["echoes"] == 1
    assert count(Message) == 1


@pytest.mark.parametrize("signature", ["", "sha256=AAAA", x_signature("other", b"{}")])
def test_a_bad_x_signature_stores_nothing(client, social_config, signature):
    response = post_x(client, dm("1", "3001969357", "4337869213", "Hi"), signature=signature)
    assert response.status_code in (401, 403)
    assert count(Message) == count(InboundDelivery) == 0
