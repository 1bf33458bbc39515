"""KPIs with known answers: seven hand-built tickets whose metrics are counted by hand.

Calendar: the default, Monday to Friday 08:00-18:00 Europe/Berlin (UTC+1 in
December), German public holidays (Fri 25 and Sat 26 Dec 2026 are holidays; Thu 24 Dec
is a working day). One SLA policy: e-mail, 8 business hours, warning 60 minutes before.
All times below are Berlin local time.

T1 e-mail  Mon 21 Dec 09:00, reply 10:30, solved 11:00.
    first response 1.5 h = 5400 s (business 5400); first resolution 2 h = 7200 s;
    one touch.
T2 e-mail  Fri 18 Dec 17:00 (weekend follows), reply Mon 21 Dec 09:00.
    calendar 64 h = 230400 s; business Fri 17-18 + Mon 08-09 = 7200 s.
T3 e-mail  Thu 24 Dec 16:00 (then holiday, Saturday, Sunday), reply Mon 28 Dec 10:00.
    calendar 90 h = 324000 s; business Thu 16-18 + Mon 08-10 = 14400 s.
T4 chat    Tue 22 Dec 10:00, bot answers 10:00:30, hands off 10:05, person 10:08.
    first response from the hand-off: 3 min = 180 s (not 8 min; the bot is no answer).
    No SLA policy for chat.
T5 e-mail  Wed 23 Dec 09:00, private note 09:10, reply 11:00.
    first response 2 h = 7200 s (the note is no answer).
T6 e-mail  Tue 22 Dec 14:00, reply 14:30, solved 14:40; the customer writes again Wed
    23 Dec 09:00 (reopened), reply 09:20, solved 09:30.
    first response 1800 s; next reply 20 min = 1200 s; reopens 1; first resolution
    40 min = 2400 s; full resolution 19.5 h = 70200 s, business 14-18 + 08-09:30 =
    5.5 h = 19800 s; not one touch.
T7 e-mail  Mon 28 Dec 09:00, due 17:00 the same day; warned at 16:30, breached at
    17:30 (priority normal -> high, the lead notified); reply Tue 29 Dec 10:00.
    calendar 25 h = 90000 s; business Mon 09-18 + Tue 08-10 = 11 h = 39600 s.

E-mail first response, business: 1800, 5400, 7200, 7200, 14400, 39600
    median (rank 2.5) = 7200; p90 (rank 4.5) = 14400 + 0.5 * 25200 = 27000.
E-mail first response, calendar: 1800, 5400, 7200, 90000, 230400, 324000
    median = (7200 + 90000) / 2 = 48600; p90 = 230400 + 0.5 * 93600 = 277200.
E-mail SLA: T1, T2, T3, T5, T6 met, T7 missed: 5 of 6 = 0.8333.
Solved e-mail tickets: T1, T6 -> reopen rate 0.5, one-touch rate 0.5.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Event, SlaPolicy, Ticket, TicketMetrics
from helpdesk.models.tickets import Notification
from helpdesk.services import kpis
from helpdesk.services.events import record_event
from helpdesk.services.replies import add_note, add_reply, set_status
from helpdesk.services.sla import check_sla
from helpdesk.services.ticket_metrics import recompute_all, refresh_all_due
from tests.conftest import log_in, make_user
from tests.factories import Classified, inbound

BERLIN = ZoneInfo("Europe/Berlin")
CLASSIFIER = Classified("order_status")


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """December 2026, Berlin time, as UTC."""
    return datetime(2026, 12, day, hour, minute, second, tzinfo=BERLIN).astimezone(UTC)


def customer_writes(when: datetime, *, channel="email", sender="kunde@example.com", **kw):
    message = inbound(channel, sender, "Wo bleibt meine Bestellung?", sent_at=when, **kw)
    result = ingest(message, classifier=CLASSIFIER, received_at=when)
    refresh_all_due()  # the worker's refresh-metrics job
    db.session.commit()
    return result


def reply(ticket: Ticket, agent, when: datetime, **kw):
    add_reply(ticket, agent, "Ihre Bestellung ist unterwegs.", at=when, deliver=False, **kw)
    refresh_all_due()  # the worker's refresh-metrics job
    db.session.commit()


def solve(ticket: Ticket, agent, when: datetime):
    set_status(ticket, "solved", user=agent, at=when)
    db.session.commit()


@pytest.fixture
def tickets(app):
    """The seven tickets above; returns {name: ticket id}."""
    agent = make_user("agent", name="Julia Agent")
    lead = make_user("lead", name="Lena Lead")
    policy = SlaPolicy(name="E-mail", channel="email", first_response_minutes=480,
                       business_hours=True, warn_before_minutes=60, escalate=True)  # fmt: skip
    db.session.add(policy)
    db.session.commit()
    ids = {}

    t1 = customer_writes(at(21, 9)).ticket
    reply(t1, agent, at(21, 10, 30))
    solve(t1, agent, at(21, 11))
    ids["T1"] = t1.id

    t2 = customer_writes(at(18, 17), sender="b@example.com").ticket
    reply(t2, agent, at(21, 9))
    ids["T2"] = t2.id

    t3 = customer_writes(at(24, 16), sender="c@example.com").ticket
    reply(t3, agent, at(28, 10))
    ids["T3"] = t3.id

    t4 = customer_writes(at(22, 10), channel="chat", sender="visitor-4").ticket
    add_reply(t4, None, "Versand kostet 4,95 €.", author_kind="bot", at=at(22, 10, 0, 30),
              deliver=False)  # fmt: skip
    with db.session.no_autoflush:
        handoff = record_event("bot.handoff", ticket=t4, actor="bot")
        handoff.created_at = at(22, 10, 5)
    reply(t4, agent, at(22, 10, 8))
    ids["T4"] = t4.id

    t5 = customer_writes(at(23, 9), sender="e@example.com").ticket
    add_note(t5, agent, "Lager fragen", at=at(23, 9, 10))
    reply(t5, agent, at(23, 11))
    ids["T5"] = t5.id

    first = customer_writes(at(22, 14), sender="f@example.com")
    t6 = first.ticket
    reply(t6, agent, at(22, 14, 30))
    solve(t6, agent, at(22, 14, 40))
    again = customer_writes(at(23, 9), sender="f@example.com",
                            references=(first.message.external_id,))  # fmt: skip
    assert again.ticket_id == t6.id and db.session.get(Ticket, t6.id).status == "open"
    reply(t6, agent, at(23, 9, 20))
    solve(t6, agent, at(23, 9, 30))
    ids["T6"] = t6.id

    t7 = customer_writes(at(28, 9), sender="g@example.com").ticket
    assert t7.sla_due_at == at(28, 17)
    assert check_sla(now=at(28, 16, 30)).warned == 1
    db.session.commit()
    assert check_sla(now=at(28, 17, 30)).breached == 1
    db.session.commit()
    reply(t7, agent, at(29, 10))
    ids["T7"] = t7.id
    ids["lead"] = lead.id
    db.session.commit()  # reading the ids began a transaction; a live server needs it ended
    return ids


def metrics(ticket_id: int) -> TicketMetrics:
    db.session.expire_all()
    return db.session.get(TicketMetrics, ticket_id)


def test_first_response_per_ticket(tickets):
    expected = {  # (calendar, business) seconds, from the module docstring
        "T1": (5400, 5400),
        "T2": (230400, 7200),
        "T3": (324000, 14400),
        "T4": (180, 180),
        "T5": (7200, 7200),
        "T6": (1800, 1800),
        "T7": (90000, 39600),
    }
    for name, (calendar, business) in expected.items():
        row = metrics(tickets[name])
        assert (row.first_response_s, row.first_response_bh_s) == (calendar, business), name


def test_reopen_resolution_and_next_reply(tickets):
    t6 = metrics(tickets["T6"])
    assert (t6.reopens, t6.replies, t6.one_touch) == (1, 2, False)
    assert t6.next_reply_s == 1200
    assert (t6.first_resolution_s, t6.full_resolution_s, t6.full_resolution_bh_s) == (
        2400, 70200, 19800)  # fmt: skip
    t1 = metrics(tickets["T1"])
    assert (t1.one_touch, t1.first_resolution_s, t1.reopens) == (True, 7200, 0)
    # T6 waited for us new 14:00-14:30 (no status change on a reply), open until 14:40,
    # then open again 09:00-09:30 the next day: 40 + 30 minutes.
    assert t6.requester_wait_s == 70 * 60 and t6.agent_wait_s == 0


def test_sla_breach_escalates_and_counts(tickets):
    t7 = db.session.get(Ticket, tickets["T7"])
    kinds = db.session.scalars(
        select(Event.kind).where(Event.ticket_id == t7.id, Event.kind.like("sla.%"))
        .order_by(Event.id)
    ).all()  # fmt: skip
    assert kinds == ["sla.warning", "sla.breached"]
    assert t7.priority == "high"
    assert t7.sla_due_at is None  # answered: nothing is due any more
    row = metrics(t7.id)
    assert row.sla_met is False and row.sla_due_at == at(28, 17)
    assert db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "sla")).all() == [tickets["lead"]]  # fmt: skip
    assert metrics(tickets["T1"]).sla_met is True
    assert metrics(tickets["T4"]).sla_met is None  # chat: no policy


def test_report_by_channel_matches_the_hand_count(tickets):
    report = kpis.report(date(2026, 12, 14), date(2026, 12, 31), group_by="channel")
    email = next(r for r in report.rows if r.key == "email")
    chat = next(r for r in report.rows if r.key == "chat")
    assert (email.tickets, email.answered, email.solved) == (6, 6, 2)
    assert email.durations["first_response"] == {
        "median": 48600.0, "p90": 277200.0, "median_bh": 7200.0, "p90_bh": 27000.0}  # fmt: skip
    assert (email.sla_met, email.sla_missed, email.sla_attainment) == (5, 1, 0.8333)
    assert (email.reopen_rate, email.one_touch_rate) == (0.5, 0.5)
    assert chat.durations["first_response"]["median_bh"] == 180.0
    assert report.total.tickets == 7
    assert report.backlog == 5  # all but T1 and T6 are still unsolved
    # Mondays at 09:00: T1 (21 Dec) and T7 (28 Dec); Friday 17:00: T2.
    assert report.heatmap[0][9] == 2 and report.heatmap[4][17] == 1
    assert [p.period for p in report.weekly] == ["2026-W51", "2026-W52", "2026-W53"]
    assert [p.tickets for p in report.weekly] == [1, 5, 1]


def test_recompute_gives_the_same_numbers(tickets):
    before = kpis.report(date(2026, 12, 14), date(2026, 12, 31)).as_dict()
    db.session.execute(TicketMetrics.__table__.update().values(first_response_bh_s=None))
    db.session.commit()
    assert recompute_all() == 7
    after = kpis.report(date(2026, 12, 14), date(2026, 12, 31)).as_dict()
    before.pop("generated_at"), after.pop("generated_at")
    assert after == before


def test_dashboard_csv_and_access(tickets, client):
    assert log_in(client, "lead@shop.example").status_code == 302
    page = client.get("/kpis?from=2026-12-14&to=2026-12-31&by=channel")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "2.0 h" in html  # the e-mail median in business hours
    exported = client.get("/kpis/export/groups.csv?from=2026-12-14&to=2026-12-31&by=channel")
    assert exported.status_code == 200
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    email = next(r for r in rows if r["channel"] == "email")
    assert float(email["first_response_median_bh_s"]) == 7200.0
    assert float(email["first_response_p90_bh_s"]) == 27000.0
    assert rows[-1]["channel"] == "total" and rows[-1]["tickets"] == "7"


@pytest.mark.parametrize("role", ["agent", "social"])
def test_agents_and_social_may_not_see_kpis(app, client, role):
    make_user(role)
    log_in(client, f"{role}@shop.example")
    assert client.get("/kpis").status_code == 403
    assert client.get("/kpis/export/groups.csv").status_code == 403


def test_cli_json_and_csv(tickets, app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["kpis", "--from", "2026-12-14", "--to", "2026-12-31", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    email = next(r for r in data["rows"] if r["key"] == "email")
    assert email["durations"]["first_response"]["p90_bh"] == 27000.0
    result = runner.invoke(args=["kpis", "--from", "2026-12-14", "--to", "2026-12-31", "--csv"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0].startswith("channel,tickets,answered,solved")
    bad = runner.invoke(args=["kpis", "--from", "2026-12-31", "--to", "2026-12-01"])
    assert bad.exit_code != 0 and "before it starts" in bad.output
    recomputed = runner.invoke(args=["kpis", "recompute", "--batch", "3"])
    assert recomputed.exit_code == 0 and "7 tickets measured" in recomputed.output


def test_every_table_exports_as_csv(tickets, client):
    log_in(client, "lead@shop.example")
    args = "from=2026-12-14&to=2026-12-31&by=channel"

    def table(name):
        response = client.get(f"/kpis/export/{name}.csv?{args}")
        assert response.status_code == 200
        assert f"kpis-{name}-2026-12-14-2026-12-31.csv" in response.headers["Content-Disposition"]
        return list(csv.reader(io.StringIO(response.get_data(as_text=True))))

    weekly = table("weekly")
    assert weekly[0][:2] == ["period", "tickets"]
    assert [row[:2] for row in weekly[1:]] == [["2026-W51", "1"], ["2026-W52", "5"],
                                               ["2026-W53", "1"]]  # fmt: skip
    heat = table("heatmap")
    assert heat[1][0] == "Mon" and heat[1][1 + 9] == "2"  # Mondays 09:00: T1 and T7
    daily = table("daily")
    assert daily[1][:2] == ["2026-12-18", "1"]  # T2, the first day with a ticket
    assert table("returns") == [["period", "reason", "items", "share"]]
    assert client.get(f"/kpis/export/secrets.csv?{args}").status_code == 422


def test_priority_change_recomputes_the_due_time(app):
    make_user("agent")
    db.session.add_all([
        SlaPolicy(name="E-mail", channel="email", first_response_minutes=480),
        SlaPolicy(name="Urgent", priority="urgent", first_response_minutes=60),
    ])  # fmt: skip
    db.session.commit()
    ticket = customer_writes(at(21, 9)).ticket
    assert ticket.sla_due_at == at(21, 17)
    from helpdesk.services.ticket_actions import set_priority

    set_priority(ticket, "urgent", user=None)
    db.session.commit()
    assert ticket.sla_due_at == at(21, 10)  # one business hour after 09:00


def test_broken_business_hours_never_lose_a_message(app):
    """Business hours without any open time cannot give a due time in business hours:
    the message is stored all the same, and only its metrics wait for a recompute."""
    from helpdesk.models import BusinessHours

    db.session.add(BusinessHours(team_id=None, weekly={}, holiday_country="DE"))
    db.session.add(SlaPolicy(name="E-mail", channel="email", first_response_minutes=480))
    db.session.commit()
    result = customer_writes(at(21, 9))
    assert db.session.get(Ticket, result.ticket_id) is not None
    assert metrics(result.ticket_id) is None


def test_ticket_page_tells_the_sla_story(tickets, client):
    make_user("agent", email="julia@shop.example")
    log_in(client, "julia@shop.example")
    page = client.get(f"/tickets/{tickets['T7']}").get_data(as_text=True)
    assert "SLA: the first response is due in 30 minutes" in page
    assert "SLA breached: no first response by the due time" in page


def test_ingest_leaves_the_metrics_to_the_worker(app):
    """Ingest only notes the ticket; the worker's refresh-metrics job measures it."""
    from helpdesk.scheduler import MailWatchers, default_jobs

    result = ingest(inbound(text="Hallo"), classifier=CLASSIFIER)
    db.session.commit()
    assert db.session.get(TicketMetrics, result.ticket_id) is None
    assert refresh_all_due() == 1
    db.session.commit()
    measured = db.session.get(TicketMetrics, result.ticket_id)
    assert measured is not None and measured.channel == "email"
    assert refresh_all_due() == 0  # nothing noted twice
    assert "refresh-metrics" in {job.id for job in default_jobs(app, MailWatchers(app))}
