"""The audit log of admin actions (/admin/audit), with filters kept in the URL."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from helpdesk.errors import InvalidInput
from helpdesk.services import audit
from helpdesk.web.auth import roles_required

bp = Blueprint("admin_audit", __name__, url_prefix="/admin")


class InvalidFilter(InvalidInput):
    status_code = 400


def _filters() -> audit.AuditFilters:
    args = request.args
    area = args.get("area") or None
    if area is not None and area not in audit.AREAS:
        raise InvalidFilter(_("Unknown area %(value)s.", value=area))
    user = args.get("user") or None
    if user is not None and not re.fullmatch(r"[0-9]{1,9}", user):
        raise InvalidFilter(_("The user filter takes a user's number."))
    return audit.AuditFilters(area, int(user) if user else None, _date("since"), _date("until"))


def _date(name: str) -> date | None:
    raw = request.args.get(name) or None
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidFilter(_("Give dates as YYYY-MM-DD.")) from None


@bp.get("/audit")
@roles_required("admin")
def index():
    filters = _filters()
    before = request.args.get("before")
    before_id = int(before) if before and before.isdigit() and len(before) < 12 else None
    events, next_before = audit.entries(filters, before=before_id)
    return render_template(
        "admin/audit.html",
        events=events,
        next_before=next_before,
        filters=filters,
        areas=audit.AREAS,
        actors=audit.actors(),
        args={k: v for k, v in request.args.items() if k != "before" and v},
    )
