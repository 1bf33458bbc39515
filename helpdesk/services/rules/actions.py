"""What a rule does. Every action writes an event on the ticket naming the rule (actor
"rule:<id>", data "rule": its name), so the timeline says which rule did what.

Each action is `run(context, params, rule)` for real and `describe(context, params)`
for the dry run, which must not change anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, insert, inspect, select, update
from sqlalchemy.orm.attributes import set_committed_value

from helpdesk.extensions import db
from helpdesk.models import CannedResponse, Draft, Message, Team, Ticket, TicketTag, User
from helpdesk.models.types import utcnow
from helpdesk.services import dunning, webhooks_out
from helpdesk.services.acknowledgements import recent_acknowledgements
from helpdesk.services.assignment import choose, may_work
from helpdesk.services.canned import fill_in, response_language, template_context
from helpdesk.services.events import record_event
from helpdesk.services.replies import add_reply
from helpdesk.services.rules.context import RuleContext
from helpdesk.services.templating import render_text
from helpdesk.services.threading import ticket_token

log = logging.getLogger(__name__)

#: Marks an automatic answer in Message.details["automatic"]; KPIs leave these out.
AUTOMATIC_ANSWER = "rule"
DEFAULT_AUTO_REPLY_HOURS = 12
DEFAULT_MIN_CONFIDENCE = 0.8


class ActionFailed(Exception):
    """An action could not be done; the rule is logged on the ticket as failed."""


@dataclass(frozen=True)
class RuleRef:
    """Who acts: the rule's id and name (events carry both)."""

    id: int
    name: str

    @property
    def actor(self) -> str:
        return f"rule:{self.id}"


def _event(kind: str, context: RuleContext, rule: RuleRef, **data: Any) -> None:
    record_event(kind, ticket=context.ticket, actor=rule.actor, rule=rule.name, **data)


# --- writing the ticket ------------------------------------------------------------------

#: Many-to-one relationships the actions set, and the column each one is.
_REFERENCES = {"team": "team_id", "assignee": "assignee_id"}
_TICKETS = Ticket.__table__
_WRITE_TICKET = update(_TICKETS).where(_TICKETS.c.id == bindparam("b_ticket_id"))


def change_ticket(context: RuleContext, **values: Any) -> None:
    """Set the ticket's columns (or `team` / `assignee` to a row or None) for the rule.

    The loaded ticket shows the new values at once; the row gets them together in one
    UPDATE when the rule's actions are done (`write_ticket_changes`). The unit of work
    would spend more on sorting out the ticket and its relationships than on the
    statement. A rule that fails has its changes rolled back with its savepoint, and the
    engine makes the ticket read its row again.
    """
    ticket = context.ticket
    for key, value in values.items():
        if key in _REFERENCES:
            set_committed_value(ticket, key, value)
            key, value = _REFERENCES[key], value.id if value is not None else None
        set_committed_value(ticket, key, value)
        context.changes[key] = value


def write_ticket_changes(context: RuleContext) -> None:
    """Write what `change_ticket` set, if anything, in one statement."""
    if context.changes:
        params = {"b_ticket_id": context.ticket_id, **context.changes}
        context.changes = {}
        db.session.connection().execute(_WRITE_TICKET, params)


# --- fields ------------------------------------------------------------------------------


# Statements the actions of the shipped rules run on most tickets they act on, built once.
_TEAM = select(Team).where(Team.name == bindparam("name"))
_ADD_TAG = insert(TicketTag.__table__)
_RESPONSE = select(CannedResponse).where(
    CannedResponse.shortcut == bindparam("shortcut"),
    CannedResponse.language == bindparam("language"),
    CannedResponse.active.is_(True),
)


def _team(name: str) -> Team:
    team = db.session.scalar(_TEAM, {"name": name})
    if team is None:
        raise ActionFailed(f"there is no team {name!r}")
    return team


def set_team(context: RuleContext, params: Mapping, rule: RuleRef) -> None:
    ticket, team = context.ticket, _team(params["team"])
    if ticket.team_id == team.id:
        return
    _event("ticket.team_changed", context, rule, old=ticket.team_id, new=team.id)
    change_ticket(context, team=team)


def assign(context: RuleContext, params: Mapping, rule: RuleRef) -> None:
    ticket, to = context.ticket, params["to"]
    if to == "nobody":
        chosen, how = None, "nobody"
    elif to == "round_robin":
        team = _team(params["team"]) if "team" in params else context.ticket.team
        if team is None:
            raise ActionFailed("round-robin needs a team: set the ticket's team first")
        chosen, how = choose(team, ticket)
        if chosen is None:
            _event("rule.not_assigned", context, rule, team=team.name, reason=how)
            return
    else:
        chosen = db.session.scalar(select(User).where(User.email == to))
        if chosen is None or not may_work(chosen, ticket):
            raise ActionFailed(f"{to} cannot work on this ticket")
        how = "named"
    if ticket.assignee_id == (chosen.id if chosen else None):
        return
    _event("ticket.assigned", context, rule, old=ticket.assignee_id,
           new=chosen.id if chosen else None, how=how)  # fmt: skip
    change_ticket(context, assignee=chosen,
                  last_activity_at=max(ticket.last_activity_at, context.now))  # fmt: skip


def set_priority(context: RuleContext, params: Mapping, rule: RuleRef) -> None:
    ticket = context.ticket
    if ticket.priority != params["priority"]:
        _event("ticket.priority_changed", context, rule, old=ticket.priority,
               new=params["priority"])  # fmt: skip
        change_ticket(context, priority=params["priority"])


def set_status(context: RuleContext, params: Mapping, rule: RuleRef) -> None:
    ticket, status = context.ticket, params["status"]
    if ticket.status == status:
        return
    _event("ticket.status_changed", context, rule, old=ticket.status, new=status)
    solved_at = (ticket.solved_at or context.now) if status in ("solved", "closed") else None
    change_ticket(context, status=status, solved_at=solved_at)


def add_tags(context: RuleContext, params: Mapping, rule: RuleRef) -> None:
    from helpdesk.services.ticket_actions import normalise_tag

    ticket = context.ticket
    # Unsaved changes to the tags in the session go first, through the ORM; else the
    # names the conditions read (or one read now) tell what the ticket has.
    pending = inspect(ticket).attrs.tags.history.has_changes()
    have = {t.name for t in ticket.tags} if pending else context.value("ticket.tags")
    new = [t for t in dict.fromkeys(normalise_tag(n) for n in params["tags"]) if t not in have]
    if not new:
        return
    if pending:
        ticket.tags.extend(TicketTag(name=tag) for tag in new)
    else:
        # Written at once and read again when next asked for: the unit of work would
        # spend more on the one row than the rest of the rule's flush.
        rows = [{"ticket_id": ticket.id, "name": tag} for tag in new]
        db.session.connection().execute(_ADD_TAG, rows)
        db.session.expire(ticket, ["tags"])
    context.seed["ticket.tags"] = frozenset(have).union(new)
    for tag in new:
        _event("ticket.tag_added", context, rule, tag=tag)


def remove_tags(context: RuleContext, params: Mapping, rule: RuleRef) -> None:
    for tag in list(context.ticket.tags):
        if tag.name in params["tags"]:
            context.ticket.tags.remove(tag)
            context.seed.pop("ticket.tags", None)  # read again when next asked for
            _event("ticket.tag_removed", context, rule, tag=tag.name)


def set_language(context: RuleContext, params: Mapping, rule: RuleRef) -> None:
    ticket = context.ticket
    if ticket.language != params["language"]:
        _event("ticket.language_changed", context, rule, old=ticket.language,
               new=params["language"])  # fmt: skip
        change_ticket(context, language=params["language"])


def add_note(context: RuleContext, params: Mapping, rule: RuleRef) -> None:
    note = _note(context.ticket, params["text"], context)
    record_event("note.added", ticket=context.ticket, message=note, actor=rule.actor,
                 rule=rule.name)  # fmt: skip


def _note(ticket: Ticket, text: str, context: RuleContext) -> Message:
    note = Message(ticket=ticket, channel=ticket.channel, direction="note",
                   author_kind="system", text=text, sent_at=context.now,
                   created_at=context.now)  # fmt: skip
    db.session.add(note)
    return note


# --- answers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A canned response filled in for the ticket, and why it may not be sent by itself
    (None: it may)."""

    response: CannedResponse
    text: str
    refused: str | None


def prepare_answer(context: RuleContext, params: Mapping) -> Answer:
    """Fill in the action's canned response and check the safeguards of sending it alone."""
    ticket = context.ticket
    language = response_language(ticket)
    response = db.session.scalar(_RESPONSE, {"shortcut": params["response"], "language": language})
    if response is None:
        raise ActionFailed(f"no active canned response {params['response']!r} in {language}")
    facts = context.facts
    present = set(facts.present)
    if facts.shipment is not None and facts.shipment.tracking_number:
        present.add("tracking")
    missing = sorted({*(response.requires or ()), *params.get("requires", ())} - present)
    filled = None if missing else fill_in(response, template_context(ticket, facts, None))
    text = filled.text if filled is not None else ""
    refused = None
    if params["mode"] == "send":
        refused = _refusal(context, params, response, missing, filled)
    elif missing:
        refused = "missing facts: " + ", ".join(missing)
    elif not text:
        refused = filled.missing if filled is not None else "nothing filled in"
    return Answer(response, text, refused)


def _refusal(context, params, response, missing, filled) -> str | None:
    """Why an automatic answer must not go out, or None. The order is the issue's:
    loops first, then confidence, facts and the customer's rate limit."""
    message = context.message
    if message is None or message.direction != "inbound":
        return "no customer message to answer"
    if message.auto_submitted:
        return "the message is itself an automatic reply"
    wanted = set(response.intents or ())
    scores = [score for intent, score in context.intents.items() if intent in wanted]
    level = params.get("min_confidence", DEFAULT_MIN_CONFIDENCE)
    if wanted and (not scores or max(scores) < level):
        best = f"{max(scores):.2f}" if scores else "none"
        return f"intent confidence {best} is below {level}"
    if missing:
        return "missing facts: " + ", ".join(missing)
    if filled is None or not filled.text:
        return filled.missing if filled is not None else "nothing filled in"
    hours = current_app.config.get("AUTO_REPLY_HOURS", DEFAULT_AUTO_REPLY_HOURS)
    last = last_automatic_answer(context.ticket.customer_id, hours)
    if last is not None:
        return f"the customer had an automatic answer in the last {hours} hours"
    return None


def last_automatic_answer(customer_id: int, hours: int) -> Message | None:
    """The customer's latest automatic answer from a rule within `hours`, if any."""
    since = utcnow() - timedelta(hours=hours)
    recent = db.session.scalars(
        select(Message)
        .join(Ticket, Message.ticket_id == Ticket.id)
        .where(
            Ticket.customer_id == customer_id,
            Message.direction == "outbound",
            Message.author_kind == "system",
            Message.created_at >= since,
        )
        .order_by(Message.id.desc())
    )
    return next((m for m in recent if (m.details or {}).get("automatic") == AUTOMATIC_ANSWER),
                None)  # fmt: skip


def canned_response(context: RuleContext, params: Mapping, rule: RuleRef) -> None:
    answer = prepare_answer(context, params)
    ticket = context.ticket
    if params["mode"] == "send" and answer.refused is None:
        channel = context.message.channel
        sent = add_reply(ticket, None, answer.text, channel=channel, author_kind="system",
                         at=context.now)  # fmt: skip
        sent.details = {"automatic": AUTOMATIC_ANSWER, "rule": rule.id,
                        "canned_response": answer.response.shortcut}  # fmt: skip
        _event("rule.answered", context, rule, response=answer.response.shortcut,
               channel=channel)  # fmt: skip
        if "status_after" in params:
            set_status(context, {"status": params["status_after"]}, rule)
        return
    if not answer.text:
        _event("rule.no_draft", context, rule, response=answer.response.shortcut,
               reason=answer.refused)  # fmt: skip
        return
    draft = Draft(ticket=ticket, channel=context.message.channel if context.message else None,
                  text=answer.text, response=answer.response.shortcut,
                  reason=(answer.refused or "")[:300] or None, rule_id=rule.id,
                  created_at=context.now)  # fmt: skip
    db.session.add(draft)
    _event("draft.prepared", context, rule, response=answer.response.shortcut,
           not_sent_because=answer.refused)  # fmt: skip


def acknowledge(context: RuleContext, params: Mapping, rule: RuleRef) -> None:
    """The acknowledgement of a new e-mail, with its hourly limit per address."""
    message, ticket = context.message, context.ticket
    if message is None or message.auto_submitted or not message.counterpart:
        return
    if message.channel != "email":
        return
    if (
        recent_acknowledgements(message.counterpart)
        >= current_app.config["ACKNOWLEDGEMENTS_PER_HOUR"]
    ):
        return
    text = render_text(
        "mail/acknowledgement",
        ticket.language,
        customer_name=ticket.customer.name,
        ticket_token=ticket_token(ticket),
    )
    sent = add_reply(ticket, None, text, author_kind="system", channel="email", at=context.now)
    sent.counterpart = message.counterpart
    sent.details = {"automatic": "acknowledgement", "rule": rule.id}
    _event("rule.acknowledged", context, rule)


# --- commerce, escalation, webhooks ------------------------------------------------------


def dunning_hold(context: RuleContext, params: Mapping, rule: RuleRef) -> None:
    """Make the linked order's holds match its open returns (set: a return is open;
    release: none is). Holds an agent set by hand stay as they are."""
    order = context.facts.order
    if order is None:
        _event("rule.hold_checked", context, rule, order=None, held=False,
               reason="no order linked")  # fmt: skip
        return
    dunning.sync_hold(order, actor=rule.actor, now=context.now)
    held = [i.number for i in order.invoices if i.on_hold]
    open_due = [i.number for i in order.invoices if i.status == "open" and i.amount_due_cents > 0]
    reason = None
    if params["mode"] == "set" and not held:
        reason = "no open return" if open_due else "nothing due"
    _event("rule.hold_checked", context, rule, order=order.number, held=held,
           mode=params["mode"], **({"reason": reason} if reason else {}))  # fmt: skip


def escalate(context: RuleContext, params: Mapping, rule: RuleRef) -> None:
    priority = params.get("priority", "urgent")
    set_priority(context, {"priority": priority}, rule)
    if "team" in params:
        set_team(context, {"team": params["team"]}, rule)
    if "note" in params:
        add_note(context, {"text": params["note"]}, rule)
    _event("ticket.escalated", context, rule, priority=priority, team=params.get("team"))


def webhook(context: RuleContext, params: Mapping, rule: RuleRef) -> None:
    ticket = context.ticket
    data = {
        "ticket": ticket.id,
        "rule": rule.name,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "intents": sorted(context.intents),
        "order": context.facts.order.number if context.facts.order is not None else None,
    }
    items = webhooks_out.emit(params["event"], data, now=context.now)
    _event("rule.webhook", context, rule, event=params["event"], queued=len(items))


ACTIONS: dict[str, Callable[[RuleContext, Mapping, RuleRef], None]] = {
    "set_team": set_team,
    "assign": assign,
    "set_priority": set_priority,
    "set_status": set_status,
    "add_tags": add_tags,
    "remove_tags": remove_tags,
    "set_language": set_language,
    "add_note": add_note,
    "canned_response": canned_response,
    "acknowledge": acknowledge,
    "dunning_hold": dunning_hold,
    "escalate": escalate,
    "webhook": webhook,
}


def describe(context: RuleContext, params: Mapping) -> str:
    """What the action would do to this ticket, in one line, changing nothing."""
    kind = params["type"]
    if kind == "canned_response":
        try:
            answer = prepare_answer(context, params)
        except ActionFailed as error:
            return f"canned response {params['response']}: would fail ({error})"
        if params["mode"] == "send" and answer.refused is None:
            return f"send {answer.response.shortcut} automatically"
        if not answer.text:
            return f"no draft of {answer.response.shortcut} ({answer.refused})"
        why = f" (not sent: {answer.refused})" if answer.refused else ""
        return f"draft {answer.response.shortcut}{why}"
    if kind == "assign" and params["to"] == "round_robin":
        return f"assign by round-robin in {params.get('team', 'the ticket’s team')}"
    details = ", ".join(f"{k}={v}" for k, v in params.items() if k != "type")
    return f"{kind.replace('_', ' ')} {details}".strip()
