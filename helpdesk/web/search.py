"""GET /search: full-text search over the tickets a user may see, with the inbox's filters."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from channel_adapters.base import CHANNELS
from classifiers.base import INTENTS
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import User
from helpdesk.services.inbox import SOCIAL_CHANNELS
from helpdesk.services.search import STATUS_FILTERS, Filters, search
from helpdesk.web.auth import roles_required

bp = Blueprint("search", __name__)
ALL_ROLES = ("agent", "lead", "social", "admin")


@bp.get("/search")
@roles_required(*ALL_ROLES)
def index():
    query = request.args.get("q", "").strip()
    filters = _filters()
    page = request.args.get("page", "1")
    results = search(
        current_user,
        query,
        filters=filters,
        page=int(page) if page.isdigit() else 1,
        per_page=current_app.config["INBOX_PAGE_SIZE"],
    )
    return render_template(
        "search.html",
        query=query,
        filters=filters,
        results=results,
        statuses=STATUS_FILTERS,
        channels=SOCIAL_CHANNELS if current_user.role == "social" else CHANNELS,
        intents=INTENTS,
        agents=db.session.scalars(
            select(User).where(User.active.is_(True)).order_by(User.name)
        ).all(),
        page_args=_page_args,
    )


def _filters() -> Filters:
    """The filters from the query string; a value that is not offered is refused."""
    args = request.args
    status = args.get("status") or None
    channel = args.get("channel") or None
    intent = args.get("intent") or None
    assignee: int | str | None = args.get("assignee") or None
    if status is not None and status not in STATUS_FILTERS:
        raise InvalidInput(f"unknown status {status!r}")
    if channel is not None and channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}")
    if intent is not None and intent not in INTENTS:
        raise InvalidInput(f"unknown intent {intent!r}")
    if assignee == "me":
        assignee = current_user.id
    elif assignee is not None and assignee != "none":
        if not str(assignee).isdigit():
            raise InvalidInput(f"unknown assignee {assignee!r}")
        assignee = int(assignee)
    return Filters(status=status, channel=channel, assignee=assignee, intent=intent)


def _page_args(query: str, filters: Filters, page: int) -> dict:
    """The query string of another page of the same search."""
    args = {
        "q": query,
        "status": filters.status,
        "channel": filters.channel,
        "assignee": filters.assignee,
        "intent": filters.intent,
        "page": page,
    }
    return {key: value for key, value in args.items() if value not in (None, "")}
