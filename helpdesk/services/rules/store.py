"""Saving, exporting and importing rules: always validated, all or nothing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import CannedResponse, Rule, Team, User
from helpdesk.services.events import record_event
from helpdesk.services.rules.schema import RuleInvalid, validate_rule

EXPORT_VERSION = 1


def checked(data: Any, where: str = "") -> dict[str, Any]:
    """`data` validated, and the teams, agents and canned responses it names existing."""
    rule = validate_rule(data, where)
    at = f"{where}." if where else ""
    errors = []
    teams = set(db.session.scalars(select(Team.name)))
    responses = set(db.session.scalars(select(CannedResponse.shortcut)))
    for index, action in enumerate(rule["actions"]):
        place = f"{at}actions[{index}]"
        if "team" in action and action["team"] not in teams:
            errors.append(f"{place}.team: there is no team {action['team']!r} "
                              f"(teams: {', '.join(sorted(teams)) or 'none yet'})")  # fmt: skip
        if action["type"] == "canned_response" and action["response"] not in responses:
            errors.append(f"{place}.response: there is no canned response "
                          f"{action['response']!r}")  # fmt: skip
        if (
            action["type"] == "assign"
            and action["to"] not in ("round_robin", "nobody")
            and db.session.scalar(select(User.id).where(User.email == action["to"])) is None
        ):
            errors.append(f"{place}.to: there is no user {action['to']!r}")
    if errors:
        raise RuleInvalid(errors)
    return rule


def save_rule(data: Any, *, user: User | None = None, rule: Rule | None = None) -> Rule:
    """Create a rule from `data`, or replace `rule`'s definition with it."""
    values = checked(data)
    clash = db.session.scalar(select(Rule).where(Rule.name == values["name"]))
    if clash is not None and clash is not rule:
        raise RuleInvalid([f"name: a rule called {values['name']!r} exists already"])
    if rule is None:
        if "position" not in data:  # new rules go last
            values["position"] = (db.session.scalar(select(func.max(Rule.position))) or 0) + 10
        rule = Rule()
        db.session.add(rule)
    for key, value in values.items():
        setattr(rule, key, value)
    rule.updated_by_id = user.id if user else None
    db.session.flush()
    record_event("rule.saved", user=user, actor="system" if user else "cli", rule=rule.name,
                 rule_id=rule.id)  # fmt: skip
    return rule


def as_data(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "description": rule.description,
        "position": rule.position,
        "enabled": rule.enabled,
        "stop": rule.stop,
        "events": list(rule.events),
        "conditions": rule.conditions,
        "actions": list(rule.actions),
    }


def export_rules() -> dict[str, Any]:
    rules = db.session.scalars(select(Rule).order_by(Rule.position, Rule.id))
    return {"version": EXPORT_VERSION, "rules": [as_data(r) for r in rules]}


def export_json() -> str:
    return json.dumps(export_rules(), ensure_ascii=False, indent=2) + "\n"


def import_rules(payload: Any, *, user: User | None = None) -> tuple[int, int]:
    """Import rules (matched by name: updated, else created). Every rule is checked first;
    one mistake anywhere and nothing is imported. Returns (created, updated)."""
    if isinstance(payload, str | bytes):
        try:
            payload = json.loads(payload)
        except ValueError as error:
            raise RuleInvalid([f"not JSON: {error}"]) from error
    if isinstance(payload, Mapping):
        version = payload.get("version", EXPORT_VERSION)
        if version != EXPORT_VERSION:
            raise RuleInvalid([f"version: this helpdesk reads version {EXPORT_VERSION}, "
                               f"not {version!r}"])  # fmt: skip
        payload = payload.get("rules")
    if not isinstance(payload, list):
        raise RuleInvalid(['expected {"version": 1, "rules": [...]} or a list of rules'])
    errors, values = [], []
    for index, data in enumerate(payload):
        try:
            values.append(checked(data, f"rules[{index}]"))
        except RuleInvalid as error:
            errors += error.errors
    names = [v["name"] for v in values]
    errors += [f"rules: the name {n!r} is used twice" for n in sorted({n for n in names
               if names.count(n) > 1})]  # fmt: skip
    if errors:
        raise RuleInvalid(errors)
    created = updated = 0
    for data, value in zip(payload, values, strict=True):
        existing = db.session.scalar(select(Rule).where(Rule.name == value["name"]))
        save_rule(data, user=user, rule=existing)
        created, updated = (created, updated + 1) if existing else (created + 1, updated)
    return created, updated
