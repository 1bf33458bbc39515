"""Public comments on Facebook and Instagram as tickets: which tickets are comment
conversations, and which comment a reply answers.

A comment is stored like a DM (through `ingest`, on the platform's channel, idempotent on
the comment id) and is told apart by its thread key (`comment:<account>:<post>:<customer>`,
see `channel_adapters.social.meta_comments`) and its details (`"public": true`,
`"kind": "comment"`, the comment and post ids). The thread key decides, because it is
indexed and it is what a reply inherits (`replies.add_reply`): a reply on a comment
conversation is posted publicly under the customer's comment.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from channel_adapters.social.meta_comments import (
    COMMENT_TEXT_LIMITS,
    COMMENT_THREAD_PREFIX,
    is_comment_thread,
)
from helpdesk.extensions import db
from helpdesk.models import Message, Ticket

#: The channels whose tickets can be public comment conversations.
COMMENT_CHANNELS: tuple[str, ...] = tuple(COMMENT_TEXT_LIMITS)


def comment_thread(ticket: Ticket, channel: str | None) -> str | None:
    """The comment conversation a reply on `channel` would answer, or None (a DM, or
    another channel). Same rule as `replies.add_reply`: the channel's latest thread key."""
    if channel not in COMMENT_CHANNELS:
        return None
    keys = [m.thread_key for m in ticket.messages if m.channel == channel and m.thread_key]
    return keys[-1] if keys and is_comment_thread(keys[-1]) else None


def answered_comment(ticket: Ticket, thread_key: str) -> Message | None:
    """The customer's latest comment in that conversation on `ticket`."""
    return db.session.scalars(
        select(Message)
        .where(
            Message.ticket_id == ticket.id,
            Message.direction == "inbound",
            Message.thread_key == thread_key,
        )
        .order_by(Message.id.desc())
        .limit(1)
    ).first()


def comment_ticket_ids(ticket_ids: Iterable[int]) -> set[int]:
    """Those of `ticket_ids` that are public comment conversations."""
    ids = list(ticket_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(Message.ticket_id)
            .where(
                Message.ticket_id.in_(ids),
                Message.direction == "inbound",
                Message.thread_key.startswith(COMMENT_THREAD_PREFIX, autoescape=True),
            )
            .distinct()
        )
    )
