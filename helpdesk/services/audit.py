"""The audit log of admin actions: who changed users, roles, teams, channels, responses,
rules, webhooks, settings, and who exported or erased a customer's data.

There is no second store: every admin action is already an event in the append-only
trail (the database refuses updates to it), recorded by the service that made the
change in the same transaction. The audit log is a view of those events; `record`
is for admin actions whose service records nothing itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select

from helpdesk.extensions import db
from helpdesk.models import Event, User
from helpdesk.services.events import record_event

#: Event kinds (exact, or a prefix ending in ".") that are admin actions.
ADMIN_KINDS: tuple[str, ...] = (
    "user.created",
    "user.role_changed",
    "user.deactivated",
    "user.reactivated",
    "team.",
    "shop.updated",
    "mailbox.added",
    "channel.",
    "canned_response.",
    "faq.",
    "rule.saved",
    "rule.deleted",
    "rule.enabled",
    "rule.disabled",
    "webhook.",
    "setting.",
    "settings.",
    "sla_policy.",
    "business_hours.",
    "api_token.",
    "customer.exported",
    "customer.erased",
    "customer.erasure_requested",
)
#: What the filter offers: the part of the kind before the dot.
AREAS: tuple[str, ...] = tuple(sorted({kind.split(".")[0] for kind in ADMIN_KINDS}))
PAGE_SIZE = 100


@dataclass(frozen=True)
class AuditFilters:
    area: str | None = None
    user_id: int | None = None
    since: date | None = None
    until: date | None = None


def record(kind: str, *, by: User | None, **data: Any) -> Event:
    """One admin action, e.g. record("webhook.disabled", by=admin, endpoint="payments")."""
    if not kind.startswith(tuple(ADMIN_KINDS)):
        raise ValueError(f"{kind} is not an admin action; add it to ADMIN_KINDS")
    return record_event(kind, user=by, actor="system" if by is not None else "cli", **data)


def is_admin_kind(kind: str) -> bool:
    return any(kind == k or (k.endswith(".") and kind.startswith(k)) for k in ADMIN_KINDS)


def _kind_condition(area: str | None):
    kinds = [k for k in ADMIN_KINDS if area is None or k.split(".")[0] == area]
    exact = [k for k in kinds if not k.endswith(".")]
    prefixes = [k for k in kinds if k.endswith(".")]
    return or_(Event.kind.in_(exact), *(Event.kind.startswith(p) for p in prefixes))


def entries(filters: AuditFilters, *, before: int | None = None) -> tuple[list[Event], int | None]:
    """The newest admin actions matching `filters` (older than event id `before`), and the
    id to pass as `before` for the next page (None at the end)."""
    query = select(Event).where(_kind_condition(filters.area))
    if filters.user_id is not None:
        query = query.where(Event.user_id == filters.user_id)
    if filters.since is not None:
        query = query.where(Event.created_at >= datetime.combine(filters.since, time(), UTC))
    if filters.until is not None:
        end = datetime.combine(filters.until + timedelta(days=1), time(), UTC)
        query = query.where(Event.created_at < end)
    if before is not None:
        query = query.where(Event.id < before)
    found = list(db.session.scalars(query.order_by(Event.id.desc()).limit(PAGE_SIZE + 1)))
    shown = found[:PAGE_SIZE]
    return shown, (shown[-1].id if len(found) > PAGE_SIZE else None)


def actors() -> list[User]:
    """The users who made admin actions, for the filter."""
    ids = select(Event.user_id).where(_kind_condition(None), Event.user_id.is_not(None))
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.name)))
