"""The agents' side of live chat: the list of chat conversations, the FAQ admin pages, and
noting who is around to take a chat.

`/chats` lists the open chat tickets with an unread marker where the visitor waits for
a person; the page follows the inbox's live stream (live.js, `data-live-inbox`). The
ticket page itself already updates live, so several chats are handled in several tabs
or one after another from the list.
"""

from __future__ import annotations

import time

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import LANGUAGES, FaqEntry
from helpdesk.services import chat as chats
from helpdesk.services import faq
from helpdesk.services.chat_list import open_chats, waiting_count
from helpdesk.web.auth import roles_required

bp = Blueprint("chats", __name__)
#: A signed-in agent's activity is written at most this often (seconds).
SEEN_EVERY = 30
#: Who has the conversation, as the chat list says it.
CHAT_STATE_LABELS = {
    "bot": _l("Chatbot"),
    "order_number": _l("Chatbot"),
    "order_email": _l("Chatbot"),
    "human": _l("Waiting for a person"),
    "offline_email": _l("Asked for an e-mail address"),
    "email": _l("Goes on by e-mail"),
}
#: Requests that say nothing about an agent being at the desk.
_NOT_ACTIVITY = ("static", "chat.")


@bp.before_app_request
def _note_agent_seen() -> None:
    """Agents using the helpdesk count as online for chats. Written at most every
    `SEEN_EVERY` seconds per browser session, so a page view costs no write."""
    if request.endpoint is None or request.endpoint.startswith(_NOT_ACTIVITY):
        return
    if request.path.startswith("/api/") or not current_user.is_authenticated:
        return
    if current_user.role not in chats.CARE_ROLES:
        return
    now = time.time()
    if now - float(session.get("chat_seen", 0)) < SEEN_EVERY:
        return
    session["chat_seen"] = now
    chats.note_agent_seen(current_user)
    db.session.commit()


@bp.app_template_global("waiting_chats")
def waiting_chats() -> int:
    """For the "Chats" link in the top bar: visitors waiting for a person."""
    return g.waiting_chats if "waiting_chats" in g else waiting_count()


@bp.get("/chats")
@roles_required("agent", "lead")
def index():
    return render_template("chat/chats.html", chats=open_chats(), chat_states=CHAT_STATE_LABELS)


@bp.get("/admin/faq")
@roles_required("admin")
def faq_list():
    return render_template(
        "admin/faq.html", entries=faq.entries(active_only=False), languages=LANGUAGES
    )


@bp.get("/admin/faq/new")
@bp.get("/admin/faq/<int:entry_id>")
@roles_required("admin")
def faq_form(entry_id: int | None = None):
    entry = db.get_or_404(FaqEntry, entry_id) if entry_id is not None else None
    return render_template("admin/faq_form.html", entry=entry, languages=LANGUAGES)


@bp.post("/admin/faq/new")
@bp.post("/admin/faq/<int:entry_id>")
@roles_required("admin")
def faq_save(entry_id: int | None = None):
    form = request.form
    try:
        position = int(form.get("position") or 0)
    except ValueError:
        position = 0
    try:
        faq.save_entry(
            current_user,
            entry_id=entry_id,
            topic=form.get("topic", ""),
            language=form.get("language", ""),
            question=form.get("question", ""),
            alternatives=form.get("alternatives", ""),
            answer=form.get("answer", ""),
            position=position,
            active=form.get("active") == "on",
        )
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "error")
        entry = db.session.get(FaqEntry, entry_id) if entry_id is not None else None
        return render_template(
            "admin/faq_form.html", entry=entry, languages=LANGUAGES, form=form
        ), 422
    db.session.commit()
    flash(_("FAQ entry saved."), "success")
    return redirect(url_for("chats.faq_list"))


@bp.post("/admin/faq/<int:entry_id>/delete")
@roles_required("admin")
def faq_delete(entry_id: int):
    faq.delete_entry(current_user, entry_id)
    db.session.commit()
    flash(_("FAQ entry deleted."), "success")
    return redirect(url_for("chats.faq_list"))
