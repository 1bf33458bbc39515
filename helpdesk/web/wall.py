"""/wall: the wall of pain and ideas. Agents and leads write, pin and vote; leads set the
status. (Social media managers see only social tickets, so they stay out.)"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.errors import HelpdeskError
from helpdesk.extensions import db
from helpdesk.models import WALL_KINDS, WALL_STATUSES
from helpdesk.services import wall
from helpdesk.web.auth import roles_required

bp = Blueprint("wall", __name__)


@bp.get("/wall")
@roles_required("agent", "lead")
def index():
    kind = request.args.get("kind") or None
    sort = request.args.get("sort") if request.args.get("sort") in wall.SORTS else "votes"
    entries = wall.ranked(_me(), kind=kind, sort=sort)
    return render_template(
        "wall.html",
        entries=entries,
        pinned=wall.pinned_tickets([e.entry.id for e in entries]),
        kind=kind,
        sort=sort,
        kinds=WALL_KINDS,
        statuses=WALL_STATUSES,
    )


def _me():
    """The signed-in user itself (not the request-bound proxy): it is stored on rows."""
    return current_user._get_current_object()


def _back(action):
    try:
        action()
    except HelpdeskError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
    return redirect(url_for("wall.index", kind=request.form.get("back_kind") or None))


def _number(raw: str | None) -> int | None:
    raw = (raw or "").strip().lstrip("#")
    return int(raw) if raw.isdigit() else None


@bp.post("/wall")
@roles_required("agent", "lead")
def create():
    form = request.form
    return _back(lambda: wall.create_entry(form.get("kind", ""), form.get("title", ""),
                                           form.get("body", ""), _me(),
                                           _number(form.get("ticket"))))  # fmt: skip


@bp.post("/wall/<int:entry_id>/vote")
@roles_required("agent", "lead")
def vote(entry_id: int):
    return _back(lambda: wall.toggle_vote(entry_id, _me()))


@bp.post("/wall/<int:entry_id>/pin")
@roles_required("agent", "lead")
def pin(entry_id: int):
    number = _number(request.form.get("ticket"))

    def action():
        if number is None:
            from helpdesk.errors import InvalidInput

            raise InvalidInput(_("Write a ticket number, e.g. 1234."))
        wall.pin_ticket(entry_id, number, _me())

    return _back(action)


@bp.post("/wall/<int:entry_id>/status")
@roles_required("lead")
def status(entry_id: int):
    return _back(lambda: wall.set_status(entry_id, request.form.get("status", ""), _me()))
