"""Social to care: the social team's view of the DMs and public comments by platform
with their response times, and "escalate to care" from a social ticket (one form: note,
priority, team, a new care ticket or one of the customer's open ones)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, Team, Ticket
from helpdesk.models.tickets import UNSOLVED_STATUSES
from helpdesk.models.types import utcnow
from helpdesk.services import escalation, public_comments
from helpdesk.services.inbox import SOCIAL_CHANNELS, get_ticket
from helpdesk.web.auth import roles_required

bp = Blueprint("escalation", __name__)
ALL_ROLES = ("agent", "lead", "social", "admin")
#: Social media managers escalate; care agents and leads may hand a DM over, too.
ESCALATING_ROLES = ("social", "agent", "lead")
PER_PLATFORM = 50


@bp.post("/tickets/<int:number>/escalate")
@roles_required(*ESCALATING_ROLES)
def escalate(number: int):
    ticket = get_ticket(current_user, number)
    form = request.form
    try:
        wanted = escalation.Escalation(
            note=form.get("note", ""),
            priority=form.get("priority", "normal"),
            team=_team(form.get("team", "")),
            target=_target(ticket, form.get("target", "new")),
        )
        care = escalation.escalate(ticket, current_user, wanted)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("ticket.show", number=number) + "#escalate")
    db.session.commit()
    flash(_("Handed over to care as #%(number)s.", number=care.number), "info")
    return redirect(url_for("ticket.show", number=number))


def _team(raw: str) -> Team | None:
    if not raw:
        return None
    team = db.session.get(Team, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if team is None:
        raise InvalidInput(_("Choose from the list."))
    return team


def _target(ticket: Ticket, raw: str) -> Ticket | None:
    if raw in ("", "new"):
        return None
    if ticket.escalated_to_id is not None and raw == str(ticket.escalated_to_id):
        return db.session.get(Ticket, ticket.escalated_to_id)
    chosen = next((t for t in escalation.care_candidates(ticket) if str(t.id) == raw), None)
    if chosen is None:
        raise InvalidInput(_("Choose one of this customer's other tickets."))
    return chosen


@bp.app_template_global()
def escalation_form_for(ticket: Ticket) -> dict | None:
    """What the escalate form offers on `ticket`, or None when it has no such form."""
    if not escalation.is_social(ticket) or ticket.merged_into_id is not None:
        return None
    if not current_user.has_role(*ESCALATING_ROLES):
        return None
    linked = db.session.get(Ticket, ticket.escalated_to_id) if ticket.escalated_to_id else None
    return {
        "linked": linked,
        "candidates": [linked] if linked else escalation.care_candidates(ticket),
        "priorities": PRIORITIES,
        "teams": db.session.scalars(select(Team).order_by(Team.name)).all(),
    }


# --- the social team's view --------------------------------------------------------------


@dataclass(frozen=True)
class SocialRow:
    ticket: Ticket
    response: timedelta | None  # first answer after the ticket came in
    waiting: timedelta | None  # no answer yet: for how long
    care: Ticket | None
    comment: bool = False  # a public comment conversation: the answer is visible to all


@bp.get("/social")
@roles_required(*ALL_ROLES)
def social():
    """The DMs and public comments of each platform, open ones first, with how fast they
    were answered; DMs and comments are counted apart (comments are often answered
    differently, and their answers are public)."""
    now = utcnow()
    platforms = []
    for channel in SOCIAL_CHANNELS:
        tickets = list(
            db.session.scalars(
                select(Ticket)
                .where(Ticket.channel == channel, Ticket.merged_into_id.is_(None))
                .where(~escalation.care_ticket())  # care tickets that kept the channel
                .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
                .limit(PER_PLATFORM)
            )
        )
        tickets.sort(key=lambda t: t.status not in UNSOLVED_STATUSES)  # stable: open first
        care_ids = {t.escalated_to_id for t in tickets if t.escalated_to_id}
        care = {t.id: t for t in db.session.scalars(select(Ticket).where(Ticket.id.in_(care_ids)))}
        comments = public_comments.comment_ticket_ids(t.id for t in tickets)
        rows = [_row(t, care.get(t.escalated_to_id), now, t.id in comments) for t in tickets]
        platforms.append(
            {
                "channel": channel,
                "rows": rows,
                **_figures([r for r in rows if not r.comment]),
                "comments": _figures([r for r in rows if r.comment])
                if channel in public_comments.COMMENT_CHANNELS else None,
            }
        )  # fmt: skip
    return render_template("social/index.html", platforms=platforms, duration=_duration)


def _figures(rows: list[SocialRow]) -> dict:
    """The median first response and how many wait, of one kind of conversation."""
    answered = sorted(r.response for r in rows if r.response is not None)
    return {
        "median": answered[len(answered) // 2] if answered else None,
        "waiting": sum(1 for r in rows if r.waiting is not None),
    }


def _row(ticket: Ticket, care: Ticket | None, now: datetime, comment: bool) -> SocialRow:
    if ticket.first_response_at is not None:
        return SocialRow(ticket, max(ticket.first_response_at - ticket.created_at, timedelta()),
                         None, care, comment)  # fmt: skip
    waiting = now - ticket.created_at if ticket.status in UNSOLVED_STATUSES else None
    return SocialRow(ticket, None, waiting, care, comment)


def _duration(value: timedelta) -> str:
    return format_timedelta(value, threshold=1.1, add_direction=False)
