"""@mentions in internal notes, and the notifications they leave for colleagues.

"@Julia" names a colleague by first name, by the part of their e-mail address
before the "@", or by their full name without spaces; "@julia@example.com" by
the whole address. A name that fits nobody, or more than one person, is refused
with a message that says how to write it, so no colleague silently misses a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import selectinload

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import Message, Ticket, User
from helpdesk.models.tickets import Notification
from helpdesk.models.types import utcnow
from helpdesk.services.events import record_event
from helpdesk.services.ticket_actions import may_see

# Not inside a word or an address ("info@shop.de" mentions nobody); an address, else a name.
_MENTION = re.compile(r"(?<![\w@.])@([\w.+-]+@[\w-]+(?:\.[\w-]+)+|[^\W\d_][\w.-]*)")


@dataclass(frozen=True)
class Mention:
    written: str  # as typed, without the "@"
    user: User


def mentioned_users(text: str, ticket: Ticket, *, author: User | None = None) -> list[User]:
    """The colleagues `text` mentions (without its author), or InvalidInput saying which
    mention fits nobody, fits several people, or names someone who cannot see `ticket`."""
    written = [w.rstrip(".-") for w in _MENTION.findall(text)]
    if not written:
        return []
    users = db.session.scalars(select(User).where(User.active.is_(True))).all()
    found: dict[int, User] = {}
    for word in dict.fromkeys(written):
        candidates = [u for u in users if _answers_to(u, word)]
        if not candidates:
            raise InvalidInput(
                _("Nobody is called @%(name)s; write a colleague's first name or e-mail "
                  "address, e.g. @%(example)s.", name=word,
                  example=author.email if author else "julia@example.com")
            )  # fmt: skip
        if len(candidates) > 1:
            raise InvalidInput(
                _("@%(name)s could be %(people)s; write the e-mail address instead.",
                  name=word, people=", ".join(f"@{u.email}" for u in candidates))
            )  # fmt: skip
        user = candidates[0]
        if not may_see(user, ticket):
            raise InvalidInput(_("%(name)s cannot see this ticket.", name=user.name))
        if author is None or user.id != author.id:
            found[user.id] = user
    return list(found.values())


def _answers_to(user: User, word: str) -> bool:
    word = word.casefold()
    email = user.email.casefold()
    if "@" in word:
        return email == word
    name = user.name.casefold().split()
    return word in {email.split("@", 1)[0], name[0] if name else "", "".join(name)}


def notify(note: Message, users: list[User], *, author: User | None) -> list[Notification]:
    """Tell each of `users` that `author` mentioned them in `note`."""
    created = [
        Notification(user=user, kind="mention", ticket=note.ticket, message=note, actor=author)
        for user in users
    ]
    db.session.add_all(created)
    if users:
        record_event("note.mentioned", ticket=note.ticket, message=note, user=author,
                     mentioned=[u.id for u in users])  # fmt: skip
    return created


def unread_count(user: User) -> int:
    return db.session.scalar(unread_query(user.id))


def unread_query(user_id: int) -> Select:
    """`unread_count`'s query (the top bar reads it with the page's other counts)."""
    return (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def recent(user: User, limit: int = 100) -> list[Notification]:
    """The user's latest notifications, newest first."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .options(
                selectinload(Notification.ticket),
                selectinload(Notification.actor),
                selectinload(Notification.message),
            )
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(user: User, ticket: Ticket | None = None) -> int:
    """Mark `user`'s unread notifications (on `ticket`, or all) as read; how many were.

    Looks before it writes: opening a ticket must not take the write lock every time."""
    unread = select(Notification.id).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if ticket is not None:
        unread = unread.where(Notification.ticket_id == ticket.id)
    ids = db.session.scalars(unread).all()
    if ids:
        db.session.execute(
            update(Notification).where(Notification.id.in_(ids)).values(read_at=utcnow())
        )
    return len(ids)
