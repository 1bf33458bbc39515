"""Guessing passwords gets nowhere: failed sign-ins are counted per account and per
address, and past the limit sign-in pauses for a while, even with the right password.

Failures are events on the trail (kind "login.failed"), so the count is the same in
every gunicorn worker and survives restarts, and an admin can read who tried. A
failure for an address that has no account counts the same as one that has, so the
answers never tell whether an account exists. A successful sign-in clears the
account's count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Event, User
from helpdesk.models.types import utcnow
from helpdesk.services.events import record_event

#: Password rules for new passwords (users create, admin pages).
MIN_PASSWORD_LENGTH = 12
_COMMON = {
    "passwort1234", "password1234", "123456789012", "qwertzuiop12", "qwertyuiop12",
    "hallohallo12", "letmein12345", "willkommen12", "welcome12345", "sommer2026!!",
    "summer2026!!", "helpdesk1234", "kundenservice", "customerservice",
}  # fmt: skip


@dataclass(frozen=True)
class Lockout:
    until: datetime


def _limits() -> tuple[int, int, timedelta]:
    config = current_app.config
    return (
        int(config.get("LOGIN_FAILURES_PER_ACCOUNT", 5)),
        int(config.get("LOGIN_FAILURES_PER_ADDRESS", 30)),
        timedelta(minutes=int(config.get("LOGIN_LOCKOUT_MINUTES", 15))),
    )


def lockout(email: str, ip: str | None, *, now: datetime | None = None) -> Lockout | None:
    """Whether sign-in for `email` from `ip` is paused, and until when."""
    now = now or utcnow()
    per_account, per_address, window = _limits()
    since = now - window
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is not None and user.last_login_at and user.last_login_at > since:
        since = user.last_login_at  # the owner got in since: earlier guesses are forgiven
    for key, value, limit, start in (
        ("email", email, per_account, since),
        ("ip", ip, per_address, now - window),
    ):
        if not value:
            continue
        stamps = db.session.scalars(
            select(Event.created_at)
            .where(
                Event.kind == "login.failed",
                Event.created_at > start,
                Event.data[key].as_string() == value,
            )
            .order_by(Event.created_at.desc())
            .limit(limit)
        ).all()
        if len(stamps) >= limit:
            return Lockout(until=stamps[-1] + window)
    return None


def record_failure(email: str, ip: str | None) -> None:
    record_event("login.failed", actor="login", email=email, ip=ip)


def password_problem(password: str, email: str = "") -> str | None:
    """Why `password` is not good enough, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"use at least {MIN_PASSWORD_LENGTH} characters"
    lowered = password.lower()
    local = email.split("@")[0].lower()
    if lowered in _COMMON or len(set(lowered)) < 5:
        return "this password is too easy to guess; a few unrelated words work well"
    if local and len(local) >= 4 and local in lowered:
        return "do not use your e-mail address in the password"
    return None
