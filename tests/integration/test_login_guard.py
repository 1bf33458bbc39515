"""Guessing passwords gets nowhere, and the answers never say whether an account exists."""

from __future__ import annotations

from datetime import timedelta

from helpdesk.models.types import utcnow
from helpdesk.services.login_guard import password_problem
from tests.conftest import PASSWORD, csrf_token, make_user


def attempt(client, email: str, password: str, ip: str = "198.51.100.7"):
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_five_wrong_passwords_pause_the_account_even_for_the_right_one(app, client):
    make_user("agent")
    for _ in range(5):
        assert attempt(client, "agent@shop.example", "wrong guess").status_code == 401
    paused = attempt(client, "agent@shop.example", PASSWORD)
    assert paused.status_code == 429
    assert "Please try again in 15 minutes" in paused.get_data(as_text=True)
    assert paused.headers["Retry-After"] == "900"
    # Another account from another address is not affected.
    make_user("lead")
    assert attempt(client, "lead@shop.example", PASSWORD, ip="203.0.113.5").status_code == 302


def test_unknown_accounts_are_paused_alike(app, client):
    for _ in range(5):
        assert attempt(client, "nobody@shop.example", "guess").status_code == 401
    assert attempt(client, "nobody@shop.example", "guess").status_code == 429


def test_one_address_trying_many_accounts_is_paused(app, client):
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = 8
    try:
        for n in range(8):
            attempt(client, f"user{n}@shop.example", "guess")
        make_user("agent")
        assert attempt(client, "agent@shop.example", PASSWORD).status_code == 429
        assert attempt(client, "agent@shop.example", PASSWORD, ip="192.0.2.1").status_code == 302
    finally:
        app.config.pop("LOGIN_FAILURES_PER_ADDRESS")


def test_a_successful_sign_in_clears_the_accounts_count(app, client):
    user = make_user("agent")
    for _ in range(4):
        attempt(client, "agent@shop.example", "wrong guess")
    assert attempt(client, "agent@shop.example", PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/inbox")})
    user.last_login_at = utcnow() + timedelta(seconds=1)  # the sign-in above, made certain
    for _ in range(4):
        assert attempt(client, "agent@shop.example", "wrong guess").status_code == 401
    assert attempt(client, "agent@shop.example", PASSWORD).status_code == 302


def test_password_rules():
    assert password_problem("short", "a@b.c") == "use at least 12 characters"
    assert "too easy" in password_problem("aaaaaaaaaaaaaa")
    assert "too easy" in password_problem("Passwort1234")
    assert "e-mail address" in password_problem("julia.brandt-2026", "julia.brandt@shop.example")
    assert password_problem("correct horse battery staple", "julia@shop.example") is None
