"""/kpis: the team lead's dashboard, and its tables as CSV. Leads and admins only."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models.types import utcnow
from helpdesk.services import csat, kpis, spikes
from helpdesk.services.kpi_charts import heat_cells, trend_chart
from helpdesk.web.auth import roles_required
from helpdesk.web.portal import REASON_LABELS

bp = Blueprint("kpis", __name__)

#: Shown on the dashboard (and in README "KPIs"): what each number means.
DEFINITIONS = (
    (_l("First response"), _l("From the ticket's creation, or from the bot's hand-off to a "
      "person, to the first public reply by a person. Internal notes, bot turns and "
      "automatic replies do not count.")),
    (_l("Next reply"), _l("From a customer's message that waits for us, after the first "
      "response, to the next public reply by a person; per ticket the mean of its waits.")),
    (_l("First and full resolution"), _l("From creation to the first time the ticket was "
      "solved, and to the last time (only while it is solved).")),
    (_l("Requester and agent wait"), _l("Time in new, open and on hold (the customer waits "
      "for us) and in pending (we wait for the customer), until the ticket was solved.")),
    (_l("Replies, reopens, one touch"), _l("Public replies by a person per ticket; the share "
      "of solved tickets that were reopened, and that were solved with one reply and never "
      "reopened.")),
    (_l("Backlog"), _l("Tickets created up to the end of the period and not solved by then.")),
    (_l("SLA attainment"), _l("The share of tickets with an SLA whose first response came "
      "by the due time.")),
    (_l("Calendar and business time"), _l("Every time is shown around the clock and in the "
      "team's business hours (opening hours minus public holidays). Medians and 90th "
      "percentiles, not means.")),
)  # fmt: skip
GROUP_LABELS = {
    "channel": _l("Channel"),
    "agent": _l("Agent"),
    "team": _l("Team"),
    "intent": _l("Intent"),
    "priority": _l("Priority"),
}


@bp.get("/kpis")
@roles_required("lead")
def dashboard():
    start, end, group_by = _period()
    result = kpis.report(start, end, group_by=group_by)
    since, until = kpis.period_bounds(start, end)
    csat_by = group_by if group_by in csat.CSAT_GROUPS else "channel"
    csat_rows, csat_total = csat.results(since, until, csat_by)
    return render_template(
        "kpis.html",
        report=result,
        spikes=spikes.spikes_between(since, until),
        csat_by=csat_by,
        csat_rows=csat_rows,
        csat_total=csat_total,
        comments=csat.recent_comments(since, until),
        reasons=REASON_LABELS,
        group_by=group_by,
        groups=GROUP_LABELS,
        definitions=DEFINITIONS,
        daily=trend_chart(result.daily),
        weekly=trend_chart(result.weekly),
        heat=heat_cells(result.heatmap),
        args={"from": start.isoformat(), "to": end.isoformat(), "by": group_by},
    )


@bp.get("/kpis/export/<name>.csv")
@roles_required("lead")
def export(name: str):
    if name not in kpis.TABLES:
        raise InvalidInput(f"table must be one of {', '.join(kpis.TABLES)}")
    start, end, group_by = _period()
    result = kpis.report(start, end, group_by=group_by)
    body = kpis.to_csv(*kpis.table(result, name))
    filename = f"kpis-{name}-{start}-{end}.csv"
    return Response(
        body,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _period() -> tuple[date, date, str]:
    """from/to (default: the last 30 days) and by from the query string, checked."""
    args = request.args
    try:
        end = date.fromisoformat(args["to"]) if args.get("to") else utcnow().date()
        start = date.fromisoformat(args["from"]) if args.get("from") else end - timedelta(29)
    except ValueError as error:
        raise InvalidInput(_("Dates look like 2026-12-05.")) from error
    group_by = args.get("by") or "channel"
    if group_by not in kpis.GROUPS:
        raise InvalidInput(f"by must be one of {', '.join(kpis.GROUPS)}")
    return start, end, group_by


@bp.app_template_filter("kpi_duration")
def kpi_duration(seconds: float | None) -> str:
    """12 min, 2.0 h, 3.2 d: short enough for a table cell."""
    if seconds is None:
        return "–"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


@bp.app_template_filter("kpi_share")
def kpi_share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


@bp.get("/kpis/spikes")
@roles_required("lead")
def spike_settings():
    return render_template(
        "kpis_spikes.html",
        settings=spikes.settings(),
        recent=spikes.recent_spikes(utcnow() - timedelta(days=30)),
    )


@bp.post("/kpis/spikes")
@roles_required("lead")
def save_spike_settings():
    form = request.form
    try:
        spikes.save_settings(
            factor=form.get("factor"),
            min_tickets=form.get("min_tickets"),
            auto_acknowledge=bool(form.get("auto_acknowledge")),
            text_de=form.get("text_de", ""),
            text_en=form.get("text_en", ""),
            user=current_user,
        )
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "error")
        return render_template("kpis_spikes.html", settings=form, recent=[]), 422
    db.session.commit()
    flash(_("The spike settings are saved."), "info")
    return redirect(url_for("kpis.spike_settings"))
