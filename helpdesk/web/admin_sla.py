"""/admin/sla: SLA policies and business hours, for admins."""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from channel_adapters.base import CHANNELS
from classifiers.base import INTENTS
from helpdesk.errors import HelpdeskError, InvalidInput
from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, BusinessHours, SlaPolicy, Team
from helpdesk.services import sla
from helpdesk.services.business_time import calendar_from_row
from helpdesk.services.events import record_event
from helpdesk.web.auth import roles_required

bp = Blueprint("admin_sla", __name__, url_prefix="/admin/sla")


@bp.get("")
@roles_required("admin")
def index():
    return render_template(
        "admin/sla.html",
        policies=db.session.scalars(select(SlaPolicy).order_by(SlaPolicy.id)).all(),
        hours=db.session.scalars(select(BusinessHours).order_by(BusinessHours.id)).all(),
        teams=db.session.scalars(select(Team).order_by(Team.name)).all(),
        channels=("social", *CHANNELS),
        priorities=PRIORITIES,
        intents=INTENTS,
        dumps=json.dumps,
    )


def _saved(action, message: str):
    try:
        action()
    except HelpdeskError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(message, "info")
    return redirect(url_for("admin_sla.index"))


@bp.post("/policies")
@roles_required("admin")
def create_policy():
    def action():
        policy = sla.save_policy(None, **request.form.to_dict())
        db.session.flush()
        record_event("sla.policy_saved", user=current_user, policy=policy.id)

    return _saved(action, _("The SLA policy is saved."))


@bp.post("/policies/<int:policy_id>")
@roles_required("admin")
def update_policy(policy_id: int):
    def action():
        sla.save_policy(policy_id, **request.form.to_dict())
        record_event("sla.policy_saved", user=current_user, policy=policy_id)

    return _saved(action, _("The SLA policy is saved. New due times apply as tickets change."))


@bp.post("/hours")
@roles_required("admin")
def save_hours():
    form = request.form

    def action():
        team_id = int(form["team_id"]) if form.get("team_id", "").isdigit() else None
        try:
            weekly = json.loads(form.get("weekly") or "{}")
            closed = [d.strip() for d in (form.get("closed_days") or "").split(",") if d.strip()]
            for day in closed:
                date.fromisoformat(day)
        except ValueError as error:
            raise InvalidInput(
                _(
                    'Opening hours look like {"0": [["08:00", "18:00"]]}, '
                    "closed days like 2026-12-24."
                )
            ) from error
        if not isinstance(weekly, dict):
            raise InvalidInput(
                _(
                    'Opening hours look like {"0": [["08:00", "18:00"]]}, '
                    "closed days like 2026-12-24."
                )
            )
        row = db.session.scalar(select(BusinessHours).where(BusinessHours.team_id == team_id))
        row = row or BusinessHours(team_id=team_id)
        row.timezone = (form.get("timezone") or "Europe/Berlin").strip()
        row.weekly = weekly
        row.holiday_country = (form.get("holiday_country") or "").strip().upper() or None
        row.holiday_subdivision = (form.get("holiday_subdivision") or "").strip().upper() or None
        row.closed_days = closed
        calendar_from_row(row).is_closed(date.today())  # checks zone, hours and country
        db.session.add(row)
        record_event("business_hours.saved", user=current_user, team=team_id)

    return _saved(action, _("The business hours are saved."))
