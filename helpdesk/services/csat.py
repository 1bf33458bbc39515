"""Customer satisfaction surveys: asked once a ticket is solved, answered in one click.

The worker's job finds tickets solved at least `CSAT_DELAY_MINUTES` ago that have no
survey, whose customer got no survey within `CSAT_PERIOD_DAYS`, and asks: by e-mail
(through the outbox, on the ticket, as an automatic message that counts as no reply)
when we know their address, else in the chat when it was a chat; five links, one per
rating. Each link
carries a signed token naming the survey and the rating, so one click records the
answer; the page then offers a comment. A rating of `CSAT_LOW_RATING` or less notifies
every lead on the ticket (a follow-up for them), once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from helpdesk.errors import InvalidInput, NotFound
from helpdesk.extensions import db
from helpdesk.models import CsatSurvey, Customer, CustomerIdentity, Ticket, User
from helpdesk.models.surveys import RATINGS
from helpdesk.models.tickets import Notification
from helpdesk.models.types import utcnow
from helpdesk.services.events import record_event
from helpdesk.services.templating import render_text

log = logging.getLogger(__name__)
TOKEN_SALT = "csat-survey"
COMMENT_LIMIT = 2000


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=TOKEN_SALT)


def token_for(survey: CsatSurvey, rating: int | None = None) -> str:
    """The signed part of a rating link (rating None: the survey page itself)."""
    return _serializer().dumps({"s": survey.id, "r": rating})


def read_token(token: str) -> tuple[CsatSurvey, int | None]:
    try:
        data = _serializer().loads(token)
    except BadSignature as error:
        raise NotFound(_("This survey link is not valid.")) from error
    survey = db.session.get(CsatSurvey, int(data.get("s", 0)))
    if survey is None:
        raise NotFound(_("This survey no longer exists."))
    rating = data.get("r")
    return survey, rating if rating in RATINGS else None


def survey_url(survey: CsatSurvey, rating: int | None = None) -> str:
    base = (current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/")
    return f"{base}/csat/{token_for(survey, rating)}"


def send_due_surveys(now: datetime | None = None) -> int:
    """The worker's job: send the surveys that are due; how many. The caller commits."""
    from helpdesk.services.replies import add_reply
    from helpdesk.services.ticket_metrics import primary_intent

    if not current_app.config.get("CSAT_ENABLED", True):
        return 0
    now = now or utcnow()
    delay = timedelta(minutes=current_app.config.get("CSAT_DELAY_MINUTES", 60))
    period = timedelta(days=current_app.config.get("CSAT_PERIOD_DAYS", 30))
    surveyed = select(CsatSurvey.ticket_id)
    candidates = db.session.scalars(
        select(Ticket)
        .where(
            Ticket.status.in_(("solved", "closed")),
            Ticket.solved_at <= now - delay,
            Ticket.solved_at >= now - timedelta(days=7),  # not for tickets solved long ago
            Ticket.merged_into_id.is_(None),
            Ticket.id.not_in(surveyed),
        )
        .order_by(Ticket.solved_at)
        .limit(500)
    ).all()
    sent = 0
    asked: set[int] = set()
    for ticket in candidates:
        address = _email_of(ticket.customer_id)
        in_chat = address is None and ticket.channel == "chat"
        if (
            (address is None and not in_chat)
            or ticket.customer_id in asked
            or _asked_recently(ticket.customer_id, now - period)
        ):
            continue
        language = ticket.language if ticket.language in ("de", "en") else "de"
        survey = CsatSurvey(ticket=ticket, customer_id=ticket.customer_id,
                            agent_id=ticket.assignee_id, channel=ticket.channel,
                            intent=primary_intent(ticket.id), language=language,
                            sent_at=now)  # fmt: skip
        db.session.add(survey)
        db.session.flush()
        customer = db.session.get(Customer, ticket.customer_id)
        text = render_text(
            "csat/chat" if in_chat else "mail/csat",
            language,
            customer_name=customer.name if customer else None,
            ticket_number=ticket.id,
            links=[(r, survey_url(survey, r)) for r in RATINGS],
        )
        if in_chat:  # a chat message is stored and streamed to the widget, not sent
            message = add_reply(ticket, None, text, channel="chat", author_kind="system",
                                at=now, deliver=False)  # fmt: skip
        else:
            message = add_reply(ticket, None, text, channel="email", author_kind="system",
                                at=now)  # fmt: skip
            message.counterpart = address
        message.details = {"automatic": "csat", "survey": survey.id}
        record_event("csat.sent", ticket=ticket, actor="worker", survey=survey.id)
        asked.add(ticket.customer_id)
        sent += 1
    return sent


def _email_of(customer_id: int) -> str | None:
    return db.session.scalar(
        select(CustomerIdentity.value)
        .where(CustomerIdentity.customer_id == customer_id, CustomerIdentity.kind == "email")
        .limit(1)
    )


def _asked_recently(customer_id: int, since: datetime) -> bool:
    return (
        db.session.scalar(
            select(CsatSurvey.id)
            .where(CsatSurvey.customer_id == customer_id, CsatSurvey.sent_at >= since)
            .limit(1)
        )
        is not None
    )


def answer(survey: CsatSurvey, rating: int | None, comment: str | None = None,
           *, now: datetime | None = None) -> CsatSurvey:  # fmt: skip
    """Record a rating (a click again changes it) and an optional comment. A low rating
    notifies the leads, once per survey. The caller commits."""
    now = now or utcnow()
    if rating is not None:
        if rating not in RATINGS:
            raise InvalidInput(_("A rating is a whole number from 1 to 5."))
        was_low = survey.rating is not None and survey.rating <= _low()
        survey.rating = rating
        survey.answered_at = now
        record_event("csat.answered", ticket=survey.ticket, actor="customer", rating=rating)
        if rating <= _low() and not was_low:
            _notify_leads(survey)
    if comment is not None:
        comment = comment.strip()[:COMMENT_LIMIT]
        if comment:
            if survey.rating is None:
                raise InvalidInput(_("Please choose a rating first."))
            survey.comment = comment
    return survey


def _low() -> int:
    return int(current_app.config.get("CSAT_LOW_RATING", 2))


def _notify_leads(survey: CsatSurvey) -> None:
    leads = db.session.scalars(select(User).where(User.role == "lead", User.active.is_(True)))
    db.session.add_all(
        Notification(user=lead, kind="csat", ticket_id=survey.ticket_id) for lead in leads
    )
    record_event("csat.low_rating", ticket=survey.ticket, actor="worker", rating=survey.rating,
                 survey=survey.id)  # fmt: skip


@dataclass
class CsatRow:
    key: str
    label: str
    sent: int = 0
    answered: int = 0
    satisfied: int = 0  # 4 or 5
    total: int = 0  # sum of ratings

    @property
    def csat(self) -> float | None:
        """The share of answers that were 4 or 5 (the usual CSAT score)."""
        return round(self.satisfied / self.answered, 4) if self.answered else None

    @property
    def average(self) -> float | None:
        return round(self.total / self.answered, 2) if self.answered else None

    @property
    def response_rate(self) -> float | None:
        return round(self.answered / self.sent, 4) if self.sent else None


CSAT_GROUPS = ("agent", "channel", "intent")


def results(start: datetime, end: datetime, group_by: str) -> tuple[list[CsatRow], CsatRow]:
    """Surveys sent from `start` to `end` (UTC) by agent, channel or intent, and the total."""
    if group_by not in CSAT_GROUPS:
        group_by = "channel"
    column = {"agent": CsatSurvey.agent_id, "channel": CsatSurvey.channel,
              "intent": CsatSurvey.intent}[group_by]  # fmt: skip
    rows: dict[str, CsatRow] = defaultdict(lambda: CsatRow("", ""))
    total = CsatRow("", "total")
    for key, rating in db.session.execute(
        select(column, CsatSurvey.rating).where(
            CsatSurvey.sent_at >= start, CsatSurvey.sent_at < end
        )
    ):
        key = "" if key is None else str(key)
        row = rows[key]
        row.key = row.label = key
        for target in (row, total):
            target.sent += 1
            if rating is not None:
                target.answered += 1
                target.total += rating
                target.satisfied += rating >= 4
    if group_by == "agent":
        names = {i: n for i, n in db.session.execute(select(User.id, User.name))}
        for row in rows.values():
            row.label = names.get(int(row.key), row.key) if row.key else ""
    return sorted(rows.values(), key=lambda r: (-r.sent, r.key)), total


def recent_comments(start: datetime, end: datetime, limit: int = 20) -> list[CsatSurvey]:
    return list(
        db.session.scalars(
            select(CsatSurvey)
            .where(CsatSurvey.answered_at >= start, CsatSurvey.answered_at < end,
                   CsatSurvey.comment.is_not(None))
            .order_by(CsatSurvey.answered_at.desc())
            .limit(limit)
        )
    )  # fmt: skip
