"""Logging a call from the ticket page (the customer page has its own form)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.services import calls
from helpdesk.services.inbox import get_ticket
from helpdesk.web.auth import roles_required

bp = Blueprint("calls", __name__)
#: Calls are care's: social media managers hand phone matters over.
CARE_ROLES = ("agent", "lead")


@bp.post("/tickets/<int:number>/calls")
@roles_required(*CARE_ROLES)
def log_on_ticket(number: int):
    ticket = get_ticket(current_user, number)
    try:
        message = calls.log_call_on_ticket(ticket, current_user, calls.parse_call(request.form))
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("ticket.show", number=number) + "#log-call")
    db.session.commit()
    flash(_("The call is recorded."), "info")
    return redirect(url_for("ticket.show", number=number) + f"#message-{message.id}")


@bp.app_template_global()
def call_outcomes() -> list[tuple[str, str]]:
    """(value, label) of each outcome, for the log-a-call forms."""
    return [(o, calls.outcome_label(o)) for o in calls.OUTCOMES]


@bp.app_template_global()
def call_outcome_label(outcome: str) -> str:
    return calls.outcome_label(outcome)
