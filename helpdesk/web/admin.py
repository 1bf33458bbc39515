"""Administration pages, for admins only."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import ROLES, QuarantinedInput, Team, User
from helpdesk.services import administration
from helpdesk.services.mailboxes import mailboxes
from helpdesk.web.auth import roles_required
from helpdesk.web.labels import label

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@roles_required("admin")
def users():
    return render_template(
        "admin/users.html",
        users=db.session.scalars(select(User).order_by(User.email)).all(),
        roles=ROLES,
    )


@bp.get("/mailboxes")
@roles_required("admin")
def mailbox_health():
    return render_template("admin/mailboxes.html", mailboxes=mailboxes(enabled_only=False))


@bp.get("/quarantine")
@roles_required("admin")
def quarantine():
    items = db.session.scalars(
        select(QuarantinedInput).order_by(QuarantinedInput.received_at.desc()).limit(500)
    ).all()
    return render_template("admin/quarantine.html", items=items)


@bp.get("/quarantine/<int:item_id>/raw")
@roles_required("admin")
def quarantine_raw(item_id: int):
    """The bytes exactly as they arrived, as a download (never rendered in the browser)."""
    item = db.session.get(QuarantinedInput, item_id) or abort(404)
    extension = "eml" if item.content_type == "message/rfc822" else "bin"
    return (
        item.data,
        200,
        {
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f"attachment; filename=quarantine-{item.id}.{extension}",
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- users, teams, channels: each change an event (services/administration.py) -------------


def _done(message: str, endpoint: str, **values):
    db.session.commit()
    flash(message, "info")
    return redirect(url_for(endpoint, **values))


def _refused(error: InvalidInput, endpoint: str, **values):
    """Nothing is saved; the page says why (no form data is lost: these are one-field forms)."""
    db.session.rollback()
    flash(str(error), "error")
    return redirect(url_for(endpoint, **values))


@bp.post("/users/<int:user_id>/role")
@roles_required("admin")
def change_user_role(user_id: int):
    try:
        user = administration.change_role(user_id, request.form.get("role", ""), by=current_user)
    except InvalidInput as error:
        return _refused(error, "admin.users")
    return _done(_("%(name)s is now: %(role)s", name=user.name, role=label("role", user.role)),
                 "admin.users")  # fmt: skip


@bp.post("/users/<int:user_id>/active")
@roles_required("admin")
def set_user_active(user_id: int):
    active = request.form.get("active") == "on"
    try:
        user = administration.set_active(user_id, active, by=current_user)
    except InvalidInput as error:
        return _refused(error, "admin.users")
    message = _("%(name)s can sign in again.") if active else _("%(name)s is deactivated.")
    return _done(message % {"name": user.name}, "admin.users")


@bp.get("/teams")
@roles_required("admin")
def teams():
    return render_template(
        "admin/teams.html",
        teams=db.session.scalars(select(Team).order_by(Team.name)).all(),
        users=db.session.scalars(
            select(User).where(User.active.is_(True)).order_by(User.name)
        ).all(),
    )


@bp.post("/teams")
@roles_required("admin")
def create_team():
    try:
        team = administration.create_team(request.form.get("name", ""), by=current_user)
    except InvalidInput as error:
        return _refused(error, "admin.teams")
    return _done(_("Team %(name)s created.", name=team.name), "admin.teams")


@bp.post("/teams/<int:team_id>/name")
@roles_required("admin")
def rename_team(team_id: int):
    try:
        team = administration.rename_team(team_id, request.form.get("name", ""), by=current_user)
    except InvalidInput as error:
        return _refused(error, "admin.teams")
    return _done(_("Team renamed to %(name)s.", name=team.name), "admin.teams")


@bp.post("/teams/<int:team_id>/members")
@roles_required("admin")
def add_team_member(team_id: int):
    user_id = request.form.get("user_id", "")
    if not user_id.isdigit():
        return _refused(InvalidInput(_("Choose a user to add.")), "admin.teams")
    team = administration.add_member(team_id, int(user_id), by=current_user)
    return _done(_("Team %(name)s updated.", name=team.name), "admin.teams")


@bp.post("/teams/<int:team_id>/members/<int:user_id>/remove")
@roles_required("admin")
def remove_team_member(team_id: int, user_id: int):
    team = administration.remove_member(team_id, user_id, by=current_user)
    return _done(_("Team %(name)s updated.", name=team.name), "admin.teams")


@bp.get("/channels")
@roles_required("admin")
def channels():
    return render_template("admin/channels.html", health=administration.channel_health())


@bp.post("/shops/<int:shop_id>/return-notifications")
@roles_required("admin")
def shop_return_notifications(shop_id: int):
    on = request.form.get("on") == "on"
    shop = administration.set_return_notifications(shop_id, on, by=current_user)
    message = (
        _("%(shop)s: customers now hear as their return moves.")
        if on
        else _("%(shop)s: return notifications are off.")
    )
    return _done(message % {"shop": shop.name}, "admin.channels")
