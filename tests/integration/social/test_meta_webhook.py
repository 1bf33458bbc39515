"""Messenger and Instagram at /webhooks/meta: the handshake, signatures, bad input, and
messages stored once, with echoes and receipts recognised. Bodies are built as Meta
documents them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from channel_adapters.social.common import hub_signature
from helpdesk.extensions import db
from helpdesk.models import (
    Customer,
    CustomerIdentity,
    Event,
    InboundDelivery,
    Message,
    QuarantinedInput,
    Ticket,
)
from tests.integration.social.conftest import APP_SECRET, VERIFY_TOKEN, post_meta

PAGE = "104365328934221"
PSID = "7214563827491023"
T0 = 1733390000000


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stored() -> dict[str, int]:
    return {m.__name__: count(m) for m in (Message, Ticket, Customer, InboundDelivery,
                                            QuarantinedInput, Event)}  # fmt: skip


def messenger(*events, kind: str = "page", account: str = PAGE) -> dict:
    return {"object": kind, "entry": [{"id": account, "time": T0, "messaging": list(events)}]}


def text(mid: str, words: str, *, sender: str = PSID, at: int = T0) -> dict:
    return {"sender": {"id": sender}, "recipient": {"id": PAGE}, "timestamp": at,
            "message": {"mid": mid, "text": words}}  # fmt: skip


# --- the handshake ----------------------------------------------------------------------------


def test_the_verification_handshake_echoes_the_challenge(client, social_config):
    args = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    response = client.get("/webhooks/meta", query_string=args)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "1158201444"
    assert response.mimetype == "text/plain"


@pytest.mark.parametrize(
    "args",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
def test_a_wrong_verify_token_is_403(client, social_config, args):
    response = client.get("/webhooks/meta", query_string=args)
    assert response.status_code == 403
    assert response.get_data(as_text=True) != "1"


def test_without_configuration_the_endpoint_says_what_to_set(client):
    assert client.get("/webhooks/meta", query_string={"hub.mode": "subscribe"}).status_code == 503
    response = post_meta(client, messenger(text("m_1", "Hallo")))
    assert response.status_code == 503
    assert "HELPDESK_META_APP_SECRET" in response.get_json()["error"]["message"]
    assert stored()["Message"] == 0


# --- signatures and bad input ---------------------------------------------------------------


def test_a_missing_signature_is_401_and_a_wrong_one_403_and_nothing_is_stored(
    client, social_config
):
    body = json.dumps(messenger(text("m_1", "Hallo"))).encode()
    empty = stored()
    assert post_meta(client, body, signature="").status_code == 401
    assert post_meta(client, body, secret="another-secret").status_code == 403
    assert post_meta(client, body, signature="sha256=" + "0" * 64).status_code == 403
    tampered = body.replace(b"Hallo", b"Hallx")  # signed before it was changed
    response = post_meta(client, tampered, signature=hub_signature(APP_SECRET, body))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert stored() == empty == dict.fromkeys(empty, 0)


def test_malformed_json_is_400_with_the_reason_and_kept_in_quarantine(client, social_config):
    raw = b'{"object": "page", "entry": [{"id": "1", '
    response = post_meta(client, raw)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_json" and "not JSON" in error["message"]
    kept = db.session.scalars(select(QuarantinedInput)).one()
    assert (kept.channel, kept.data) == ("meta", raw)
    assert count(Message) == 0


def test_a_body_in_the_wrong_shape_is_400_and_quarantined(client, social_config):
    response = post_meta(client, {"object": "page", "entry": {"messaging": []}})
    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "invalid", "message": "entry must be a list"}
    assert db.session.scalars(select(QuarantinedInput)).one().reason == "entry must be a list"


def test_an_unreadable_event_is_quarantined_and_the_rest_stored(client, social_config):
    """Meta would resend a refused body forever: the readable messages are stored, the
    event that cannot be read is kept in the quarantine, and the answer says so."""
    no_mid = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": T0,
              "message": {"text": "ohne mid"}}  # fmt: skip
    response = post_meta(client, messenger(no_mid, text("m_ok", "Hallo")))
    assert response.status_code == 200
    assert (response.get_json()["stored"], response.get_json()["rejected"]) == (1, 1)
    kept = db.session.scalars(select(QuarantinedInput)).one()
    assert kept.reason == "entry[0].messaging[0].message.mid is missing"
    assert json.loads(kept.data) == no_mid
    assert db.session.scalars(select(Message.external_id)).all() == ["m_ok"]


def test_an_oversized_body_is_413_and_stores_nothing(client, social_config, monkeypatch):
    monkeypatch.setitem(client.application.config, "SOCIAL_WEBHOOK_MAX_BYTES", 2000)
    big = messenger(text("m_big", "x" * 3000))
    response = post_meta(client, big)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert stored() == dict.fromkeys(stored(), 0)


# --- messages ---------------------------------------------------------------------------------


def test_a_message_is_stored_on_a_ticket_then_answered_200(client, social_config):
    response = post_meta(client, messenger(text("m_1", "Hallo, wo bleibt Bestellung 100457?")))
    assert response.status_code == 200
    assert response.get_json()["stored"] == 1
    message = db.session.scalars(select(Message)).one()
    assert (message.channel, message.external_id, message.direction) == (
        "messenger", "m_1", "inbound")  # fmt: skip
    assert message.counterpart == PSID
    assert message.thread_key == f"{PAGE}:{PSID}"
    assert json.loads(message.raw_source.data)["message"]["text"].startswith("Hallo")
    identity = db.session.scalars(select(CustomerIdentity)).one()
    assert (identity.kind, identity.value) == ("messenger", PSID)
    assert message.ticket.channel == "messenger"


def test_a_redelivery_stores_nothing_new(client, social_config):
    body = messenger(text("m_1", "Hallo"))
    assert post_meta(client, body).status_code == 200
    before = stored()
    again = post_meta(client, body)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    # The same message in another batch (Meta retries may batch differently): still one.
    other_batch = messenger(text("m_1", "Hallo"), text("m_2", "Noch da?"))
    answer = post_meta(client, other_batch).get_json()
    assert (answer["stored"], answer["duplicates"]) == (1, 1)
    assert count(Message) == before["Message"] + 1
    assert count(Ticket) == 1  # the second message joined the conversation's ticket
    # The first try (without ingest's savepoints) failed on m_1 and was rolled back whole:
    # nothing of it is left twice.
    received = select(func.count()).where(Event.kind == "message.received")
    assert db.session.scalar(received) == count(Message) == 2
    assert count(InboundDelivery) == 2


def test_instagram_story_reply_and_mention_land_on_one_ticket(client, social_config):
    story = {
        "sender": {"id": "IGSID7"},
        "recipient": {"id": "1784"},
        "timestamp": T0,
        "message": {
            "mid": "ig_1",
            "text": "Gibt es das Kleid in 38?",
            "reply_to": {"story": {"id": "99", "url": "https://cdn.example/s"}},
        },
    }
    mention = {
        "sender": {"id": "IGSID7"},
        "recipient": {"id": "1784"},
        "timestamp": T0 + 1,
        "message": {
            "mid": "ig_2",
            "attachments": [{"type": "story_mention", "payload": {"url": "https://cdn.example/m"}}],
        },
    }
    response = post_meta(client, messenger(story, mention, kind="instagram", account="1784"))
    assert response.status_code == 200
    first, second = db.session.scalars(select(Message).order_by(Message.id)).all()
    assert first.ticket_id == second.ticket_id
    assert first.details["story"]["kind"] == "reply"
    assert second.details["story"] == {"kind": "mention", "url": "https://cdn.example/m"}
    assert first.ticket.channel == "instagram"


def test_echoes_and_unknown_events_are_acknowledged_without_storing(client, social_config):
    echo = {
        "sender": {"id": PAGE},
        "recipient": {"id": PSID},
        "timestamp": T0,
        "message": {"is_echo": True, "app_id": 1, "mid": "m_from_page", "text": "Hi"},
    }
    reaction = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE},
        "timestamp": T0,
        "reaction": {"mid": "m_x", "action": "react", "reaction": "love"},
    }
    novel = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": T0,
             "something_new": {}}  # fmt: skip
    response = post_meta(client, messenger(echo, reaction, novel))
    assert response.status_code == 200
    answer = response.get_json()
    assert (answer["stored"], answer["echoes"], answer["our_echoes"]) == (0, 1, 0)
    assert answer["skipped"] == {"reaction": 1, "something_new": 1}
    assert count(Message) == 0
    assert db.session.scalars(select(InboundDelivery)).one().outcome["skipped"]["reaction"] == 1


def test_the_same_delivery_sent_concurrently_is_stored_once(app, social_config):
    """Meta retries while the first attempt is still running: every copy is answered 200
    (after the first is stored), and the store holds the message once."""
    import threading

    body = json.dumps(messenger(text("m_race", "Doppelt?"), text("m_race_2", "Dreifach?")))
    answers: list[int] = []
    failures: list[BaseException] = []

    def deliver() -> None:
        try:
            answers.append(post_meta(app.test_client(), body.encode()).status_code)
        except BaseException as error:  # reported to the test thread below
            failures.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert answers == [200] * 6
    assert count(Message) == 2
    assert count(Ticket) == 1
    assert count(InboundDelivery) == 1


def test_a_quarantined_copy_is_resolved_when_the_body_goes_through(client, social_config):
    """E.g. after a parser fix, the platform's retry of a quarantined body succeeds."""
    from helpdesk.services.mail_intake import quarantine

    raw = json.dumps(messenger(text("m_fixed", "Jetzt klappt es"))).encode()
    quarantine("meta", raw, reason="an older parser refused it", source="meta webhook",
               content_type="application/json")  # fmt: skip
    db.session.commit()
    assert post_meta(client, raw).status_code == 200
    db.session.expire_all()
    kept = db.session.scalars(select(QuarantinedInput)).one()
    assert kept.resolved_at is not None
    assert count(Message) == 1


def test_a_body_resolves_only_its_own_quarantined_copy(client, social_config):
    """The delivery record and the release share one statement on PostgreSQL: another
    body's quarantined copy stays as it was, every field of it."""
    from helpdesk.services.mail_intake import quarantine

    other = json.dumps(messenger(text("m_other", "Kaputt"))).encode()
    quarantine("meta", other, reason="unreadable", source="meta webhook",
               content_type="application/json")  # fmt: skip
    db.session.commit()
    assert post_meta(client, messenger(text("m_fine", "Alles gut"))).status_code == 200
    db.session.expire_all()
    kept = db.session.scalars(select(QuarantinedInput)).one()
    assert (kept.resolved_at, kept.source, kept.reason) == (None, "meta webhook", "unreadable")
    delivery = db.session.scalars(select(InboundDelivery)).one()
    assert (delivery.source, delivery.outcome["stored"]) == ("meta", 1)
    assert delivery.delivery_id.startswith("sha256:") and delivery.received_at is not None
