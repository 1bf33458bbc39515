"""Canned responses admin: list, create, edit, deactivate; preview against a real ticket.

The form posts back to itself with either "save" or "preview": a preview fills in
what is in the form (saved or not) for the ticket number given, so an admin sees
exactly what an agent would get, errors included, before anything is stored.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2 import TemplateError
from sqlalchemy import select

from channel_adapters.base import CHANNELS
from classifiers.base import INTENTS
from helpdesk.extensions import db
from helpdesk.models import LANGUAGES, CannedResponse, Ticket
from helpdesk.services import canned_admin
from helpdesk.services.canned import FACTS
from helpdesk.services.canned_admin import Draft, InvalidResponse, Preview
from helpdesk.web.auth import roles_required

bp = Blueprint("admin_responses", __name__, url_prefix="/admin/responses")


@bp.get("")
@roles_required("admin")
def index():
    language = request.args.get("language") or None
    query = select(CannedResponse).order_by(
        CannedResponse.language, CannedResponse.active.desc(), CannedResponse.title
    )
    if language in LANGUAGES:
        query = query.where(CannedResponse.language == language)
    return render_template(
        "admin/responses.html",
        responses=db.session.scalars(query).all(),
        language=language,
        languages=LANGUAGES,
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
def create():
    if request.method == "GET":
        language = request.args.get("language")
        return _form(Draft(language=language if language in LANGUAGES else LANGUAGES[0]))
    return _submitted(None)


@bp.route("/<int:response_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(response_id: int):
    response = db.session.get(CannedResponse, response_id) or abort(404)
    if request.method == "GET":
        draft = Draft.of(response)
        number = request.args.get("ticket", "")
        return _form(draft, response=response, ticket_number=number,
                     preview=_preview(draft, number) if number else None)  # fmt: skip
    return _submitted(response)


@bp.post("/<int:response_id>/active")
@roles_required("admin")
def set_active(response_id: int):
    response = db.session.get(CannedResponse, response_id) or abort(404)
    active = request.form.get("active") == "on"
    canned_admin.set_active(response, active, by=current_user)
    db.session.commit()
    message = _("%(title)s is offered again.") if active else _("%(title)s is no longer offered.")
    flash(message % {"title": response.title}, "info")
    return redirect(url_for("admin_responses.index", language=request.form.get("back") or None))


def _submitted(response: CannedResponse | None):
    draft = _draft_from_form()
    number = request.form.get("ticket", "").strip()
    if request.form.get("action") == "preview":
        return _form(draft, response=response, ticket_number=number,
                     preview=_preview(draft, number))  # fmt: skip
    try:
        checked = canned_admin.save(draft, response=response, by=current_user)
    except InvalidResponse as error:
        db.session.rollback()
        return _form(draft, response=response, ticket_number=number, problems=error.problems), 422
    db.session.commit()
    flash(_("Saved."), "info")
    for warning in checked.warnings:
        flash(warning, "warning")
    saved = response or db.session.scalar(
        select(CannedResponse).where(
            CannedResponse.shortcut == draft.shortcut, CannedResponse.language == draft.language
        )
    )
    return redirect(url_for("admin_responses.edit", response_id=saved.id,
                            ticket=number or None))  # fmt: skip


def _draft_from_form() -> Draft:
    form = request.form
    return Draft(
        title=form.get("title", ""),
        shortcut=form.get("shortcut", ""),
        language=form.get("language", ""),
        intents=form.getlist("intents"),
        channels=form.getlist("channels"),
        requires=form.getlist("requires"),
        body=form.get("body", "").replace("\r\n", "\n"),
        active=form.get("active") == "on",
    )


def _preview(draft: Draft, number: str) -> Preview:
    if not number.lstrip("#").isdigit():
        return Preview("", _("Enter the number of a ticket to preview with."))
    ticket = db.session.get(Ticket, int(number.lstrip("#")))
    if ticket is None:
        return Preview("", _("There is no ticket #%(number)s.", number=number.lstrip("#")))
    try:
        unknown = canned_admin.unknown_placeholders(draft.body)
    except TemplateError:  # the preview below says what is wrong with it
        unknown = []
    result = canned_admin.preview(draft, ticket, agent=current_user)
    db.session.rollback()  # a preview changes nothing
    if unknown and not result.error:
        note = _("Unknown placeholders: %(names)s", names=", ".join(unknown))
        return Preview(result.text, note)
    return result


def _form(
    draft: Draft,
    *,
    response: CannedResponse | None = None,
    ticket_number: str = "",
    preview: Preview | None = None,
    problems: list[str] | None = None,
):
    return render_template(
        "admin/responses_form.html",
        draft=draft,
        response=response,
        ticket_number=ticket_number,
        preview=preview,
        problems=problems or [],
        languages=LANGUAGES,
        intents=INTENTS,
        channels=CHANNELS,
        facts=FACTS,
        placeholders=canned_admin.known_placeholders(),
    )
