"""What a rule may say: its events, condition fields with their operators, and actions with
their parameters; and the check that a rule says only that, with errors a person can act on.

Rules are data an admin writes (in the admin UI or as JSON): every mistake is reported
with where it is ("conditions.all[2]") and what would be right, and nothing is saved
until the whole rule is right.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channel_adapters.base import CHANNELS
from classifiers.base import INTENTS
from helpdesk.errors import InvalidInput
from helpdesk.models import LANGUAGES, PRIORITIES, RETURN_STATUSES, TICKET_STATUSES
from helpdesk.models.commerce import SHIPMENT_STATUSES

#: The ticket events a rule can run on.
EVENTS: tuple[str, ...] = (
    "message.received",  # a customer's message was stored (every channel)
    "ticket.created",  # a new ticket (also one made by a split or an escalation)
    "ticket.updated",  # status, priority, assignee, team or tags changed by a person
    "ticket.solved",
    "sla.warning",  # emitted by the SLA checks (KPIs part)
    "sla.breached",
    "return.transition",  # the ticket's return moved a step (requested ... refunded)
)
ENTITY_KINDS: tuple[str, ...] = ("order_number", "tracking_number", "amount", "size", "date")
INVOICE_STATES: tuple[str, ...] = ("open", "in_dunning", "on_hold", "paid")
CUSTOMER_KINDS: tuple[str, ...] = ("new", "returning")
#: Facts an automatic answer can require (canned responses' own plus "tracking").
FACTS: tuple[str, ...] = ("order", "invoice", "return", "shipment", "hold", "tracking")
ACTION_TYPES: tuple[str, ...] = (
    "set_team",
    "assign",
    "set_priority",
    "set_status",
    "add_tags",
    "remove_tags",
    "set_language",
    "add_note",
    "canned_response",
    "acknowledge",
    "dunning_hold",
    "escalate",
    "webhook",
)

_SCALAR_OPS = ("is", "is_not", "in", "not_in")
_PRESENCE_OPS = ("present", "absent")
_SET_OPS = ("has", "has_not", "has_any")
_TEXT_OPS = ("contains", "not_contains")
_NUMBER_OPS = ("eq", "gte", "lte")


@dataclass(frozen=True)
class Field:
    """A condition field: its operators, the values it can take (None: any text), its
    kind ("choice", "set", "text", "number", "bool") and how dear it is to find out
    (cheap fields are tested first, so most rules end before any query)."""

    ops: tuple[str, ...]
    kind: str
    choices: tuple[str, ...] | None = None
    cost: int = 1


FIELDS: dict[str, Field] = {
    "channel": Field(_SCALAR_OPS, "choice", CHANNELS, cost=0),
    "mailbox": Field(_SCALAR_OPS + _TEXT_OPS + _PRESENCE_OPS, "text", cost=0),
    "message.auto_submitted": Field(("is",), "bool", cost=0),
    "message.text": Field(_TEXT_OPS, "text", cost=1),
    "language": Field(_SCALAR_OPS + _PRESENCE_OPS, "choice", LANGUAGES, cost=1),
    "intent": Field(_SET_OPS, "set", INTENTS, cost=1),
    "entity": Field(_SET_OPS, "set", ENTITY_KINDS, cost=1),
    "ticket.status": Field(_SCALAR_OPS, "choice", TICKET_STATUSES, cost=1),
    "ticket.priority": Field(_SCALAR_OPS, "choice", PRIORITIES, cost=1),
    "ticket.team": Field(_SCALAR_OPS + _PRESENCE_OPS, "text", cost=2),
    "ticket.assignee": Field(_PRESENCE_OPS, "text", cost=1),
    "ticket.tags": Field(_SET_OPS, "set", cost=2),
    "ticket.subject": Field(_TEXT_OPS, "text", cost=1),
    "ticket.escalated": Field(("is",), "bool", cost=2),
    "customer": Field(("is", "is_not"), "choice", CUSTOMER_KINDS, cost=2),
    "customer.open_tickets": Field(_NUMBER_OPS, "number", cost=2),
    "order": Field(_PRESENCE_OPS, "text", cost=2),
    "shipment.status": Field(_SCALAR_OPS + _PRESENCE_OPS, "choice", SHIPMENT_STATUSES, cost=3),
    "shipment.tracking": Field(_PRESENCE_OPS, "text", cost=3),
    "invoice": Field(_SET_OPS, "set", INVOICE_STATES, cost=3),
    "return": Field(_SCALAR_OPS + _PRESENCE_OPS, "choice", RETURN_STATUSES, cost=3),
    "business_hours": Field(("is",), "bool", cost=1),
}


class RuleInvalid(InvalidInput):
    """A rule (or a file of rules) that cannot be saved; `errors` lists every problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


def validate_rule(data: Any, where: str = "") -> dict[str, Any]:
    """The rule `data` in its stored shape, or RuleInvalid naming every mistake."""
    errors: list[str] = []
    at = f"{where}." if where else ""
    if not isinstance(data, Mapping):
        raise RuleInvalid([f"{where or 'rule'}: expected an object with name, events, "
                           "conditions and actions"])  # fmt: skip
    known = {"name", "description", "position", "enabled", "stop", "events", "conditions",
             "actions"}  # fmt: skip
    for key in sorted(set(data) - known):
        errors.append(f"{at}{key}: unknown key; a rule has {', '.join(sorted(known))}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(f"{at}name: give the rule a name")
    elif len(name.strip()) > 120:
        errors.append(f"{at}name: at most 120 characters")
    position = data.get("position", 0)
    if not isinstance(position, int) or isinstance(position, bool):
        errors.append(f"{at}position: a whole number (rules run from the lowest)")
    for flag in ("enabled", "stop"):
        if not isinstance(data.get(flag, flag == "enabled"), bool):
            errors.append(f"{at}{flag}: true or false")
    events = data.get("events")
    if not isinstance(events, list) or not events:
        errors.append(f"{at}events: a list of at least one of {', '.join(EVENTS)}")
        events = []
    for event in events:
        if event not in EVENTS:
            errors.append(f"{at}events: unknown event {event!r}; use {', '.join(EVENTS)}")
    conditions = data.get("conditions", {})
    if not isinstance(conditions, Mapping) or set(conditions) - {"all", "any"}:
        errors.append(f'{at}conditions: an object with the lists "all" and "any"')
        conditions = {}
    for group in ("all", "any"):
        items = conditions.get(group, [])
        if not isinstance(items, list):
            errors.append(f"{at}conditions.{group}: a list of conditions")
            continue
        for index, condition in enumerate(items):
            errors += _condition_errors(condition, f"{at}conditions.{group}[{index}]")
    actions = data.get("actions")
    if not isinstance(actions, list) or not actions:
        errors.append(f"{at}actions: a list of at least one action")
        actions = []
    for index, action in enumerate(actions):
        errors += _action_errors(action, f"{at}actions[{index}]")
    if errors:
        raise RuleInvalid(errors)
    return {
        "name": name.strip(),
        "description": str(data.get("description") or ""),
        "position": position,
        "enabled": data.get("enabled", True),
        "stop": data.get("stop", False),
        "events": list(dict.fromkeys(events)),
        "conditions": {
            "all": list(conditions.get("all", [])),
            "any": list(conditions.get("any", [])),
        },  # fmt: skip
        "actions": list(actions),
    }


def _condition_errors(condition: Any, where: str) -> list[str]:
    if not isinstance(condition, Mapping):
        return [f'{where}: expected {{"field": ..., "op": ..., "value": ...}}']
    errors = []
    unknown = set(condition) - {"field", "op", "value", "min_confidence"}
    if unknown:
        errors.append(f"{where}: unknown key {', '.join(sorted(unknown))}")
    name = condition.get("field")
    field = FIELDS.get(name)
    if field is None:
        return [*errors, f"{where}.field: unknown field {name!r}; use {', '.join(FIELDS)}"]
    op = condition.get("op")
    if op not in field.ops:
        return [*errors, f"{where}.op: {name} allows {', '.join(field.ops)}, not {op!r}"]
    value = condition.get("value")
    if op in _PRESENCE_OPS:
        pass
    elif op in ("in", "not_in", "has_any"):
        if not isinstance(value, list) or not value:
            errors.append(f"{where}.value: {op} needs a list of values")
        else:
            errors += [_value_error(field, v, name, where) for v in value]
    elif field.kind == "bool":
        if not isinstance(value, bool):
            errors.append(f"{where}.value: true or false")
    elif field.kind == "number":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            errors.append(f"{where}.value: a whole number of at least 0")
    elif op in _TEXT_OPS:
        words = value if isinstance(value, list) else [value]
        if not words or not all(isinstance(w, str) and w.strip() for w in words):
            errors.append(f"{where}.value: a word or phrase, or a list of them")
    else:
        errors.append(_value_error(field, value, name, where))
    if "min_confidence" in condition:
        level = condition["min_confidence"]
        if name != "intent":
            errors.append(f"{where}.min_confidence: only intent conditions have a confidence")
        elif not isinstance(level, int | float) or isinstance(level, bool) or not 0 <= level <= 1:
            errors.append(f"{where}.min_confidence: a number from 0 to 1, e.g. 0.6")
    return [e for e in errors if e]


def _value_error(field: Field, value: Any, name: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        return f"{where}.value: a text value for {name}"
    if field.choices is not None and value not in field.choices:
        return f"{where}.value: {value!r} is not a {name}; use {', '.join(field.choices)}"
    return ""


def _action_errors(action: Any, where: str) -> list[str]:
    if not isinstance(action, Mapping) or not isinstance(action.get("type"), str):
        return [f"{where}: expected {{\"type\": ..., ...}} with type one of "
                f"{', '.join(ACTION_TYPES)}"]  # fmt: skip
    kind = action["type"]
    if kind not in ACTION_TYPES:
        return [f"{where}.type: unknown action {kind!r}; use {', '.join(ACTION_TYPES)}"]
    spec = _ACTION_PARAMS[kind]
    errors = [
        f"{where}: {kind} takes no {key!r} (it takes {', '.join(spec) or 'nothing'})"
        for key in sorted(set(action) - set(spec) - {"type"})
    ]
    for key, (required, check, hint) in spec.items():
        if key not in action:
            if required:
                errors.append(f"{where}.{key}: {kind} needs {key} ({hint})")
            continue
        if not check(action[key]):
            errors.append(f"{where}.{key}: {hint}")
    if kind == "assign" and action.get("to") == "round_robin" and "team" not in action:
        pass  # the ticket's team, set by an earlier action or a person
    return errors


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _tags(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_text(v) for v in value)


def _one_of(*choices: str):
    return lambda value: value in choices


def _confidence(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _facts(value: Any) -> bool:
    return isinstance(value, list) and all(v in FACTS for v in value)


_ACTION_PARAMS: dict[str, dict[str, tuple[bool, Any, str]]] = {
    "set_team": {"team": (True, _text, "the name of a team")},
    "assign": {
        "to": (True, _text, '"round_robin", "nobody" or an agent\'s e-mail address'),
        "team": (False, _text, "the team whose turn it is (default: the ticket's team)"),
    },
    "set_priority": {"priority": (True, _one_of(*PRIORITIES), f"one of {', '.join(PRIORITIES)}")},
    "set_status": {
        "status": (True, _one_of(*TICKET_STATUSES), f"one of {', '.join(TICKET_STATUSES)}")
    },
    "add_tags": {"tags": (True, _tags, 'a list of tags, e.g. ["retoure"]')},
    "remove_tags": {"tags": (True, _tags, "a list of tags")},
    "set_language": {"language": (True, _one_of(*LANGUAGES), f"one of {', '.join(LANGUAGES)}")},
    "add_note": {"text": (True, _text, "the note's text")},
    "canned_response": {
        "response": (True, _text, 'a canned response\'s shortcut, e.g. "order-status"'),
        "mode": (True, _one_of("draft", "send"), '"draft" or "send"'),
        "min_confidence": (False, _confidence, "a number from 0 to 1 (send only above it)"),
        "requires": (False, _facts, f"a list of facts from {', '.join(FACTS)}"),
        "status_after": (
            False,
            _one_of(*TICKET_STATUSES),
            f"the status after an automatic answer, one of {', '.join(TICKET_STATUSES)}",
        ),
    },
    "acknowledge": {},
    "dunning_hold": {"mode": (True, _one_of("set", "release"), '"set" or "release"')},
    "escalate": {
        "priority": (False, _one_of(*PRIORITIES), f"one of {', '.join(PRIORITIES)}"),
        "team": (False, _text, "the name of a team"),
        "note": (False, _text, "a note for the team"),
    },
    "webhook": {
        "event": (
            True,
            lambda v: _text(v) and v.startswith("rule.") and len(v) <= 60,
            'an event name starting with "rule.", e.g. "rule.vip_complaint"',
        )
    },
}
