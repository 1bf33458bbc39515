"""The plain shared inbox: ticket lists by view and the ticket page."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from channel_adapters.base import CHANNELS
from classifiers.base import INTENTS
from helpdesk.extensions import db
from helpdesk.services.inbox import VIEWS, count_views, get_ticket, list_tickets
from helpdesk.services.intent_feedback import correct_intents
from helpdesk.web.auth import roles_required

bp = Blueprint("inbox", __name__)
ALL_ROLES = ("agent", "lead", "social", "admin")


@bp.get("/inbox")
@roles_required(*ALL_ROLES)
def index():
    view = request.args.get("view", "open")
    channel = request.args.get("channel") or None
    intent = request.args.get("intent") or None
    page = list_tickets(
        current_user,
        view=view,
        channel=channel,
        intent=intent,
        cursor=request.args.get("cursor"),
        limit=current_app.config["INBOX_PAGE_SIZE"],
    )
    return render_template(
        "inbox.html",
        page=page,
        view=view,
        channel=channel,
        intent=intent,
        views=VIEWS,
        counts=count_views(current_user),
        channels=CHANNELS,
        intents=INTENTS,
    )


@bp.get("/tickets/<int:number>")
@roles_required(*ALL_ROLES)
def ticket(number: int):
    return render_template("ticket.html", ticket=get_ticket(current_user, number), intents=INTENTS)


@bp.post("/tickets/<int:number>/intents")
@roles_required(*ALL_ROLES)
def correct_ticket_intents(number: int):
    """An agent adds or removes an intent; the correction is training data for the model."""
    ticket = get_ticket(current_user, number)
    correct_intents(
        ticket, current_user, add=request.form.getlist("add"), remove=request.form.getlist("remove")
    )
    db.session.commit()
    return redirect(url_for("inbox.ticket", number=number))
