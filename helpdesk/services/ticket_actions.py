"""What agents do to a ticket as a whole: set its fields, merge tickets, split a message off.

Every change is an event on each ticket it touches, with the old and the new
value, so the trail reads as the story. A merge closes the source with a pointer
to the target (`merged_into_id`) and lists the messages it moved, which is what
`undo_merge` reads to put them back. A split is undone by merging the new ticket
back. The caller owns the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, Event, IntentTag, Message, Team, Ticket, TicketTag, User
from helpdesk.models.types import utcnow
from helpdesk.services.events import record_event
from helpdesk.services.inbox import SOCIAL_CHANNELS
from helpdesk.services.replies import set_status
from helpdesk.services.ticket_metrics import refresh_ticket

TAG_LENGTH = TicketTag.name.type.length
_TAG = re.compile(r"^[\w][\w.-]*$")


def may_see(user: User, ticket: Ticket) -> bool:
    """Whether `user` may see `ticket` (social media managers: social tickets only)."""
    return user.active and (user.role != "social" or ticket.channel in SOCIAL_CHANNELS)


# --- fields ------------------------------------------------------------------------------


def assign(ticket: Ticket, assignee: User | None, *, user: User | None) -> None:
    """Give `ticket` to `assignee` (None: to nobody)."""
    if assignee is not None and not may_see(assignee, ticket):
        raise InvalidInput(_("%(name)s cannot work on this ticket.", name=assignee.name))
    if assignee is ticket.assignee:
        return
    record_event(
        "ticket.assigned",
        ticket=ticket,
        user=user,
        old=ticket.assignee_id,
        new=assignee.id if assignee else None,
    )
    ticket.assignee = assignee
    ticket.last_activity_at = utcnow()
    refresh_ticket(ticket)  # KPIs by agent


def set_priority(ticket: Ticket, priority: str, *, user: User | None) -> None:
    if priority not in PRIORITIES:
        raise InvalidInput(_("Unknown priority %(value)s.", value=priority))
    if priority == ticket.priority:
        return
    record_event(
        "ticket.priority_changed", ticket=ticket, user=user, old=ticket.priority, new=priority
    )
    ticket.priority = priority
    refresh_ticket(ticket)  # the SLA policy may differ


def set_team(ticket: Ticket, team: Team | None, *, user: User | None) -> None:
    if team is ticket.team:
        return
    record_event(
        "ticket.team_changed",
        ticket=ticket,
        user=user,
        old=ticket.team_id,
        new=team.id if team else None,
    )
    ticket.team = team
    refresh_ticket(ticket)  # the team's business hours and SLA


def normalise_tag(name: str) -> str:
    """ "Rücksendung Eilig" -> "rücksendung-eilig"; refuses what cannot be a tag."""
    tag = re.sub(r"\s+", "-", name.strip().lower())
    if not tag or len(tag) > TAG_LENGTH or not _TAG.match(tag):
        raise InvalidInput(
            _(
                "A tag is one word of letters, digits, '-', '_' or '.', "
                "at most %(length)s characters.",
                length=TAG_LENGTH,
            )
        )
    return tag


def add_tag(ticket: Ticket, name: str, *, user: User | None) -> str:
    tag = normalise_tag(name)
    if tag not in {t.name for t in ticket.tags}:
        ticket.tags.append(TicketTag(name=tag))
        record_event("ticket.tag_added", ticket=ticket, user=user, tag=tag)
    return tag


def remove_tag(ticket: Ticket, name: str, *, user: User | None) -> None:
    for tag in list(ticket.tags):
        if tag.name == name:
            ticket.tags.remove(tag)
            record_event("ticket.tag_removed", ticket=ticket, user=user, tag=name)


# --- merge and split ---------------------------------------------------------------------


def merge_tickets(target: Ticket, sources: Sequence[Ticket], user: User | None) -> list[Message]:
    """Move every message of `sources` into `target`; each source is closed, points at
    the target and says so in a note. The target takes over the sources' tags, and their
    order when it has none. Returns the moved messages. Undo with `undo_merge`."""
    unique = list({source.id: source for source in sources}.values())
    if not unique:
        raise InvalidInput(_("Choose the tickets to merge."))
    if target.merged_into_id is not None:
        raise InvalidInput(
            _("#%(number)s is itself merged into #%(into)s.", number=target.number,
              into=target.merged_into_id)
        )  # fmt: skip
    if target.status == "closed":
        raise InvalidInput(_("#%(number)s is closed; nothing can be merged into it.",
                             number=target.number))  # fmt: skip
    for source in unique:
        if source.id == target.id:
            raise InvalidInput(_("A ticket cannot be merged into itself."))
        if source.merged_into_id is not None:
            raise InvalidInput(
                _("#%(number)s is already merged into #%(into)s.", number=source.number,
                  into=source.merged_into_id)
            )  # fmt: skip
    moved: list[Message] = []
    for source in unique:
        moved += _merge_one(target, source, user)
    return moved


def _merge_one(target: Ticket, source: Ticket, user: User | None) -> list[Message]:
    messages = list(source.messages)
    for message in messages:
        message.ticket = target
    taken_tags = sorted({t.name for t in source.tags} - {t.name for t in target.tags})
    for name in taken_tags:
        target.tags.append(TicketTag(name=name))
    taken_order = None
    if target.order_id is None and source.order_id is not None:
        target.order_id, target.order_link = source.order_id, source.order_link
        taken_order = source.order_id
    now = utcnow()
    target.last_activity_at = max([target.last_activity_at, *(m.created_at for m in messages)])
    ids = [m.id for m in messages]
    previous_status = source.status
    record_event("ticket.merged", ticket=source, user=user, into=target.id, messages=ids,
                 previous_status=previous_status)  # fmt: skip
    record_event("ticket.merged_in", ticket=target, user=user, source=source.id, messages=ids,
                 tags=taken_tags, order_id=taken_order)  # fmt: skip
    source.merged_into = target
    set_status(source, "closed", user=user, at=now)
    _note(source, user, ngettext("Merged into #%(number)s (%(num)d message moved).",
                                 "Merged into #%(number)s (%(num)d messages moved).",
                                 len(ids), number=target.number), now)  # fmt: skip
    refresh_ticket(target)  # KPIs: the moved messages count on the target now
    return messages


def undo_merge(source: Ticket, user: User | None) -> list[Message]:
    """Put back what the last merge moved out of `source` (messages split off the target
    since stay where they are) and reopen it with its status from before the merge."""
    target = source.merged_into
    if target is None:
        raise InvalidInput(_("#%(number)s is not merged.", number=source.number))
    merge = db.session.scalars(
        select(Event)
        .where(Event.ticket_id == source.id, Event.kind == "ticket.merged")
        .order_by(Event.id.desc())
        .limit(1)
    ).first()
    ids = set(merge.data.get("messages", [])) if merge is not None else set()
    back = [m for m in target.messages if m.id in ids]
    for message in back:
        message.ticket = source
    source.merged_into = None
    now = utcnow()
    previous = merge.data.get("previous_status") if merge is not None else None
    set_status(source, previous or "open", user=user, at=now)
    moved = [m.id for m in back]
    for ticket in (source, target):
        record_event("ticket.unmerged", ticket=ticket, user=user, source=source.id,
                     target=target.id, messages=moved)  # fmt: skip
    _note(source, user, ngettext("Merge into #%(number)s undone (%(num)d message back).",
                                 "Merge into #%(number)s undone (%(num)d messages back).",
                                 len(moved), number=target.number), now)  # fmt: skip
    refresh_ticket(target)  # KPIs: the messages went back
    return back


def split_message(message: Message, user: User | None) -> Ticket:
    """Make a customer's message the start of a ticket of its own (same customer, order,
    team and assignee), e.g. a new question asked in an old thread. Its intents come
    along as copies; later replies in its thread follow it."""
    ticket = message.ticket
    if message.direction != "inbound":
        raise InvalidInput(_("Only a customer's message can become a ticket of its own."))
    if ticket.merged_into_id is not None:
        raise InvalidInput(_("This ticket is merged; split messages in #%(number)s.",
                             number=ticket.merged_into_id))  # fmt: skip
    if not any(m.id != message.id and m.direction != "note" for m in ticket.messages):
        raise InvalidInput(_("This is the ticket's only message; there is nothing to split."))
    language = (message.details or {}).get("language") or ticket.language
    new = Ticket(
        subject=message.subject or ticket.subject,
        channel=message.channel,
        customer=ticket.customer,
        status="open",
        priority=ticket.priority,
        language=language,
        team=ticket.team,
        assignee=ticket.assignee,
        order_id=ticket.order_id,
        order_link=ticket.order_link,
        # The customer has waited since their message, not since the split.
        created_at=message.created_at,
        last_activity_at=message.created_at,
    )
    db.session.add(new)
    message.ticket = new
    for tag in ticket.intent_tags:
        if tag.message_id == message.id and not tag.rejected and tag.source != "agent":
            new.intent_tags.append(
                IntentTag(intent=tag.intent, confidence=tag.confidence, source=tag.source,
                          model_version=tag.model_version, message_id=message.id)
            )  # fmt: skip
    db.session.flush()
    record_event("ticket.created", ticket=new, customer=new.customer, user=user,
                 reason="split", split_from=ticket.id, message_id=message.id)  # fmt: skip
    record_event("message.split", ticket=ticket, user=user, message_id=message.id,
                 new_ticket=new.id)  # fmt: skip
    refresh_ticket(new)  # KPIs for both tickets
    refresh_ticket(ticket)
    return new


def _note(ticket: Ticket, user: User | None, text: str, at) -> Message:
    """An internal note written by the action itself (by nobody when no user acted)."""
    note = Message(
        ticket=ticket,
        channel=ticket.channel,
        direction="note",
        author_kind="agent" if user is not None else "system",
        author=user,
        text=text,
        sent_at=at,
        created_at=at,
    )
    db.session.add(note)
    return note
