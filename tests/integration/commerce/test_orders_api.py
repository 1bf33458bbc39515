"""The REST API for shop systems: bearer tokens with roles, order upsert, return transitions."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from helpdesk.api import issue_token
from helpdesk.extensions import db
from helpdesk.models import ApiToken, Event, Order, OrderItem, Return
from helpdesk.models.types import utcnow
from helpdesk.services.returns import ReturnLine, register_return
from tests import factories
from tests.conftest import make_user

ORDER = {
    "number": "100457",
    "external_id": "5839201746211",
    "email": "helga.brandt@example.de",
    "name": "Helga Brandt",
    "currency": "EUR",
    "placed_at": "2024-11-03T14:22:10+01:00",
    "items": [
        {
            "external_id": "L1",
            "sku": "SHOE-BLK-40",
            "name": "Sneaker Lauf",
            "size": "40",
            "quantity": 1,
            "price": 89.95,
        },
        {
            "external_id": "L2",
            "sku": "SHIRT-WHT-M",
            "name": "T-Shirt Basic",
            "size": "M",
            "quantity": 2,
            "price": "19.95",
        },
    ],
    "invoices": [{"number": "RE-100457", "amount": "129.85", "due_date": "2024-11-17"}],
}


def token_for(role: str, name: str = "shop ERP") -> str:
    user = make_user(role, f"{role}-api@shop.example")
    token = issue_token(user, name)
    db.session.commit()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin_token(app) -> str:
    return token_for("admin")


def error(response) -> dict:
    return response.get_json()["error"]


def test_an_admin_token_creates_an_order_then_updates_it_in_place(client, admin_token):
    created = client.post("/api/v1/orders", json=ORDER, headers=bearer(admin_token))

    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.headers["Location"].endswith("/api/v1/orders/100457?shop=default")
    body = created.get_json()
    assert body["outcome"] == "created"
    assert [i["price"] for i in body["order"]["items"]] == ["89.95", "19.95"]
    assert body["order"]["total"] == "129.85"
    order = db.session.scalar(select(Order))
    assert [i.price_cents for i in order.items] == [8995, 1995]
    assert order.customer.identity("email") == "helga.brandt@example.de"

    same = client.post("/api/v1/orders", json=ORDER, headers=bearer(admin_token))
    assert same.status_code == 200 and same.get_json()["outcome"] == "unchanged"

    paid = {
        **ORDER,
        "financial_status": "paid",
        "invoices": [{"number": "RE-100457", "status": "paid"}],
    }
    updated = client.post("/api/v1/orders", json=paid, headers=bearer(admin_token))
    assert updated.status_code == 200
    assert updated.get_json()["outcome"] == "updated"
    assert updated.get_json()["order"]["invoices"][0]["amount_due"] == "0.00"
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert db.session.scalar(select(func.count()).select_from(OrderItem)) == 2
    kinds = db.session.scalars(select(Event.kind).where(Event.kind.like("order.%"))).all()
    assert kinds == ["order.created", "order.updated"]


def test_an_order_can_be_read_back_with_its_invoice_hold(client, admin_token):
    order = factories.order()
    register_return(order, [ReturnLine(order.items[0], 1, "too_small")], source="portal")
    db.session.commit()

    response = client.get("/api/v1/orders/100457", headers=bearer(admin_token))

    assert response.status_code == 200
    shown = response.get_json()["order"]
    assert shown["invoices"][0]["on_hold"] is True
    assert shown["invoices"][0]["hold_amount"] == "89.95"
    assert shown["returns"][0]["status"] == "requested"
    missing = client.get("/api/v1/orders/999999", headers=bearer(admin_token))
    assert missing.status_code == 404 and error(missing)["code"] == "not_found"


def test_bad_order_data_is_refused_by_field_and_nothing_is_stored(client, admin_token):
    bad = {**ORDER, "items": [{"sku": "A", "price": "12.345"}]}
    response = client.post("/api/v1/orders", json=bad, headers=bearer(admin_token))
    assert response.status_code == 422
    assert error(response) == {
        "code": "invalid_order",
        "message": "items[0].price: 12.345 has more than two decimal places",
    }
    not_json = client.post(
        "/api/v1/orders",
        data="number=1",
        headers=bearer(admin_token),
        content_type="application/x-www-form-urlencoded",
    )
    assert not_json.status_code == 400 and error(not_json)["code"] == "bad_request"
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "send Authorization: Bearer <token>"),
        ({"Authorization": "Basic YWRtaW46ZGVtbw=="}, "send Authorization: Bearer <token>"),
        ({"Authorization": "Bearer hd_not-a-token"}, "unknown token"),
    ],
)
def test_requests_without_a_valid_token_are_refused(client, admin_token, headers, message):
    response = client.post("/api/v1/orders", json=ORDER, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert error(response) == {"code": "unauthorized", "message": message}
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_revoked_token_is_refused_and_use_is_recorded(client, admin_token):
    token = db.session.scalar(select(ApiToken))
    assert token.last_used_at is None
    assert client.get("/api/v1/orders/1", headers=bearer(admin_token)).status_code == 404
    db.session.expire_all()
    assert token.last_used_at is not None

    token.revoked_at = utcnow()
    db.session.commit()
    response = client.post("/api/v1/orders", json=ORDER, headers=bearer(admin_token))
    assert response.status_code == 401
    assert error(response)["message"] == "this token was revoked"


def test_only_the_hash_of_a_token_is_stored(app, admin_token):
    stored = db.session.scalar(select(ApiToken.token_sha256))
    assert stored == hashlib.sha256(admin_token.encode()).hexdigest()
    assert admin_token not in stored


@pytest.mark.parametrize("role", ["agent", "lead", "social"])
def test_orders_need_the_admin_role(client, role):
    token = token_for(role)
    response = client.post("/api/v1/orders", json=ORDER, headers=bearer(token))
    assert response.status_code == 403
    assert error(response) == {
        "code": "forbidden",
        "message": f"this needs the role admin, not {role}",
    }
    assert client.get("/api/v1/orders/100457", headers=bearer(token)).status_code == 403


def test_a_signed_in_browser_session_is_not_a_token(admin_client):
    response = admin_client.post("/api/v1/orders", json=ORDER)
    assert response.status_code == 401


def registered_return() -> Return:
    order = factories.order()
    return_ = register_return(order, [ReturnLine(order.items[0], 1, "too_small")])
    db.session.commit()
    return return_


@pytest.mark.parametrize("role", ["agent", "lead", "admin"])
def test_the_warehouse_moves_a_return_along(client, role):
    return_ = registered_return()
    token = token_for(role, "warehouse")
    url = f"/api/v1/returns/{return_.id}/transitions"

    moving = client.post(
        url,
        headers=bearer(token),
        json={"status": "in_transit", "carrier": "DHL", "tracking_number": "00340434161094015902"},
    )
    assert moving.status_code == 200, moving.get_data(as_text=True)
    assert moving.get_json()["return"]["status"] == "in_transit"
    assert moving.get_json()["changed"] is True
    received = client.post(
        f"/api/v1/returns/{return_.number}/transitions",
        headers=bearer(token),
        json={"status": "received"},
    )
    assert received.status_code == 200
    refunded = client.post(
        url,
        headers=bearer(token),
        json={"status": "refunded", "refund_cents": 8000, "note": "Sohle verschmutzt"},
    )
    assert refunded.status_code == 200
    db.session.expire_all()
    assert return_.status == "refunded" and return_.refund_cents == 8000
    assert return_.note == "Sohle verschmutzt"
    assert return_.tracking_number == "00340434161094015902"
    user = db.session.scalar(select(ApiToken)).user
    actors = db.session.scalars(select(Event.actor).where(Event.kind == "return.received")).all()
    assert actors == [f"user:{user.id}"]


def test_an_illegal_transition_is_409_with_the_allowed_steps(client):
    return_ = registered_return()
    token = token_for("agent")
    response = client.post(
        f"/api/v1/returns/{return_.id}/transitions",
        headers=bearer(token),
        json={"status": "refunded"},
    )
    assert response.status_code == 409
    assert error(response) == {
        "code": "illegal_transition",
        "message": f"return {return_.number} is requested; it can go to label_created, "
        "in_transit, received, rejected, not refunded",
    }
    db.session.expire_all()
    assert return_.status == "requested"


def test_return_transitions_refuse_social_and_bad_input(client):
    return_ = registered_return()
    url = f"/api/v1/returns/{return_.id}/transitions"
    social = client.post(url, headers=bearer(token_for("social")), json={"status": "received"})
    assert social.status_code == 403 and error(social)["code"] == "forbidden"
    agent = bearer(token_for("agent"))
    assert client.post(url, headers=agent, json={}).status_code == 422
    negative = client.post(url, headers=agent, json={"status": "received", "refund_cents": -5})
    assert negative.status_code == 422 and "refund_cents" in error(negative)["message"]
    missing = client.post(
        "/api/v1/returns/999999/transitions", headers=agent, json={"status": "received"}
    )
    assert missing.status_code == 404
    db.session.expire_all()
    assert return_.status == "requested"


def test_users_token_prints_a_working_token_once(app, client):
    make_user("admin", "erp@shop.example")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "token", "erp@shop.example", "--name", "ERP"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("hd_") and "shown only now" in result.stderr
    assert client.post("/api/v1/orders", json=ORDER, headers=bearer(token)).status_code == 201
    unknown = runner.invoke(args=["users", "token", "nobody@shop.example", "--name", "x"])
    assert unknown.exit_code == 1 and "no user nobody@shop.example" in unknown.stderr

    revoked = runner.invoke(args=["users", "revoke-token", "erp@shop.example", "--name", "ERP"])
    assert revoked.exit_code == 0 and "revoked 1 token(s) 'ERP'" in revoked.stdout
    refused = client.post("/api/v1/orders", json=ORDER, headers=bearer(token))
    assert refused.status_code == 401
