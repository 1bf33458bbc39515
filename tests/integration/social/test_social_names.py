"""The worker names Messenger and Instagram customers from the Graph API's profile answer
(a local server that checks path, fields and token), once per identity."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Customer, CustomerIdentity
from helpdesk.services.social_names import lookup_names
from tests.integration.social.conftest import VERSION, post_meta


def dm(object_: str, sender: str, mid: str, text: str = "Hallo, wo ist mein Paket?") -> dict:
    event = {"sender": {"id": sender}, "recipient": {"id": "17841400000000000"},
             "timestamp": 1764930000000, "message": {"mid": mid, "text": text}}  # fmt: skip
    return {"object": object_, "entry": [{"id": "17841400000000000", "time": 1764930000000,
                                          "messaging": [event]}]}  # fmt: skip


def identity(value: str) -> CustomerIdentity:
    return db.session.scalar(select(CustomerIdentity).where(CustomerIdentity.value == value))


def test_names_come_from_the_profile_once_per_identity(app, client, platform):
    assert post_meta(client, dm("page", "1111222233334444", "m_1")).status_code == 200
    assert post_meta(client, dm("instagram", "5555666677778888", "m_2")).status_code == 200
    assert post_meta(client, dm("page", "9999000011112222", "m_3")).status_code == 200
    platform.profiles["1111222233334444"] = (200, {"first_name": "Jana", "last_name": "Krüger",
                                                   "id": "1111222233334444"})  # fmt: skip
    platform.profiles["5555666677778888"] = (200, {"name": "", "username": "sneaker.sam"})
    # 9999...: Graph refuses (the user blocked the page): asked once, then left alone.

    counts = lookup_names()
    db.session.commit()
    assert counts == {"named": 2, "refused": 1}
    gets = [r for r in platform.requests if r["method"] == "GET"]
    assert sorted(r["path"] for r in gets) == [
        f"/{VERSION}/1111222233334444", f"/{VERSION}/5555666677778888",
        f"/{VERSION}/9999000011112222"]  # fmt: skip
    by_path = {r["path"]: r["query"] for r in gets}
    assert by_path[f"/{VERSION}/1111222233334444"] == "fields=first_name%2Clast_name"
    assert by_path[f"/{VERSION}/5555666677778888"] == "fields=name%2Cusername"

    db.session.expire_all()
    jana = identity("1111222233334444")
    assert jana.display_name == "Jana Krüger"
    assert db.session.get(Customer, jana.customer_id).name == "Jana Krüger"
    assert identity("5555666677778888").display_name == "sneaker.sam"
    refused = identity("9999000011112222")
    assert refused.display_name == ""
    assert db.session.get(Customer, refused.customer_id).name is None
    # The inbox shows the name instead of the id.
    from tests.conftest import log_in, make_user

    make_user("agent")
    log_in(client, "agent@shop.example")
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "Jana Krüger" in inbox and "sneaker.sam" in inbox

    # Nobody is asked twice.
    assert lookup_names() == {}
    assert len([r for r in platform.requests if r["method"] == "GET"]) == 3


def test_a_name_an_agent_wrote_stays_and_outages_are_asked_again(app, client, platform):
    post_meta(client, dm("page", "1212121212121212", "m_4"))
    customer = db.session.get(Customer, identity("1212121212121212").customer_id)
    customer.name = "Frau Yilmaz"  # an agent's edit
    db.session.commit()
    platform.profiles["1212121212121212"] = (503, {"error": {"message": "busy", "code": 2}})
    assert lookup_names() == {"later": 1}
    db.session.commit()
    assert identity("1212121212121212").display_name is None  # asked again next run

    platform.profiles["1212121212121212"] = (200, {"first_name": "Ayse", "last_name": "Yilmaz"})
    assert lookup_names() == {"named": 1}
    db.session.commit()
    db.session.expire_all()
    assert identity("1212121212121212").display_name == "Ayse Yilmaz"
    assert db.session.get(Customer, customer.id).name == "Frau Yilmaz"


def test_without_a_token_nothing_is_asked(app, client, social_config):
    post_meta(client, dm("page", "3434343434343434", "m_5"))
    assert lookup_names() == {}
    assert identity("3434343434343434").display_name is None
