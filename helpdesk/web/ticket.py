"""The ticket page: the timeline, the side panel with its small forms, the reply composer,
merge and split, attachment downloads, and the list of one's @mentions.

Each form posts to its own view, which calls one service and comes back to the page;
a refusal flashes the service's reason and changes nothing. The composer re-renders
the page with what was typed when it previews, refuses, or warns that someone else
wrote since the page was loaded (the form carries the newest message id it saw; a
second click sends anyway).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field, replace

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select, union_all
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import RequestEntityTooLarge

from channel_adapters.base import SENDER_IDENTITY_KIND
from classifiers.base import INTENTS
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, Attachment, Customer, Message, Team, Ticket, User
from helpdesk.services import composer, escalation, mentions, ticket_actions
from helpdesk.services.canned import Suggestion, suggestions
from helpdesk.services.delivery import reply_subject
from helpdesk.services.inbox import get_ticket, may_see, visibility
from helpdesk.services.intent_feedback import correct_intents
from helpdesk.services.replies import set_status
from helpdesk.services.rules import drafts
from helpdesk.services.timeline import build_timeline, message_kind
from helpdesk.web.auth import roles_required

bp = Blueprint("ticket", __name__)
ALL_ROLES = ("agent", "lead", "social", "admin")
#: Who may merge and split (admins may everything).
CARE_ROLES = ("agent", "lead")
#: Statuses an agent sets by hand; "new" and "closed" come from the system.
EDITABLE_STATUSES = ("open", "pending", "on_hold", "solved")
OTHER_TICKETS = 10
#: What the page and the composer read of the ticket, loaded with it in one statement.
PAGE_LOAD = (
    joinedload(Ticket.customer).joinedload(Customer.identities),
    joinedload(Ticket.tags),
    joinedload(Ticket.intent_tags),
    joinedload(Ticket.unused_drafts),
)
#: Content types a browser gets as they are; everything else as application/octet-stream.
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")


@dataclass
class ComposerState:
    """What the composer shows: the draft, the choices, and any preview or warning."""

    draft: composer.Draft
    seen: int | None  # None: the newest message the page shows
    channels: list[str]
    suggestions: list[Suggestion]
    limits: composer.UploadLimits
    preview: dict | None = None
    error: str | None = None
    newer: list[Message] = field(default_factory=list)


def _composer(ticket: Ticket, draft: composer.Draft | None, seen: int | None) -> ComposerState:
    used = composer.used_channels(ticket)
    channels = composer.reply_channels(ticket, current_user, used)
    if draft is None:
        draft = composer.Draft("reply", "", composer.default_channel(ticket, channels, used))
    return ComposerState(
        draft=draft,
        seen=seen,
        channels=channels,
        suggestions=suggestions(ticket, agent=current_user),
        limits=composer.UploadLimits.from_config(),
    )


def _page(ticket: Ticket, state: ComposerState, status: int = 200):
    pointing_here, other_tickets = _related(ticket)
    merged_here = [t for t in pointing_here if t.merged_into_id == ticket.id]
    escalated_here = [t for t in pointing_here if t.escalated_to_id == ticket.id]
    users = db.session.scalars(select(User)).all()  # authors, names and the assignee choice
    teams = db.session.scalars(select(Team).order_by(Team.name)).all()
    timeline = build_timeline(ticket, users, teams)
    if state.seen is None:
        state.seen = timeline.latest_message_id
    return render_template(
        "ticket.html",
        ticket=ticket,
        timeline=timeline,
        composer=state,
        merged_here=merged_here,
        handover=escalation.handover(ticket, current_user, escalated_here),
        other_tickets=other_tickets,
        assignees=_assignees(ticket, users),
        teams=teams,
        statuses=EDITABLE_STATUSES,
        priorities=PRIORITIES,
        may_restructure=current_user.has_role(*CARE_ROLES),
        intents=INTENTS,
    ), status


def _related(ticket: Ticket) -> tuple[list[Ticket], list[Ticket]]:
    """Tickets merged into this one or escalated to it (by number), and the customer's
    latest other tickets the user may see, in one statement (each costs a page about
    half a millisecond)."""
    latest = (
        select(Ticket.id)
        .where(*visibility(current_user))
        .where(Ticket.customer_id == ticket.customer_id, Ticket.id != ticket.id)
        .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
        .limit(OTHER_TICKETS)
    )
    # One list of ids, each part found by its own index: as an OR of the three,
    # PostgreSQL (with IN) and SQLite (with table statistics) read every ticket instead.
    chosen = union_all(
        select(Ticket.id).where(Ticket.merged_into_id == ticket.id),
        select(Ticket.id).where(Ticket.escalated_to_id == ticket.id),
        select(latest.subquery().c.id),
    )
    found = db.session.scalars(select(Ticket).where(Ticket.id.in_(chosen))).all()
    pointing_here = sorted(
        (t for t in found if ticket.id in (t.merged_into_id, t.escalated_to_id)),
        key=lambda t: t.id,
    )
    # The rows `latest` chose rank above every other row of the customer's found here,
    # so its first OTHER_TICKETS in the same order are exactly those.
    others = sorted(
        (
            t
            for t in found
            if t.customer_id == ticket.customer_id
            and t.id != ticket.id
            and may_see(current_user, t)
        ),
        key=lambda t: (t.last_activity_at, t.id),
        reverse=True,
    )
    return pointing_here, others[:OTHER_TICKETS]


def _assignees(ticket: Ticket, users: list[User]) -> list[User]:
    chosen = [u for u in users if u.active and ticket_actions.may_see(u, ticket)]
    return sorted(chosen, key=lambda u: (u.name.casefold(), u.name))


def _back(number: int, anchor: str = ""):
    return redirect(url_for("ticket.show", number=number) + anchor)


def _refused(error: InvalidInput) -> None:
    """Nothing of the refused change stays; the agent reads why."""
    db.session.rollback()
    flash(str(error), "error")


# --- the page ----------------------------------------------------------------------------


@bp.get("/tickets/<int:number>")
@roles_required(*ALL_ROLES)
def show(number: int):
    ticket = get_ticket(current_user, number, PAGE_LOAD)
    state = _composer(ticket, None, None)
    wanted = request.args.get("response")
    if wanted:  # "insert" without JavaScript: the page comes back with the answer filled in
        chosen = next((s for s in state.suggestions if s.response.shortcut == wanted), None)
        if chosen is not None and chosen.missing is None:
            state.draft = replace(state.draft, kind="reply", text=chosen.text, response=wanted)
    # The top bar's count (helpdesk/web/live.py) says whether there is anything to mark.
    if g.get("unread_mentions", 1) and mentions.mark_read(current_user, ticket):
        db.session.commit()
        g.pop("unread_mentions", None)  # read before; fewer now
    return _page(ticket, state)


@bp.post("/tickets/<int:number>/compose")
@roles_required(*ALL_ROLES)
def compose(number: int):
    """Preview, or send a reply or a note (and set the status, in one step)."""
    ticket = get_ticket(current_user, number, PAGE_LOAD)
    form = request.form
    action = form.get("action", "send")
    status = action.removeprefix("send_") if action.startswith("send_") else None
    draft = composer.Draft(
        kind=form.get("kind", "reply"),
        text=form.get("text", ""),
        channel=form.get("channel") or None,
        status=status,
        response=form.get("response") or None,
    )
    seen = composer.parse_seen(form.get("seen"))
    if action == "preview":
        state = _composer(ticket, draft, seen)
        state.preview = _preview(ticket, draft)
        return _page(ticket, state)
    newer = composer.new_since(ticket, seen, current_user)
    if newer:  # the re-rendered form has seen them: sending again goes through
        state = _composer(ticket, draft, max(m.id for m in newer))
        state.newer = newer
        return _page(ticket, state, 409)
    try:
        limits = composer.UploadLimits.from_config()
        attachments = composer.check_uploads(request.files.getlist("attachments"), limits)
        message = composer.send(ticket, current_user, draft, attachments)
    except InvalidInput as error:
        db.session.rollback()
        ticket = get_ticket(current_user, number)
        state = _composer(ticket, draft, seen)
        state.error = str(error)
        return _page(ticket, state, 422)
    if draft.kind == "note":
        done = _("Your note is added.")
    elif draft.channel in composer.RECORD_ONLY_CHANNELS:
        done = _("The call is recorded.")
    else:
        done = _("Your reply is on its way.")
    db.session.flush()
    anchor = f"#message-{message.id}"  # read before the commit expires it (and the user)
    db.session.commit()
    flash(done, "info")
    return _back(number, anchor)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge):
    """A request over MAX_CONTENT_LENGTH cannot be read at all: say so on the page."""
    number = (request.view_args or {}).get("number")
    if request.endpoint != "ticket.compose" or number is None:
        return error
    ticket = get_ticket(current_user, number)
    state = _composer(ticket, None, None)
    state.error = _("The files are too large together; nothing was sent. Attach fewer or "
                    "smaller files and write the text again.")  # fmt: skip
    return _page(ticket, state, 413)


def _preview(ticket: Ticket, draft: composer.Draft) -> dict:
    """What will go out (or whom a note will notify), rendered on the server."""
    preview: dict = {"text": draft.text, "kind": draft.kind}
    try:
        if draft.kind == "note":
            users = mentions.mentioned_users(draft.text, ticket, author=current_user)
            preview["notifies"] = [u.name for u in users]
        else:
            channel = draft.channel or ticket.channel
            inbound = [m for m in ticket.messages if m.direction == "inbound"]
            last = next((m for m in reversed(inbound) if m.channel == channel), None)
            kind = SENDER_IDENTITY_KIND[channel]
            preview["to"] = (last.counterpart if last else None) or ticket.customer.identity(kind)
            preview["channel"] = channel
            if channel == "email":
                preview["subject"] = reply_subject(ticket)
    except (InvalidInput, KeyError) as error:
        preview["error"] = str(error)
    return preview


# --- the side panel ----------------------------------------------------------------------


@bp.post("/tickets/<int:number>/properties")
@roles_required(*ALL_ROLES)
def properties(number: int):
    """Status, priority, assignee and team, from one small form; an event per change."""
    ticket = get_ticket(current_user, number)
    form = request.form
    try:
        if "status" in form:
            if form["status"] not in (*EDITABLE_STATUSES, ticket.status):
                raise InvalidInput(_("Unknown status %(value)s.", value=form["status"]))
            set_status(ticket, form["status"], user=current_user)
        if "priority" in form:
            ticket_actions.set_priority(ticket, form["priority"], user=current_user)
        if "assignee" in form:
            ticket_actions.assign(ticket, _row(User, form["assignee"]), user=current_user)
        if "team" in form:
            ticket_actions.set_team(ticket, _row(Team, form["team"]), user=current_user)
    except InvalidInput as error:
        _refused(error)
        return _back(number)
    db.session.commit()
    flash(_("Saved."), "info")
    return _back(number)


def _row(model: type[User] | type[Team], raw: str):
    """The row `raw` names by id; "" means none."""
    if not raw:
        return None
    row = db.session.get(model, int(raw)) if raw.isdigit() else None
    if row is None:
        raise InvalidInput(_("Choose from the list."))
    return row


@bp.post("/tickets/<int:number>/take")
@roles_required(*ALL_ROLES)
def take(number: int):
    """Assign to me, in one click."""
    ticket = get_ticket(current_user, number)
    ticket_actions.assign(ticket, current_user, user=current_user)
    db.session.commit()
    flash(_("The ticket is yours."), "info")
    return _back(number)


@bp.post("/tickets/<int:number>/tags")
@roles_required(*ALL_ROLES)
def add_tag(number: int):
    ticket = get_ticket(current_user, number)
    try:
        ticket_actions.add_tag(ticket, request.form.get("tag", ""), user=current_user)
    except InvalidInput as error:
        _refused(error)
        return _back(number)
    db.session.commit()
    return _back(number)


@bp.post("/tickets/<int:number>/tags/remove")
@roles_required(*ALL_ROLES)
def remove_tag(number: int):
    ticket = get_ticket(current_user, number)
    ticket_actions.remove_tag(ticket, request.form.get("tag", ""), user=current_user)
    db.session.commit()
    return _back(number)


@bp.post("/tickets/<int:number>/drafts/<int:draft_id>/discard")
@roles_required(*ALL_ROLES)
def discard_draft(number: int, draft_id: int):
    """A rule's draft the agent will not use: the composer stops offering it."""
    ticket = get_ticket(current_user, number)
    drafts.discard(ticket, draft_id, current_user)
    db.session.commit()
    flash(_("Draft discarded."))
    return _back(number, "#composer")


@bp.post("/tickets/<int:number>/intents")
@roles_required(*ALL_ROLES)
def correct_ticket_intents(number: int):
    """An agent adds or removes an intent; the correction is training data for the model."""
    ticket = get_ticket(current_user, number)
    correct_intents(
        ticket, current_user, add=request.form.getlist("add"), remove=request.form.getlist("remove")
    )
    db.session.commit()
    return _back(number)


# --- merge and split ---------------------------------------------------------------------


@bp.post("/tickets/<int:number>/merge")
@roles_required(*CARE_ROLES)
def merge(number: int):
    """Merge this ticket into the one the form names."""
    source = get_ticket(current_user, number)
    raw = request.form.get("into", "").strip().lstrip("#")
    if not raw.isdigit():
        flash(_("Give the number of the ticket to merge into."), "error")
        return _back(number)
    target = get_ticket(current_user, int(raw))
    try:
        ticket_actions.merge_tickets(target, [source], current_user)
    except InvalidInput as error:
        _refused(error)
        return _back(number)
    db.session.commit()
    flash(_("#%(source)s is merged into this ticket; #%(source)s can undo it.",
            source=source.number), "info")  # fmt: skip
    return _back(target.number)


@bp.post("/tickets/<int:number>/unmerge")
@roles_required(*CARE_ROLES)
def unmerge(number: int):
    source = get_ticket(current_user, number)
    try:
        ticket_actions.undo_merge(source, current_user)
    except InvalidInput as error:
        _refused(error)
        return _back(number)
    db.session.commit()
    flash(_("The merge is undone."), "info")
    return _back(number)


@bp.post("/tickets/<int:number>/messages/<int:message_id>/split")
@roles_required(*CARE_ROLES)
def split(number: int, message_id: int):
    ticket = get_ticket(current_user, number)
    message = db.session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id:
        abort(404)
    try:
        new = ticket_actions.split_message(message, current_user)
    except InvalidInput as error:
        _refused(error)
        return _back(number)
    db.session.commit()
    flash(_("The message is now ticket #%(number)s.", number=new.number), "info")
    return _back(new.number)


# --- attachments and mentions ------------------------------------------------------------


@bp.get("/attachments/<int:attachment_id>")
@roles_required(*ALL_ROLES)
def attachment(attachment_id: int):
    """A file from a message, as a download, for those who may see its ticket."""
    found = db.session.get(Attachment, attachment_id)
    if found is None:
        abort(404)
    get_ticket(current_user, found.message.ticket_id)  # 403 for tickets one may not see
    if found.data is None:
        abort(404, description=_("This file was not kept: %(why)s", why=found.omitted_reason))
    content_type = found.content_type.split(";")[0].strip().lower()
    response = send_file(
        io.BytesIO(found.data),
        mimetype=content_type if _CONTENT_TYPE.match(content_type) else "application/octet-stream",
        as_attachment=True,
        download_name=found.filename or f"attachment-{found.id}",
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Should a browser render it after all: no scripts, no requests, its own origin.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/mentions")
@roles_required(*ALL_ROLES)
def mention_list():
    return render_template("ticket/mentions.html", notifications=mentions.recent(current_user))


@bp.post("/mentions/read")
@roles_required(*ALL_ROLES)
def mentions_read():
    mentions.mark_read(current_user)
    db.session.commit()
    return redirect(url_for("ticket.mention_list"))


bp.add_app_template_global(message_kind)


@bp.app_context_processor
def _unread_mentions() -> dict:
    def unread_mentions() -> int:
        if not current_user.is_authenticated:
            return 0
        if "unread_mentions" in g:  # read with the top bar (helpdesk/web/live.py)
            return g.unread_mentions
        return mentions.unread_count(current_user)

    return {"unread_mentions": unread_mentions}
