"""Rules admin: list, create, edit, delete, dry run, export and import as JSON.

Conditions and actions are edited as JSON (the reference beside the form lists every
field, operator and action). "Dry run" checks what is in the form, saved or not,
against the last 500 tickets and shows what the rule would have done; nothing changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Rule
from helpdesk.services.events import record_event
from helpdesk.services.rules import dry_run
from helpdesk.services.rules.actions import ACTIONS
from helpdesk.services.rules.engine import compile_rule
from helpdesk.services.rules.schema import EVENTS, FIELDS, RuleInvalid
from helpdesk.services.rules.store import as_data, checked, export_json, import_rules, save_rule
from helpdesk.web.auth import roles_required

bp = Blueprint("admin_rules", __name__, url_prefix="/admin/rules")

#: How many of the latest tickets a dry run looks at.
DRY_RUN_TICKETS = 500
#: A JSON file of rules is small; larger uploads are refused before parsing.
IMPORT_MAX_BYTES = 1024 * 1024


@dataclass
class RuleForm:
    """What the form holds: the rule's plain fields and its conditions and actions as text."""

    name: str = ""
    description: str = ""
    position: str = ""
    enabled: bool = True
    stop: bool = False
    events: list[str] = field(default_factory=lambda: ["message.received"])
    conditions: str = '{\n  "all": [],\n  "any": []\n}'
    actions: str = "[]"

    @classmethod
    def of(cls, rule: Rule) -> RuleForm:
        return cls(rule.name, rule.description, str(rule.position), rule.enabled, rule.stop,
                   list(rule.events), _pretty(rule.conditions), _pretty(rule.actions))  # fmt: skip

    @classmethod
    def from_request(cls) -> RuleForm:
        form = request.form
        return cls(
            name=form.get("name", ""),
            description=form.get("description", ""),
            position=form.get("position", "").strip(),
            enabled=form.get("enabled") == "on",
            stop=form.get("stop") == "on",
            events=form.getlist("events"),
            conditions=form.get("conditions", "").replace("\r\n", "\n"),
            actions=form.get("actions", "").replace("\r\n", "\n"),
        )

    def data(self) -> dict:
        """The rule as data, or RuleInvalid when the JSON parts are not JSON."""
        errors, parsed = [], {}
        for key in ("conditions", "actions"):
            try:
                parsed[key] = json.loads(getattr(self, key) or ("{}" if key == "conditions"
                                                                else "[]"))  # fmt: skip
            except ValueError as error:
                errors.append(_("%(part)s: not valid JSON (%(error)s)", part=key, error=error))
        data = {"name": self.name, "description": self.description, "enabled": self.enabled,
                "stop": self.stop, "events": self.events, **parsed}  # fmt: skip
        if self.position:
            try:
                data["position"] = int(self.position)
            except ValueError:
                errors.append(_("position: a whole number (rules run from the lowest)"))
        if errors:
            raise RuleInvalid(errors)
        return data


def _pretty(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


@bp.get("")
@roles_required("admin")
def index():
    rules = db.session.scalars(select(Rule).order_by(Rule.position, Rule.id)).all()
    return render_template("admin/rules.html", rules=rules)


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
def create():
    if request.method == "GET":
        return _form(RuleForm())
    return _submitted(None)


@bp.route("/<int:rule_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(rule_id: int):
    rule = db.session.get(Rule, rule_id) or abort(404)
    if request.method == "GET":
        return _form(RuleForm.of(rule), rule=rule)
    return _submitted(rule)


@bp.post("/<int:rule_id>/delete")
@roles_required("admin")
def delete(rule_id: int):
    rule = db.session.get(Rule, rule_id) or abort(404)
    record_event("rule.deleted", user=current_user, rule=rule.name, definition=as_data(rule))
    db.session.delete(rule)
    db.session.commit()
    flash(_("Rule %(name)s deleted.", name=rule.name), "info")
    return redirect(url_for("admin_rules.index"))


@bp.get("/export")
@roles_required("admin")
def export():
    return Response(
        export_json(),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="helpdesk-rules.json"'},
    )


@bp.post("/import")
@roles_required("admin")
def import_():
    upload = request.files.get("file")
    raw = upload.read(IMPORT_MAX_BYTES + 1) if upload and upload.filename else b""
    raw = raw or request.form.get("json", "").encode()
    if not raw.strip():
        problems = [_("Choose a JSON file or paste the rules.")]
    elif len(raw) > IMPORT_MAX_BYTES:
        problems = [_("The file is larger than 1 MB.")]
    else:
        try:
            created, updated = import_rules(raw, user=current_user)
        except RuleInvalid as error:
            db.session.rollback()
            problems = error.errors
        else:
            db.session.commit()
            flash(_("Imported: %(created)s new, %(updated)s updated.", created=created,
                    updated=updated), "info")  # fmt: skip
            return redirect(url_for("admin_rules.index"))
    rules = db.session.scalars(select(Rule).order_by(Rule.position, Rule.id)).all()
    return render_template("admin/rules.html", rules=rules, problems=problems,
                           pasted=request.form.get("json", "")), 422  # fmt: skip


def _submitted(rule: Rule | None):
    form = RuleForm.from_request()
    try:
        data = form.data()
        if request.form.get("action") == "dry_run":
            return _dry_run(form, rule, checked(data))
        saved = save_rule(data, user=current_user, rule=rule)
    except RuleInvalid as error:
        db.session.rollback()
        return _form(form, rule=rule, problems=error.errors), 422
    db.session.commit()
    flash(_("Saved."), "info")
    return redirect(url_for("admin_rules.edit", rule_id=saved.id))


def _dry_run(form: RuleForm, rule: Rule | None, data: dict):
    compiled = compile_rule(rule.id if rule else 0, data["name"], data["stop"], data["events"],
                            data["conditions"], data["actions"])  # fmt: skip
    checked_count, matches = dry_run(compiled, limit=DRY_RUN_TICKETS)
    db.session.rollback()  # a dry run changes nothing
    return _form(form, rule=rule, dry=(checked_count, matches))


def _form(form: RuleForm, *, rule: Rule | None = None, problems=None, dry=None):
    return render_template(
        "admin/rules_form.html",
        form=form,
        rule=rule,
        problems=problems,
        dry=dry,
        events=EVENTS,
        fields=FIELDS,
        actions=sorted(ACTIONS),
    )


@bp.app_template_global()
def rule_drafts(ticket, messages=None) -> list:
    """The drafts rules prepared for `ticket` since an agent last answered (the composer
    offers them like suggested answers). With the ticket's `messages` at hand (the ticket
    page's timeline), they are picked from its unused drafts without a query of their own."""
    from helpdesk.services.rules.drafts import open_drafts

    if messages is None:
        return open_drafts(ticket)
    answered = max(
        (m.created_at for m in messages if m.direction == "outbound" and m.author_kind == "agent"),
        default=None,
    )
    return [d for d in ticket.unused_drafts if answered is None or d.created_at > answered]


# --- agents: away, capacity, channel access ----------------------------------------------


@bp.get("/agents")
@roles_required("admin")
def agents():
    from channel_adapters.base import CHANNELS
    from helpdesk.models import User

    users = db.session.scalars(
        select(User).where(User.role != "admin").order_by(User.name, User.id)
    ).all()
    return render_template("admin/rules_agents.html", users=users, channels=CHANNELS)


@bp.post("/agents/<int:user_id>")
@roles_required("admin")
def save_agent(user_id: int):
    from helpdesk.models import User
    from helpdesk.services.assignment import AvailabilityInvalid, set_availability

    user = db.session.get(User, user_id) or abort(404)
    form = request.form
    try:
        set_availability(
            user,
            away=form.get("away") == "on",
            max_open_tickets=form.get("max_open_tickets", ""),
            max_chats=form.get("max_chats", ""),
            channels=None if form.get("all_channels") == "on" else form.getlist("channels"),
            by=current_user,
        )
    except AvailabilityInvalid as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("admin_rules.agents")), 303
    db.session.commit()
    flash(_("Saved."), "info")
    return redirect(url_for("admin_rules.agents"))
