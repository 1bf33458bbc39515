"""What admins change in the web UI: users' roles and access, teams, shops' notifications;
and the health of every channel connection. Each change is an event on the trail.

The caller (a request) commits. Refusals are `InvalidInput` saying what to fix, in the
admin's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from helpdesk.errors import InvalidInput, NotFound
from helpdesk.extensions import db
from helpdesk.models import (
    ROLES,
    ChannelState,
    InboundDelivery,
    OutboxItem,
    Shop,
    Team,
    User,
    WebhookEndpoint,
)
from helpdesk.services.events import record_event

TEAM_NAME_LENGTH = Team.name.type.length


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("There is no user %(id)s.", id=user_id))
    return user


def _other_active_admins(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == "admin", User.active.is_(True), User.id != user.id)
    )


def change_role(user_id: int, role: str, *, by: User) -> User:
    """Give a user another role. The last active admin keeps theirs: someone must be
    able to administer the helpdesk."""
    user = _user(user_id)
    if role not in ROLES:
        raise InvalidInput(_("Unknown role %(role)s.", role=role))
    if user.role == role:
        return user
    if user.role == "admin" and not _other_active_admins(user):
        raise InvalidInput(_("The last administrator cannot give up the role."))
    record_event("user.role_changed", user=by, target_user_id=user.id, email=user.email,
                 old=user.role, new=role)  # fmt: skip
    user.role = role
    return user


def set_active(user_id: int, active: bool, *, by: User) -> User:
    """Deactivate a user (they can no longer sign in; their tickets and history stay)
    or let them in again. Nobody deactivates themselves or the last active admin."""
    user = _user(user_id)
    if user.active == active:
        return user
    if not active and user.id == by.id:
        raise InvalidInput(_("You cannot deactivate yourself."))
    if not active and user.role == "admin" and not _other_active_admins(user):
        raise InvalidInput(_("The last administrator cannot be deactivated."))
    user.active = active
    kind = "user.reactivated" if active else "user.deactivated"
    record_event(kind, user=by, target_user_id=user.id, email=user.email)
    return user


# --- teams ---------------------------------------------------------------------------------


def _team_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(_("A team needs a name."))
    if len(name) > TEAM_NAME_LENGTH:
        raise InvalidInput(
            _("A team name may be at most %(max)s characters long.", max=TEAM_NAME_LENGTH)
        )
    return name


def _unique_team_name(name: str, team: Team | None = None) -> str:
    name = _team_name(name)
    clash = db.session.scalar(select(Team).where(func.lower(Team.name) == name.lower()))
    if clash is not None and clash is not team:
        raise InvalidInput(_("There is already a team called %(name)s.", name=clash.name))
    return name


def _team(team_id: int) -> Team:
    team = db.session.get(Team, team_id)
    if team is None:
        raise NotFound(_("There is no team %(id)s.", id=team_id))
    return team


def create_team(name: str, *, by: User) -> Team:
    team = Team(name=_unique_team_name(name))
    db.session.add(team)
    db.session.flush()
    record_event("team.created", user=by, team_id=team.id, name=team.name)
    return team


def rename_team(team_id: int, name: str, *, by: User) -> Team:
    team = _team(team_id)
    name = _unique_team_name(name, team)
    if name != team.name:
        record_event("team.renamed", user=by, team_id=team.id, old=team.name, new=name)
        team.name = name
    return team


def add_member(team_id: int, user_id: int, *, by: User) -> Team:
    team, user = _team(team_id), _user(user_id)
    if user not in team.members:
        team.members.append(user)
        record_event("team.member_added", user=by, team_id=team.id, target_user_id=user.id)
    return team


def remove_member(team_id: int, user_id: int, *, by: User) -> Team:
    team, user = _team(team_id), _user(user_id)
    if user in team.members:
        team.members.remove(user)
        record_event("team.member_removed", user=by, team_id=team.id, target_user_id=user.id)
    return team


# --- shops ---------------------------------------------------------------------------------


def set_return_notifications(shop_id: int, on: bool, *, by: User) -> Shop:
    """Whether the shop's customers hear as their return moves (as `helpdesk shops set`)."""
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise NotFound(_("There is no shop %(id)s.", id=shop_id))
    if shop.return_notifications != on:
        shop.return_notifications = on
        record_event("shop.updated", user=by, shop=shop.key, return_notifications=on)
    return shop


# --- channel health ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    endpoint: WebhookEndpoint
    pending: int
    sent: int
    dead: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class InboundSource:
    """A webhook sender we receive from (Shopify, the carrier, ...), by what arrived."""

    source: str
    deliveries: int
    last_received_at: datetime


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    connections: list[ChannelState]
    endpoints: list[EndpointHealth]
    inbound: list[InboundSource]
    shops: list[Shop]


def channel_health() -> ChannelHealth:
    """Every configured connection with its last success and error, outbound webhook
    endpoints with their queues, the webhook senders heard from, and the shops."""
    connections = db.session.scalars(
        select(ChannelState).order_by(ChannelState.kind, ChannelState.name)
    ).all()
    endpoint_id = OutboxItem.payload["endpoint_id"].as_integer()
    counts = {
        (row.endpoint, row.status): row.n
        for row in db.session.execute(
            select(endpoint_id.label("endpoint"), OutboxItem.status, func.count().label("n"))
            .where(OutboxItem.kind == "webhook")
            .group_by(endpoint_id, OutboxItem.status)
        )
    }
    endpoints = []
    for endpoint in db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.name)):
        last_error = db.session.scalar(
            select(OutboxItem.last_error)
            .where(
                OutboxItem.kind == "webhook",
                endpoint_id == endpoint.id,
                OutboxItem.last_error.is_not(None),
            )
            .order_by(OutboxItem.id.desc())
            .limit(1)
        )
        endpoints.append(
            EndpointHealth(
                endpoint,
                pending=counts.get((endpoint.id, "pending"), 0),
                sent=counts.get((endpoint.id, "sent"), 0),
                dead=counts.get((endpoint.id, "dead"), 0),
                last_error=last_error,
            )
        )
    inbound = [
        InboundSource(row.source, row.n, row.last)
        for row in db.session.execute(
            select(
                InboundDelivery.source,
                func.count().label("n"),
                func.max(InboundDelivery.received_at).label("last"),
            )
            .group_by(InboundDelivery.source)
            .order_by(InboundDelivery.source)
        )
    ]
    shops = db.session.scalars(select(Shop).order_by(Shop.name)).all()
    return ChannelHealth(list(connections), endpoints, inbound, list(shops))
