"""Login, CSRF and roles, as a browser would meet them."""

from __future__ import annotations

import pytest

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from tests.conftest import csrf_token, log_in, make_user
from tests.factories import inbound


def test_login_page_is_public_and_the_inbox_is_not(client):
    assert client.get("/login").status_code == 200
    response = client.get("/inbox")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=%2Finbox")
    assert client.get("/tickets/1").status_code == 302
    assert client.get("/healthz").json == {"status": "ok"}


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client):
    make_user("agent")
    wrong = log_in(client, "agent@shop.example", "nope")
    unknown = log_in(client, "nobody@shop.example")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "E-mail or password is wrong." in response.get_data(as_text=True)
    assert client.get("/inbox").status_code == 302


def test_inactive_user_cannot_sign_in(client):
    make_user("agent", active=False)
    assert log_in(client, "agent@shop.example").status_code == 401


def test_login_without_csrf_token_is_rejected(client):
    make_user("agent")
    response = client.post(
        "/login", data={"email": "agent@shop.example", "password": "correct horse battery"}
    )
    assert response.status_code == 400
    assert client.get("/inbox").status_code == 302


def test_login_then_inbox_then_logout(client):
    make_user("agent", name="Jana Agent")
    response = log_in(client, "Agent@Shop.example")
    assert response.headers["Location"] == "/inbox"
    page = client.get("/inbox").get_data(as_text=True)
    assert "Jana Agent" in page
    assert client.get("/logout").status_code == 405  # signing out changes state: POST only
    client.post("/logout", data={"csrf_token": csrf_token(client, "/inbox")})
    assert client.get("/inbox").status_code == 302


def test_login_redirects_only_within_the_site(client):
    make_user("agent")
    token = csrf_token(client)
    response = client.post(
        "/login?next=https://evil.example/",
        data={
            "email": "agent@shop.example",
            "password": "correct horse battery",
            "csrf_token": token,
        },
    )
    assert response.headers["Location"] == "/inbox"


def test_passwords_are_stored_hashed(app):
    user = make_user("agent")
    assert "correct horse battery" not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


@pytest.mark.parametrize(
    ("role", "status"), [("agent", 403), ("lead", 403), ("social", 403), ("admin", 200)]
)
def test_user_admin_page_is_for_admins_only(client, role, status):
    make_user(role)
    log_in(client, f"{role}@shop.example")
    assert client.get("/admin/users").status_code == status


def test_social_managers_see_social_tickets_only(client):
    email = ingest(inbound("email", "a@example.com", "Wo ist mein Paket?", subject="Paket"))
    dm = ingest(inbound("instagram", "1784100", "Paket?? 😡", thread_key="ig-1"))
    db.session.commit()
    make_user("social")
    log_in(client, "social@shop.example")

    page = client.get("/inbox").get_data(as_text=True)
    assert f"/tickets/{dm.ticket.number}" in page
    assert f"/tickets/{email.ticket.number}" not in page
    assert client.get(f"/tickets/{dm.ticket.number}").status_code == 200
    assert client.get(f"/tickets/{email.ticket.number}").status_code == 403


def test_ticket_page_shows_the_conversation_with_sanitised_html(agent_client):
    result = ingest(
        inbound(
            subject="Rücksendung",
            text="Hallo",
            html="<p>Hallo <b>Team</b><script>alert(1)</script></p>",
        )
    )
    db.session.commit()
    page = agent_client.get(f"/tickets/{result.ticket.number}").get_data(as_text=True)
    assert "Rücksendung" in page and "<b>Team</b>" in page
    assert "<script>alert(1)" not in page
    assert agent_client.get("/tickets/999999").status_code == 404
