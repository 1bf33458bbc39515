"""Testing one condition against a ticket's context."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from helpdesk.services.rules.context import RuleContext
from helpdesk.services.rules.schema import FIELDS


def cost(condition: Mapping[str, Any]) -> int:
    return FIELDS[condition["field"]].cost


def holds(condition: Mapping[str, Any], context: RuleContext) -> bool:
    """Whether `condition` (already validated) holds for `context`."""
    field, op = condition["field"], condition["op"]
    wanted = condition.get("value")
    actual = context.value(field)
    if field == "intent":
        level = condition.get("min_confidence", 0)
        actual = {intent for intent, score in actual.items() if score >= level}
    if op == "present":
        return bool(actual)
    if op == "absent":
        return not actual
    if op == "is":
        return actual == wanted
    if op == "is_not":
        return actual != wanted
    if op == "in":
        return actual in wanted
    if op == "not_in":
        return actual not in wanted
    if op == "has":
        return wanted in actual
    if op == "has_not":
        return wanted not in actual
    if op == "has_any":
        return bool(set(wanted) & set(actual))
    if op in ("contains", "not_contains"):
        text = (actual or "").casefold()
        words = wanted if isinstance(wanted, list) else [wanted]
        found = any(word.casefold() in text for word in words)
        return found if op == "contains" else not found
    if op == "eq":
        return actual == wanted
    if op == "gte":
        return actual >= wanted
    if op == "lte":
        return actual <= wanted
    raise ValueError(f"unknown operator {op!r}")


def describe(condition: Mapping[str, Any]) -> str:
    """One line for people, e.g. "intent has payment_reminder (confidence >= 0.5)"."""
    text = f"{condition['field']} {condition['op'].replace('_', ' ')}"
    if "value" in condition:
        value = condition["value"]
        text += " " + (", ".join(map(str, value)) if isinstance(value, list) else str(value))
    if "min_confidence" in condition:
        text += f" (confidence >= {condition['min_confidence']})"
    return text
