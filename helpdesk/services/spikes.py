"""Volume spikes (after press coverage, a newsletter, an outage): recognise them early,
tell the leads, and optionally tell customers how long an answer will take.

Every few minutes the worker counts the new tickets of the last hour and compares them
with the same weekday and hour in the previous weeks (the median of up to eight, so one
earlier spike does not raise the bar). An hour with at least `factor` times the usual
and at least `min_tickets` opens a spike: the event `volume.spike` (shown to leads on
/kpis), and, when leads switched it on, an automatic answer to every new ticket of the
spike with the expected response time computed from the queue. The spike ends when an
hour is back under the threshold (`volume.spike_ended`).
"""

from __future__ import annotations

import logging
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import Message, SpikeSettings, Ticket, TicketMetrics, VolumeSpike
from helpdesk.models.tickets import UNSOLVED_STATUSES
from helpdesk.models.types import utcnow
from helpdesk.services.events import record_event

log = logging.getLogger(__name__)

WEEKS_BACK = 8
DEFAULT_TEXTS = {
    "de": (
        "Vielen Dank für Ihre Nachricht! Gerade erreichen uns sehr viele Anfragen. "
        "Wir antworten Ihnen voraussichtlich innerhalb von {hours} Stunden "
        "({minutes} Minuten). Sie müssen nicht noch einmal schreiben."
    ),
    "en": (
        "Thank you for your message! We are receiving an unusually large number of "
        "requests right now. We expect to answer you within {hours} hours ({minutes} "
        "minutes). There is no need to write again."
    ),
}


@dataclass(frozen=True)
class Verdict:
    count: int
    usual: float
    threshold: float

    @property
    def is_spike(self) -> bool:
        return self.count >= self.threshold


def judge(count: int, history: Sequence[int], *, factor: float, min_tickets: int) -> Verdict:
    """Compare one hour's count with the same hour in earlier weeks (pure).

    The usual level is the median of `history` (robust against an earlier spike); the
    threshold is `factor` times it, but at least `min_tickets`, so a quiet night with
    three mails instead of one is no spike."""
    usual = float(statistics.median(history)) if history else 0.0
    return Verdict(count, usual, max(float(min_tickets), factor * usual))


def settings() -> SpikeSettings:
    """The settings row, created with the defaults when missing."""
    row = db.session.get(SpikeSettings, 1)
    if row is None:
        row = SpikeSettings(id=1, factor=2.0, min_tickets=10, auto_acknowledge=False,
                            text_de=DEFAULT_TEXTS["de"], text_en=DEFAULT_TEXTS["en"])  # fmt: skip
        db.session.add(row)
        db.session.flush()
    return row


def save_settings(*, factor, min_tickets, auto_acknowledge: bool, text_de: str, text_en: str,
                  user=None) -> SpikeSettings:  # fmt: skip
    """Change the settings from the leads' form (checked here)."""
    try:
        factor, min_tickets = float(factor), int(min_tickets)
    except (TypeError, ValueError) as error:
        raise InvalidInput(_("The factor and the minimum must be numbers.")) from error
    if factor < 1 or min_tickets < 1:
        raise InvalidInput(_("The factor must be at least 1, the minimum at least 1 ticket."))
    for text in (text_de, text_en):
        if not text.strip() or len(text) > 1000:
            raise InvalidInput(_("Each text needs 1 to 1000 characters."))
        try:
            text.format(hours=1, minutes=1)
        except (KeyError, IndexError, ValueError) as error:
            raise InvalidInput(_("The texts may only use {hours} and {minutes}.")) from error
    row = settings()
    row.factor, row.min_tickets, row.auto_acknowledge = factor, min_tickets, auto_acknowledge
    row.text_de, row.text_en, row.updated_at = text_de.strip(), text_en.strip(), utcnow()
    record_event("volume.settings_changed", user=user, factor=factor, min_tickets=min_tickets,
                 auto_acknowledge=auto_acknowledge)  # fmt: skip
    return row


def tickets_between(start: datetime, end: datetime) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(TicketMetrics)
        .where(TicketMetrics.created_at >= start, TicketMetrics.created_at < end)
    )


def current_spike() -> VolumeSpike | None:
    return db.session.scalar(
        select(VolumeSpike).where(VolumeSpike.ended_at.is_(None)).order_by(VolumeSpike.id.desc())
    )


def check_volume(now: datetime | None = None) -> VolumeSpike | None:
    """The worker's job: open or close a spike, and acknowledge during one. The caller
    commits. Returns the open spike, if any."""
    now = now or utcnow()
    config = settings()
    hour = timedelta(hours=1)
    count = tickets_between(now - hour, now)
    history = [
        tickets_between(now - hour - timedelta(weeks=w), now - timedelta(weeks=w))
        for w in range(1, WEEKS_BACK + 1)
    ]
    # Weeks before the first ticket say nothing about the usual level.
    first = db.session.scalar(select(func.min(TicketMetrics.created_at)))
    history = [n for w, n in enumerate(history, 1) if first and first <= now - timedelta(weeks=w)]
    verdict = judge(count, history, factor=config.factor, min_tickets=config.min_tickets)
    spike = current_spike()
    if verdict.is_spike and spike is None:
        spike = VolumeSpike(started_at=now, tickets=count, usual=verdict.usual,
                            expected_minutes=expected_response_minutes(now))  # fmt: skip
        db.session.add(spike)
        db.session.flush()
        record_event("volume.spike", actor="worker", spike=spike.id, tickets=count,
                     usual=verdict.usual, expected_minutes=spike.expected_minutes)  # fmt: skip
        log.warning("volume spike: %d new tickets in an hour, usually %.1f", count, verdict.usual)
    elif spike is not None and not verdict.is_spike:
        spike.ended_at = now
        record_event("volume.spike_ended", actor="worker", spike=spike.id, tickets=count)
        return None
    if spike is not None:
        spike.expected_minutes = expected_response_minutes(now)
        if config.auto_acknowledge:
            spike.acknowledged += acknowledge_new_tickets(spike, config, now)
    return spike


def expected_response_minutes(now: datetime) -> int:
    """How long a customer writing now will wait, from the queue: tickets still waiting
    for a first response divided by the first responses of the last hour, but never less
    than the median first response of the last day. Rounded up to 15 minutes."""
    waiting = db.session.scalar(
        select(func.count())
        .select_from(TicketMetrics)
        .where(TicketMetrics.first_response_at.is_(None),
               TicketMetrics.status.in_(UNSOLVED_STATUSES))
    )  # fmt: skip
    answered = db.session.scalar(
        select(func.count())
        .select_from(TicketMetrics)
        .where(TicketMetrics.first_response_at >= now - timedelta(hours=1),
               TicketMetrics.first_response_at < now)
    )  # fmt: skip
    recent = sorted(
        db.session.scalars(
            select(TicketMetrics.first_response_s).where(
                TicketMetrics.first_response_at >= now - timedelta(days=1),
                TicketMetrics.first_response_s.is_not(None),
            )
        )
    )
    from_queue = waiting / max(answered, 1) * 60
    typical = statistics.median(recent) / 60 if recent else 0
    minutes = max(from_queue, typical, 15)
    return int(math.ceil(minutes / 15) * 15)


def acknowledge_new_tickets(spike: VolumeSpike, config: SpikeSettings, now: datetime) -> int:
    """An automatic answer, once, to each ticket created since the spike began that has
    none yet and no reply. It leaves on the ticket's own channel through the outbox."""
    from helpdesk.services.replies import add_reply

    answered = select(Message.ticket_id).where(Message.direction == "outbound")
    tickets = db.session.scalars(
        select(Ticket).where(
            Ticket.created_at >= spike.started_at - timedelta(hours=1),
            Ticket.created_at <= now,
            Ticket.status.in_(UNSOLVED_STATUSES),
            Ticket.id.not_in(answered),
        )
    ).all()
    hours = max(1, math.ceil((spike.expected_minutes or 60) / 60))
    for ticket in tickets:
        template = config.text_de if (ticket.language or "de") == "de" else config.text_en
        text = template.format(hours=hours, minutes=spike.expected_minutes)
        message = add_reply(ticket, None, text, author_kind="system", at=now)
        message.details = {"automatic": "spike_acknowledgement", "spike": spike.id}
    return len(tickets)


def recent_spikes(since: datetime) -> list[VolumeSpike]:
    return list(
        db.session.scalars(
            select(VolumeSpike)
            .where((VolumeSpike.ended_at.is_(None)) | (VolumeSpike.started_at >= since))
            .order_by(VolumeSpike.started_at.desc())
            .limit(20)
        )
    )


def spikes_between(start: datetime, end: datetime) -> list[VolumeSpike]:
    """Spikes that began in the period, or are still going on within it."""
    return list(
        db.session.scalars(
            select(VolumeSpike)
            .where(VolumeSpike.started_at < end,
                   (VolumeSpike.ended_at.is_(None)) | (VolumeSpike.ended_at >= start))
            .order_by(VolumeSpike.started_at)
        )
    )  # fmt: skip
