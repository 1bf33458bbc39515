"""Demo data for the team lead: five weeks of everyday volume with a Monday spike, SLA
policies, business hours, a few satisfaction answers and the wall of pain and ideas.

The everyday tickets enter through `ingest()` and are answered and solved through the
reply service, so their stored metrics come from the same hooks as in production; the
spike (a Monday morning after a TV report on the shop) is then found by the real spike
check. Fixed external ids, so loading twice adds nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import select

from channel_adapters.base import SENDER_IDENTITY_KIND, Identity, InboundMessage
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import (
    BusinessHours,
    CsatSurvey,
    Message,
    Order,
    Team,
    Ticket,
    TicketMetrics,
    User,
    VolumeSpike,
    WallEntry,
    WallTicket,
    WallVote,
)
from helpdesk.models.kpis import DEFAULT_WEEKLY_HOURS
from helpdesk.services import csat, spikes
from helpdesk.services.business_time import Calendar
from helpdesk.services.replies import add_reply, set_status
from helpdesk.services.sla import install_default_policies
from helpdesk.services.ticket_metrics import refresh_ticket

WEEKS = 5
SEED = 20261205
_ID = "<demo-kpis-{n}@demo.helpdesk.example>"
#: (channel, weight): where the everyday volume comes from.
CHANNEL_MIX = (("email", 55), ("chat", 25), ("instagram", 8), ("messenger", 6),
               ("whatsapp", 6))  # fmt: skip
QUESTIONS = {
    "de": (
        ("Wo bleibt meine Bestellung {order}? Sie sollte längst da sein.", "Lieferung"),
        ("Ich möchte die Schuhe aus Bestellung {order} zurückschicken, sie sind zu klein.",
         "Rücksendung"),
        ("Ich habe eine Mahnung bekommen, obwohl ich {order} schon zurückgeschickt habe!",
         "Mahnung"),
        ("Kann ich die Jacke aus {order} gegen Größe M umtauschen?", "Umtausch"),
        ("Wann bekomme ich mein Geld für die Retoure {order} zurück?", "Erstattung"),
        ("Was kostet der Versand nach Österreich?", "Versandkosten"),
    ),
    "en": (
        ("Where is my order {order}? It should have arrived by now.", "Delivery"),
        ("I'd like to return the boots from order {order}, they are too big.", "Return"),
        ("I got a payment reminder although I returned {order} two weeks ago!", "Reminder"),
        ("Can I exchange the dress from {order} for a size 38?", "Exchange"),
        ("When will I get my refund for order {order}?", "Refund"),
    ),
}  # fmt: skip
REPLIES = {
    "de": "Vielen Dank für Ihre Nachricht! Wir haben das geprüft und kümmern uns darum.",
    "en": "Thank you for your message! We have looked into it and are taking care of it.",
}
WALL = (
    ("pain", "Mahnungen trotz registrierter Retoure",
     "Kundinnen bekommen Zahlungserinnerungen, obwohl die Retoure schon unterwegs ist. "
     "Jede Woche mehrere wütende Mails.", "new", 3, 3),
    ("idea", "Umtausch statt Erstattung direkt im Retourenportal anbieten",
     "Über die Hälfte der Retouren ist die falsche Größe.", "planned", 2, 1),
    ("pain", "Chat unanswered at night, customers then write on Instagram",
     "After 18:00 the chat falls back to e-mail, but customers expect an answer.", "new", 1, 2),
    ("idea", "Status page for delivery delays during sales", "", "done", 1, 0),
)  # fmt: skip
CSAT_ANSWERS = ((5, "Schnell und freundlich, danke!"), (4, None), (5, None),
                (2, "Drei Tage auf eine Antwort gewartet."), (4, "Great help with the exchange."),
                (3, None), (5, None), (1, "Still no refund after two weeks."))  # fmt: skip


def load_kpi_demo(users: dict[str, User], now: datetime, *, weeks: int = WEEKS) -> int:
    """Add the KPI demo data once; how many everyday tickets were added. The caller
    commits (the spike check and metrics need flushed rows, not a commit)."""
    install_default_policies()
    if db.session.scalar(select(BusinessHours.id).where(BusinessHours.team_id.is_(None))) is None:
        db.session.add(BusinessHours(team_id=None, weekly=dict(DEFAULT_WEEKLY_HOURS)))
    spikes.settings()
    added = 0
    if not _loaded():
        added = _everyday_volume(users, now, weeks)
    _measure_the_rest(now)
    _surveys(users, now)
    _wall(users)
    return added


def _loaded() -> bool:
    first = _ID.format(n=0)
    return db.session.scalar(select(Message.id).where(Message.external_id == first)) is not None


def last_monday(now: datetime, zone) -> datetime:
    """09:00 local on the latest Monday whose morning is over."""
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    start = datetime.combine(monday, time(9), zone)
    if local < start + timedelta(hours=4):
        start -= timedelta(weeks=1)
    return start


def _everyday_volume(users: dict[str, User], now: datetime, weeks: int) -> int:
    rng = random.Random(SEED)
    calendar = Calendar()
    zone = calendar.zone
    teams = {t.name: t for t in db.session.scalars(select(Team))}
    agents = [users["agent@example.com"], users["lead@example.com"]]
    social = users["social@example.com"]
    arrivals: list[tuple[datetime, bool]] = []
    today = now.astimezone(zone).date()
    for day_back in range(weeks * 7, 0, -1):
        day = today - timedelta(days=day_back)
        count = rng.randint(12, 18) if day.weekday() < 5 else rng.randint(2, 5)
        for _ in range(count):
            hour = min(22, max(6, int(rng.gauss(12.5, 3))))
            local = datetime.combine(day, time(hour, rng.randrange(60)), zone)
            arrivals.append((local, False))
    spike = last_monday(now, zone)  # a TV report on Sunday evening: Monday morning floods in
    for _ in range(72):
        arrivals.append((spike + timedelta(minutes=rng.randrange(180)), True))
    arrivals.sort()
    # The demo shop's real order numbers, so the order a customer names exists.
    numbers = db.session.scalars(select(Order.number).order_by(Order.id)).all() or ["100200"]
    for n, (local, in_spike) in enumerate(arrivals):
        created = local.astimezone(now.tzinfo)
        if created >= now:
            continue
        channel = rng.choices([c for c, _ in CHANNEL_MIX], [w for _, w in CHANNEL_MIX])[0]
        language = "de" if rng.random() < 0.7 else "en"
        text, subject = rng.choice(QUESTIONS[language])
        named = text.format(order=numbers[n % len(numbers)])
        inbound = _inbound(n, channel, language, named, subject, created)
        ticket = ingest(inbound, received_at=created).ticket
        family_team = "Social Media" if channel in ("instagram", "messenger", "whatsapp") else (
            "Kundenservice")  # fmt: skip
        ticket.team = teams.get(family_team)
        agent = social if family_team == "Social Media" else rng.choice(agents)
        ticket.assignee = agent
        # Answered within business hours; during the spike the queue makes it slower.
        delay = rng.uniform(3, 9) if in_spike else rng.lognormvariate(0.3, 0.9)
        if channel == "chat" and not in_spike:
            delay = rng.uniform(0.01, 0.12)
        elif family_team == "Social Media" and not in_spike:
            delay = rng.uniform(0.2, 1.5)
        replied = calendar.add(created, delay * 3600)
        if replied >= now:
            continue
        add_reply(ticket, agent, REPLIES[language], at=replied, deliver=False)
        if rng.random() < 0.8:
            solved = replied + timedelta(minutes=rng.randint(5, 600))
            if solved < now:
                set_status(ticket, "solved", user=agent, at=solved)
    db.session.flush()
    _find_spike(spike.astimezone(now.tzinfo))
    return len(arrivals)


def _inbound(n: int, channel: str, language: str, text: str, subject: str,
             at: datetime) -> InboundMessage:  # fmt: skip
    kind = SENDER_IDENTITY_KIND[channel]
    value = {
        "email": f"kunde{n}@example.de" if language == "de" else f"customer{n}@example.co.uk",
        "phone": f"+4917100{n:05d}",
    }.get(kind, f"demo-{channel}-{n}")
    return InboundMessage(
        channel=channel,
        external_id=_ID.format(n=n),
        sender=Identity(kind, value, None),
        text=text,
        subject=subject if channel == "email" else "",
        thread_key=None if channel == "email" else f"demo-kpis-{n}",
        sent_at=at,
        language=language,
    )


def _find_spike(started: datetime) -> None:
    """Run the real spike check as the worker would have that Monday, then after it."""
    if db.session.scalar(select(VolumeSpike.id).limit(1)) is not None:
        return
    for hours in (1, 2, 3, 5):
        spikes.check_volume(now=started + timedelta(hours=hours))


def _measure_the_rest(now: datetime) -> None:
    """Metrics for tickets loaded before this module existed (the others have them)."""
    measured = select(TicketMetrics.ticket_id)
    for ticket_id in db.session.scalars(select(Ticket.id).where(Ticket.id.not_in(measured))):
        refresh_ticket(ticket_id, now=now)


def _surveys(users: dict[str, User], now: datetime) -> None:
    if db.session.scalar(select(CsatSurvey.id).limit(1)) is not None:
        return
    solved = db.session.scalars(
        select(Ticket)
        .where(Ticket.status == "solved", Ticket.solved_at < now - timedelta(hours=2))
        .order_by(Ticket.solved_at.desc())
        .limit(len(CSAT_ANSWERS) + 4)
    ).all()
    seen: set[int] = set()
    answers = iter(CSAT_ANSWERS)
    for ticket in solved:
        if ticket.customer_id in seen:
            continue
        seen.add(ticket.customer_id)
        survey = CsatSurvey(ticket=ticket, customer_id=ticket.customer_id,
                            agent_id=ticket.assignee_id, channel=ticket.channel,
                            language=ticket.language or "de",
                            sent_at=ticket.solved_at + timedelta(hours=1))  # fmt: skip
        db.session.add(survey)
        db.session.flush()
        answer = next(answers, None)
        if answer is not None:
            rating, comment = answer
            csat.answer(survey, rating, comment, now=survey.sent_at + timedelta(hours=3))


def _wall(users: dict[str, User]) -> None:
    if db.session.scalar(select(WallEntry.id).limit(1)) is not None:
        return
    voters = list(users.values())
    tickets = db.session.scalars(select(Ticket.id).order_by(Ticket.id).limit(12)).all()
    for i, (kind, title, body, status, votes, pinned) in enumerate(WALL):
        entry = WallEntry(kind=kind, title=title, body=body, status=status,
                          author=users["agent@example.com"])  # fmt: skip
        db.session.add(entry)
        db.session.flush()
        for voter in voters[:votes]:
            db.session.add(WallVote(entry_id=entry.id, user_id=voter.id))
        for ticket_id in tickets[i * 3 : i * 3 + pinned]:
            db.session.add(WallTicket(entry_id=entry.id, ticket_id=ticket_id))
