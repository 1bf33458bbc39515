"""Login, logout, the language switch, and the role checks every other view uses."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from typing import TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired

from helpdesk.extensions import db
from helpdesk.models import User
from helpdesk.models.types import utcnow
from helpdesk.services.events import record_event
from helpdesk.services.login_guard import lockout, record_failure

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable)


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Stay signed in"))


def load_user(user_id: str) -> User | None:
    from helpdesk.web import live  # live's views need roles_required from here

    if live.is_live_page():  # the inbox and ticket pages: the top bar's figures come along
        return live.load_user_with_top_bar(int(user_id))
    return db.session.get(User, int(user_id))


def roles_required(*roles: str) -> Callable[[F], F]:
    """Let only signed-in users with one of `roles` (or admins) through; others get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def _safe_next(target: str | None) -> str:
    """Only ever redirect within this site after login."""
    if (
        target
        and not urlsplit(target).netloc
        and target.startswith("/")
        and not target.startswith("//")
    ):
        return target
    return url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        paused = lockout(email, request.remote_addr)
        if paused is not None:
            minutes = max(1, math.ceil((paused.until - utcnow()).total_seconds() / 60))
            flash(_l("Too many failed sign-ins. Please try again in %(minutes)d minutes.",
                     minutes=minutes), "error")  # fmt: skip
            db.session.commit()
            response = render_template("login.html", form=form), 429
            return (*response, {"Retry-After": str(minutes * 60)})
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if user is None or not user.check_password(form.password.data) or not user.active:
            record_failure(email, request.remote_addr)
            db.session.commit()
            flash(_l("E-mail or password is wrong."), "error")
            return render_template("login.html", form=form), 401
        login_user(user, remember=form.remember.data)
        user.last_login_at = utcnow()
        record_event("user.logged_in", user=user, ip=request.remote_addr)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_l("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/me/away")
@roles_required("agent", "lead", "social", "admin")
def set_away():
    """Agents step away and back themselves, as in Zendesk's or Gorgias's status: while
    away, round-robin passes them over and chat visitors do not count them as online."""
    away = request.form.get("away") == "on"
    if current_user.away != away:
        current_user.away = away
        record_event("user.availability_changed", user=current_user,
                     actor=f"user:{current_user.id}", agent=current_user.id, away=away)  # fmt: skip
        db.session.commit()
    if away:
        flash(_l("You are away: new tickets and chats go to your colleagues."), "info")
    else:
        flash(_l("You are available again."), "info")
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/language")
def set_language():
    language = request.form.get("language", "")
    if language in current_app.config["LANGUAGES"]:
        session["language"] = language
    return redirect(_safe_next(request.form.get("next")))
