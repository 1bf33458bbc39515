"""The plain shared inbox: ticket lists by view. The ticket page: helpdesk/web/ticket.py."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from channel_adapters.base import CHANNELS
from classifiers.base import INTENTS
from helpdesk.services.inbox import VIEWS, count_views, list_tickets
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
