"""The rules a German/English shop starts with (editable like any other), and the teams
they route to.

1. A payment reminder about goods already sent back goes to the returns team at high
   priority; the order's dunning hold is checked (set while a return is open) and the
   filled-in answer waits as a draft for the agent, who is picked by round-robin; once
   per ticket (its tag says so), so the customer's replies keep their agent.
2. "Where is my order" for an order that has shipped with a tracking number is answered
   automatically with the tracking link, within the safeguards (confidence, facts,
   no answer to robots, one automatic answer per customer in the window).
3. Damaged or wrong goods: high priority.
4. A social DM escalated to care: care team, assigned by round-robin.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Rule, Team
from helpdesk.services.canned import install_default_responses
from helpdesk.services.rules.store import save_rule

RETURNS_TEAM = "Returns"
CARE_TEAM = "Care"
REMINDER_TAG = "mahnung-trotz-retoure"
COMPLAINT_TAG = "reklamation"


def default_rules(returns_team: str = RETURNS_TEAM, care_team: str = CARE_TEAM) -> list[dict]:
    message = ["message.received"]
    return [
        {
            "name": "Payment reminder for a returned order",
            "description": "Zahlungserinnerung trotz Retoure: returns team, high priority, "
            "hold checked, answer prepared as a draft.",
            "position": 10,
            "events": message,
            "conditions": {
                "all": [
                    {
                        "field": "intent",
                        "op": "has",
                        "value": "payment_reminder",
                        "min_confidence": 0.3,
                    },
                    # Once per ticket (its tag says it ran): the customer's next replies
                    # must not hand the ticket to the next agent in the round.
                    {"field": "ticket.tags", "op": "has_not", "value": REMINDER_TAG},
                ],
                "any": [
                    {
                        "field": "intent",
                        "op": "has_any",
                        "value": ["return_status", "return_request", "refund_status"],
                    },
                    {"field": "return", "op": "present"},
                    {
                        "field": "message.text",
                        "op": "contains",
                        "value": [
                            "retoure",
                            "zurückgeschickt",
                            "zurückgesendet",
                            "rücksendung",
                            "sent back",
                            "returned",
                            "return",
                        ],
                    },
                ],
            },  # fmt: skip
            "actions": [
                {"type": "set_team", "team": returns_team},
                {"type": "set_priority", "priority": "high"},
                {"type": "add_tags", "tags": [REMINDER_TAG]},
                {"type": "dunning_hold", "mode": "set"},
                {"type": "canned_response", "response": "reminder-return", "mode": "draft"},
                {"type": "assign", "to": "round_robin"},
            ],
        },
        {
            "name": "Where is my order: shipped, answer with tracking",
            "description": "Order status with a shipment that has a tracking number: "
            "answered automatically, else a draft.",
            "position": 20,
            "events": message,
            "conditions": {
                "all": [
                    # The chat bot answers this itself; a call is answered on the phone.
                    {"field": "channel", "op": "not_in", "value": ["chat", "phone"]},
                    {
                        "field": "intent",
                        "op": "has",
                        "value": "order_status",
                        "min_confidence": 0.3,
                    },
                    {"field": "intent", "op": "has_not", "value": "payment_reminder"},
                    {"field": "shipment.tracking", "op": "present"},
                ],
                "any": [],
            },  # fmt: skip
            "actions": [
                {
                    "type": "canned_response",
                    "response": "order-status",
                    "mode": "send",
                    "min_confidence": 0.5,
                    "requires": ["tracking"],
                    "status_after": "pending",
                }
            ],
        },
        {
            "name": "Damaged or wrong item",
            "description": "Beschädigt oder falsch geliefert: high priority.",
            "position": 30,
            "events": message,
            "conditions": {
                "all": [
                    {
                        "field": "intent",
                        "op": "has",
                        "value": "damaged_or_wrong",
                        "min_confidence": 0.3,
                    },
                    # Once per ticket: an agent who lowered the priority afterwards must
                    # not see the customer's next reply raise it again.
                    {"field": "ticket.tags", "op": "has_not", "value": COMPLAINT_TAG},
                ],
                "any": [],
            },  # fmt: skip
            "actions": [
                {"type": "set_priority", "priority": "high"},
                {"type": "add_tags", "tags": [COMPLAINT_TAG]},
            ],
        },
        {
            "name": "Social escalation to care",
            "description": "A DM the social team handed over goes to the care team.",
            "position": 40,
            # The escalation service records "ticket.escalation_received" (an update) on the
            # care ticket, new or not; ingest never creates an escalated ticket.
            "events": ["ticket.updated"],
            "conditions": {
                "all": [
                    {"field": "ticket.escalated", "op": "is", "value": True},
                    {"field": "ticket.team", "op": "absent"},
                ],
                "any": [],
            },
            "actions": [
                {"type": "set_team", "team": care_team},
                {"type": "assign", "to": "round_robin"},
            ],
        },
    ]


def install_default_rules(
    returns_team: str = RETURNS_TEAM, care_team: str = CARE_TEAM, *, enabled: bool = True
) -> int:
    """Create the two teams if missing, the default canned responses, and the default
    rules a shop does not have yet (by name; edited ones stay). Returns how many rules
    were added. The caller commits."""
    for name in (returns_team, care_team):
        if db.session.scalar(select(Team.id).where(Team.name == name)) is None:
            db.session.add(Team(name=name))
    install_default_responses()
    db.session.flush()
    have = set(db.session.scalars(select(Rule.name)))
    added = 0
    for data in default_rules(returns_team, care_team):
        if data["name"] in have:
            continue
        rule: dict[str, Any] = {**data, "enabled": enabled}
        save_rule(rule)
        added += 1
    return added


def update_default_rules(
    returns_team: str = RETURNS_TEAM, care_team: str = CARE_TEAM
) -> tuple[list[str], list[str]]:
    """Bring the shipped rules an install already has up to date with this version (a
    newer release may guard a rule better, e.g. "once per ticket"), by name. A rule a
    person saved in the admin is theirs and stays; each keeps its place and whether it
    is on. Returns (the names updated, the names kept as edited). The caller commits."""
    from helpdesk.services.rules.store import as_data, checked

    updated, kept = [], []
    for data in default_rules(returns_team, care_team):
        rule = db.session.scalar(select(Rule).where(Rule.name == data["name"]))
        if rule is None:
            continue
        if rule.updated_by_id is not None:
            kept.append(rule.name)
            continue
        wanted = {**data, "enabled": rule.enabled, "position": rule.position}
        current = as_data(rule)
        if any(current.get(key) != value for key, value in checked(wanted).items()):
            save_rule(wanted, rule=rule)
            updated.append(rule.name)
    return updated, kept
