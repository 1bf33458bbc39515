"""SLA policies: the first-response due time on each ticket, a warning before it passes,
and what happens when it does.

The best policy for a ticket is the active one matching most of channel, priority and
intent (an empty field matches anything), then the strictest (shortest target), then the
lower id: an urgent e-mail gets the urgent hour, not e-mail's eight. Its due time counts from
the ticket's creation or the bot's hand-off, in business hours or around the clock,
and is set on `Ticket.sla_due_at` while the ticket waits for its first response (the
inbox's "SLA due soon" view sorts by it); once answered nothing is due, and the metrics
keep the due time to say whether it was met.

The worker's `check_sla` job writes two events the rules engine can act on:

- `sla.warning`: `warn_before_minutes` before the due time, once per ticket;
  data `{"due_at": ISO time, "policy": id, "minutes_left": n}`.
- `sla.breached`: the due time passed without a first response, once per ticket;
  data `{"due_at": ISO time, "policy": id}`. With the policy's `escalate` the ticket's
  priority goes up one step (its own `ticket.priority_changed` event) and every active
  lead gets a notification (kind "sla") on the ticket.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from channel_adapters.base import CHANNEL_FAMILIES
from helpdesk.errors import InvalidInput, NotFound
from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, SlaPolicy, Ticket, TicketMetrics, User
from helpdesk.models.tickets import UNSOLVED_STATUSES, Notification
from helpdesk.models.types import utcnow
from helpdesk.services.business_time import Calendar

log = logging.getLogger(__name__)

#: What a fresh installation starts with (README "SLA policies"): chat 5 minutes around
#: the clock, social one hour, e-mail 8 business hours, urgent anything 1 business hour.
DEFAULT_POLICIES: tuple[dict, ...] = (
    {"name": "Chat", "channel": "chat", "first_response_minutes": 5,
     "business_hours": False, "warn_before_minutes": 2},
    {"name": "Social", "channel": "social", "first_response_minutes": 60,
     "business_hours": False, "warn_before_minutes": 15},
    {"name": "E-mail", "channel": "email", "first_response_minutes": 8 * 60,
     "business_hours": True, "warn_before_minutes": 60},
    {"name": "Urgent", "priority": "urgent", "first_response_minutes": 60,
     "business_hours": True, "warn_before_minutes": 15},
)  # fmt: skip


def _matches(policy: SlaPolicy, channel: str, priority: str, intent: str | None) -> bool:
    return (
        (policy.channel is None or policy.channel == channel or _social(policy.channel, channel))
        and (policy.priority is None or policy.priority == priority)
        and (policy.intent is None or policy.intent == intent)
    )


def _social(wanted: str, channel: str) -> bool:
    """A policy for a family ("social") covers its channels (messenger, instagram, ...)."""
    return wanted != channel and CHANNEL_FAMILIES.get(channel) == wanted


def best_policy(
    channel: str, priority: str, intent: str | None, policies: list[SlaPolicy] | None = None
) -> SlaPolicy | None:
    """The most specific active policy for a ticket like this, or None."""
    if policies is None:
        policies = active_policies()
    matching = [p for p in policies if _matches(p, channel, priority, intent)]
    if not matching:
        return None

    def specificity(policy: SlaPolicy) -> tuple[int, int]:
        named = sum(v is not None for v in (policy.channel, policy.priority, policy.intent))
        return (-named, policy.first_response_minutes, policy.id or 0)

    return min(matching, key=specificity)


def active_policies() -> list[SlaPolicy]:
    return list(db.session.scalars(select(SlaPolicy).where(SlaPolicy.active.is_(True))))


def due_time(policy: SlaPolicy, start: datetime, calendar: Calendar) -> datetime:
    minutes = policy.first_response_minutes
    if policy.business_hours:
        return calendar.add(start, minutes * 60)
    return start + timedelta(minutes=minutes)


def apply_policy(ticket: Ticket, intent: str | None, facts, calendar: Calendar,
                 row: TicketMetrics | None) -> datetime | None:  # fmt: skip
    """Set the ticket's due time from its policy and return the due time its metrics
    judge the first response by. Without a policy a due time set elsewhere (a rule)
    stands."""
    policy = best_policy(ticket.channel, ticket.priority, intent)
    clock = facts.handoff_at or facts.created_at
    answered = any(m.is_human_reply and m.at >= clock for m in facts.messages)
    if policy is not None:
        due = due_time(policy, clock, calendar)
    else:
        due = ticket.sla_due_at or (row.sla_due_at if row is not None else None)
    wanted = None if answered or ticket.status not in UNSOLVED_STATUSES else due
    if ticket.sla_due_at != wanted:
        ticket.sla_due_at = wanted
    return due


# -- the worker's job ---------------------------------------------------------------


@dataclass(frozen=True)
class SlaCheck:
    warned: int
    breached: int


def check_sla(now: datetime | None = None) -> SlaCheck:
    """Warn about and escalate tickets whose first-response due time is near or past.
    The caller commits. Metrics still waiting for the refresh-metrics job are brought up
    to date first: a reply the worker has not measured yet is no breach."""
    from helpdesk.services.events import record_event
    from helpdesk.services.ticket_actions import set_priority
    from helpdesk.services.ticket_metrics import refresh_all_due  # it imports us

    now = now or utcnow()
    refresh_all_due(now=now)
    policies = active_policies()
    warned = breached = 0
    # Only tickets due within the longest warning ahead: the inbox's SLA index finds them.
    ahead = max((p.warn_before_minutes for p in policies), default=0)
    rows = db.session.execute(
        select(Ticket, TicketMetrics)
        .join(TicketMetrics, TicketMetrics.ticket_id == Ticket.id)
        .where(
            Ticket.sla_due_at <= now + timedelta(minutes=ahead),
            Ticket.status.in_(UNSOLVED_STATUSES),
            TicketMetrics.first_response_at.is_(None),
            TicketMetrics.sla_breached_at.is_(None),
        )
    ).all()
    for ticket, metrics in rows:
        due = ticket.sla_due_at
        policy = best_policy(ticket.channel, ticket.priority, metrics.intent, policies)
        policy_id = policy.id if policy else None
        if now >= due:
            with db.session.no_autoflush:
                event = record_event("sla.breached", ticket=ticket, actor="worker",
                                     due_at=due.isoformat(), policy=policy_id)  # fmt: skip
                event.created_at = now
            metrics.sla_breached_at = now
            metrics.sla_met = False
            breached += 1
            if policy is None or policy.escalate:
                _escalate(ticket, set_priority)
            continue
        warn = timedelta(minutes=policy.warn_before_minutes if policy else 0)
        if warn and metrics.sla_warned_at is None and now >= due - warn:
            with db.session.no_autoflush:
                left = int((due - now).total_seconds() // 60)
                event = record_event("sla.warning", ticket=ticket, actor="worker",
                                     due_at=due.isoformat(), policy=policy_id,
                                     minutes_left=left)  # fmt: skip
                event.created_at = now
            metrics.sla_warned_at = now
            warned += 1
    if warned or breached:
        log.info("SLA check: %d warnings, %d breaches", warned, breached)
    return SlaCheck(warned, breached)


def _escalate(ticket: Ticket, set_priority) -> None:
    """One priority step up and a notification for every lead."""
    step = PRIORITIES.index(ticket.priority) if ticket.priority in PRIORITIES else 1
    if step + 1 < len(PRIORITIES):
        # The due time stays: the breach already happened; a new policy must not hide it.
        due = ticket.sla_due_at
        set_priority(ticket, PRIORITIES[step + 1], user=None)
        ticket.sla_due_at = due
    leads = db.session.scalars(select(User).where(User.role == "lead", User.active.is_(True))).all()
    db.session.add_all(Notification(user=lead, kind="sla", ticket=ticket) for lead in leads)


# -- admin ---------------------------------------------------------------------------


def save_policy(policy_id: int | None, **fields) -> SlaPolicy:
    """Create or change a policy from form values (checked here, not in the view)."""
    policy = SlaPolicy() if policy_id is None else db.session.get(SlaPolicy, policy_id)
    if policy is None:
        raise NotFound(_("There is no SLA policy %(id)s.", id=policy_id))
    name = (fields.get("name") or "").strip()
    if not name:
        raise InvalidInput(_("A policy needs a name."))
    try:
        minutes = int(fields.get("first_response_minutes") or 0)
        warn = int(fields.get("warn_before_minutes") or 0)
    except ValueError as error:
        raise InvalidInput(_("Minutes must be whole numbers.")) from error
    if minutes <= 0 or warn < 0:
        raise InvalidInput(_("The target must be at least one minute, the warning not negative."))
    priority = fields.get("priority") or None
    if priority is not None and priority not in PRIORITIES:
        raise InvalidInput(_("Unknown priority %(value)s.", value=priority))
    policy.name = name[:100]
    policy.channel = (fields.get("channel") or None) and fields["channel"][:20]
    policy.priority = priority
    policy.intent = (fields.get("intent") or None) and fields["intent"][:40]
    policy.first_response_minutes = minutes
    policy.warn_before_minutes = warn
    policy.business_hours = bool(fields.get("business_hours"))
    policy.escalate = bool(fields.get("escalate"))
    policy.active = bool(fields.get("active", True))
    db.session.add(policy)
    return policy


def install_default_policies() -> int:
    """Add the default policies when there are none; how many were added."""
    if db.session.scalar(select(SlaPolicy.id).limit(1)) is not None:
        return 0
    db.session.add_all(SlaPolicy(**fields) for fields in DEFAULT_POLICIES)
    return len(DEFAULT_POLICIES)
