"""/wall: the wall of pain and ideas. Agents and leads write, pin and vote; leads set the
status; from a ticket's page, agents pin it to an entry or start one with it. (Social
media managers see only social tickets, so they stay out.)"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.errors import HelpdeskError, InvalidInput
from helpdesk.extensions import db
from helpdesk.models import WALL_KINDS, WALL_STATUSES
from helpdesk.services import wall
from helpdesk.services.inbox import get_ticket
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
            raise InvalidInput(_("Write a ticket number, e.g. 1234."))
        wall.pin_ticket(entry_id, number, _me())

    return _back(action)


@bp.post("/wall/<int:entry_id>/status")
@roles_required("lead")
def status(entry_id: int):
    return _back(lambda: wall.set_status(entry_id, request.form.get("status", ""), _me()))


# --- from a ticket ------------------------------------------------------------------------


@bp.get("/tickets/<int:number>/wall")
@roles_required("agent", "lead")
def pin_form(number: int):
    """From the ticket page: pin this ticket to an open entry, or start one with it."""
    ticket = get_ticket(current_user, number)
    return render_template(
        "wall_pin.html",
        ticket=ticket,
        entries=wall.open_entries(),
        pinned_to=wall.entries_of(ticket.id),
    )


@bp.post("/tickets/<int:number>/wall")
@roles_required("agent", "lead")
def pin_from_ticket(number: int):
    ticket = get_ticket(current_user, number)
    form = request.form
    try:
        if form.get("entry", "new") == "new":
            entry = wall.create_entry(form.get("kind", ""), form.get("title", ""),
                                      form.get("body", ""), _me(), ticket.id)  # fmt: skip
        else:
            entry_id = _number(form.get("entry"))
            if entry_id is None:
                raise InvalidInput(_("Choose an entry or write a new one."))
            entry = wall.pin_ticket(entry_id, ticket.id, _me())
    except HelpdeskError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("wall.pin_form", number=number))
    db.session.commit()
    flash(_("Pinned to the wall: %(title)s", title=entry.title), "success")
    return redirect(url_for("ticket.show", number=number))
