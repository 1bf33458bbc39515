"""Counts of what the store holds, for `helpdesk stats` and operators."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from channel_adapters.base import CHANNEL_FAMILIES
from helpdesk.extensions import db
from helpdesk.models import Customer, Message, QuarantinedInput, Ticket


def store_stats() -> dict[str, Any]:
    """Tickets by channel, channel family, status and language; messages; customers."""

    def grouped(column) -> dict[str, int]:
        rows = db.session.execute(select(column, func.count()).group_by(column)).all()
        return {str(key) if key is not None else "unknown": count for key, count in rows}

    by_channel = grouped(Ticket.channel)
    by_family: dict[str, int] = {}
    for channel, count in by_channel.items():
        family = CHANNEL_FAMILIES.get(channel, channel)
        by_family[family] = by_family.get(family, 0) + count
    by_family_language: dict[str, dict[str, int]] = {}
    for channel, language, count in db.session.execute(
        select(Ticket.channel, Ticket.language, func.count()).group_by(
            Ticket.channel, Ticket.language
        )
    ).all():
        family = by_family_language.setdefault(CHANNEL_FAMILIES.get(channel, channel), {})
        key = language or "unknown"
        family[key] = family.get(key, 0) + count

    return {
        "tickets": {
            "total": sum(by_channel.values()),
            "by_channel": by_channel,
            "by_family": by_family,
            "by_status": grouped(Ticket.status),
            "by_language": grouped(Ticket.language),
            "by_family_and_language": by_family_language,
        },
        "messages": {
            "total": db.session.scalar(select(func.count(Message.id))),
            "by_direction": grouped(Message.direction),
        },
        "customers": db.session.scalar(
            select(func.count(Customer.id)).where(Customer.merged_into_id.is_(None))
        ),
        "quarantined": db.session.scalar(
            select(func.count(QuarantinedInput.id)).where(QuarantinedInput.resolved_at.is_(None))
        ),
    }
