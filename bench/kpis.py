"""The KPI dashboard at scale: a year of tickets with their stored metrics in PostgreSQL,
then the server time of the report and of the /kpis page for the last 90 days.

What it builds, with bulk SQL (generate_series, no Python loop per row) in its own
database (helpdesk_bench_kpis; its schema is dropped and built again by the
migrations): N tickets (default 1,000,000) spread over the 365 days before
2026-12-05, N / 3 customers, 30 agents in 3 teams, and one `ticket_metrics` row per
ticket with plausible, seeded values (e-mail 45 %, chat 15 %, social 25 %, phone 15 %;
90 % solved; an SLA on 80 %; first responses from a minute to two days). Returns and
their items for the return-reason table: one per 50 tickets. Then VACUUM ANALYZE.

What it measures, `--repeat` times after a warm-up, p50 and max in ms:
`helpdesk.services.kpis.report()` for the last 90 days by channel, agent, team and
intent, and GET /kpis (the whole page: tables, charts, heat map, return reasons,
satisfaction) through the Flask test client signed in as a lead. Target: <= 1000 ms.
The last line of stdout is one JSON object with the figures.

    .venv/bin/python bench/kpis.py --tickets 20000    # smoke run
    .venv/bin/python bench/kpis.py                    # a million tickets
    .venv/bin/python bench/kpis.py --reuse            # measure the database as it is
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from werkzeug.security import generate_password_hash

from common import make_app, prepare_postgres
from helpdesk.extensions import db
from helpdesk.services import kpis

DEFAULT_PG_URL = "postgresql+psycopg://@127.0.0.1:5432/helpdesk_bench_kpis"
END = datetime(2026, 12, 5, tzinfo=UTC)
TARGET_MS = 1000.0
LEAD_EMAIL = "lead@bench.example"
PASSWORD = "bench-password"
INTENTS = ("return_request", "return_status", "refund_status", "exchange_request",
           "payment_reminder", "order_status", "order_change_cancel", "damaged_or_wrong",
           "shipping_policy", "product_question", "other")  # fmt: skip


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def generate(tickets: int) -> None:
    """Fill the tables with bulk SQL; ids in the order of time."""
    customers = max(1, tickets // 3)
    end = END.replace(tzinfo=None).isoformat(sep=" ")
    intents = "ARRAY[" + ", ".join(f"'{i}'" for i in INTENTS) + "]"
    statements = [
        "SELECT setseed(0.42)",
        "INSERT INTO teams (id, name, created_at) SELECT g, 'Team ' || g, now() "
        "FROM generate_series(1, 3) g",
        f"INSERT INTO users (id, email, name, password_hash, role, language, active, created_at) "
        f"SELECT g, 'agent' || g || '@bench.example', 'Agent ' || g, "
        f"'{generate_password_hash(PASSWORD)}', 'agent', 'de', true, now() "
        f"FROM generate_series(1, 30) g",
        f"INSERT INTO users (id, email, name, password_hash, role, language, active, created_at) "
        f"VALUES (31, '{LEAD_EMAIL}', 'Lead', '{generate_password_hash(PASSWORD)}', 'lead', "
        f"'en', true, now())",
        f"INSERT INTO customers (id, name, language, created_at) "
        f"SELECT g, 'Customer ' || g, 'de', '{end}'::timestamp - interval '400 days' "
        f"FROM generate_series(1, {customers}) g",
        # Tickets: created evenly over the year, ids in that order.
        f"""
        INSERT INTO tickets (id, subject, status, priority, channel, customer_id, assignee_id,
                             team_id, language, created_at, last_activity_at)
        SELECT g, 'Bench ticket ' || g,
               CASE WHEN random() < 0.9 THEN 'solved' ELSE 'open' END,
               CASE WHEN random() < 0.1 THEN 'high' ELSE 'normal' END,
               (ARRAY['email','email','email','email','email','email','email','email','email',
                      'chat','chat','chat','instagram','messenger','whatsapp','x','phone',
                      'phone','phone','instagram'])[1 + floor(random() * 20)::int],
               1 + floor(random() * {customers})::int,
               1 + floor(random() * 30)::int,
               1 + floor(random() * 3)::int,
               CASE WHEN random() < 0.62 THEN 'de' ELSE 'en' END,
               ts, ts
        FROM (SELECT g, '{end}'::timestamp - interval '365 days'
                        + (g::float / {tickets}) * interval '365 days' AS ts
              FROM generate_series(1, {tickets}) g) s
        """,
        # One metrics row per ticket: first response from a minute to two days, the
        # business-hours share of it a bit less; resolution later; waits and counts.
        f"""
        INSERT INTO ticket_metrics (
            ticket_id, created_at, channel, priority, intent, team_id, assignee_id, status,
            clock_started_at, first_response_at, first_response_s, first_response_bh_s,
            next_reply_s, next_reply_bh_s, first_resolution_s, first_resolution_bh_s,
            full_resolution_s, full_resolution_bh_s, requester_wait_s, requester_wait_bh_s,
            agent_wait_s, agent_wait_bh_s, replies, reopens, solved_at, one_touch,
            sla_due_at, sla_met, updated_at)
        SELECT id, created_at, channel, priority,
               ({intents})[1 + floor(random() * {len(INTENTS)})::int],
               team_id, assignee_id, status, created_at,
               created_at + fr * interval '1 second', fr, fr * 0.45,
               nr, nr * 0.5, fr + res, (fr + res) * 0.4,
               CASE WHEN solved THEN fr + res * (1 + reopens) END,
               CASE WHEN solved THEN (fr + res * (1 + reopens)) * 0.4 END,
               CASE WHEN solved THEN fr + res * 0.3 END,
               CASE WHEN solved THEN (fr + res * 0.3) * 0.4 END,
               CASE WHEN solved THEN res * 0.5 END, CASE WHEN solved THEN res * 0.2 END,
               1 + reopens + floor(random() * 3)::int, reopens,
               CASE WHEN solved THEN created_at + (fr + res) * interval '1 second' END,
               solved AND reopens = 0 AND random() < 0.5,
               CASE WHEN has_sla THEN created_at + interval '8 hours' END,
               CASE WHEN has_sla THEN fr <= 8 * 3600 END,
               now()
        FROM (SELECT t.*, t.status = 'solved' AS solved,
                     60 + power(random(), 3) * 172800 AS fr,
                     CASE WHEN random() < 0.4 THEN 300 + random() * 30000 END AS nr,
                     600 + random() * 259200 AS res,
                     CASE WHEN random() < 0.08 THEN 1 ELSE 0 END AS reopens,
                     random() < 0.8 AS has_sla
              FROM tickets t) s
        """,
        # Returns for the reason table: one per 50 tickets, one or two pieces each.
        "INSERT INTO shops (id, key, name, return_notifications, currency, created_at) "
        "VALUES (1, 'bench', 'Bench shop', false, 'EUR', now())",
        f"""
        INSERT INTO orders (id, shop_id, number, customer_id, currency, total_cents, status,
                            placed_at, updated_at)
        SELECT g, 1, 'B' || g, 1 + (g % {customers}), 'EUR', 8995, 'open',
               '{end}'::timestamp - interval '380 days' + (g::float / {tickets // 50 + 1})
               * interval '365 days', now()
        FROM generate_series(1, {tickets // 50 + 1}) g
        """,
        """
        INSERT INTO order_items (id, order_id, sku, name, quantity, price_cents)
        SELECT id, id, 'SKU-' || id, 'Sneaker', 2, 4495 FROM orders
        """,
        """
        INSERT INTO returns (id, order_id, status, resolution, source, requested_at,
                             status_changed_at, history)
        SELECT id, id, 'requested', 'refund', 'portal', placed_at + interval '10 days',
               placed_at + interval '10 days', '[]'::jsonb
        FROM orders
        """,
        """
        INSERT INTO return_items (return_id, order_item_id, quantity, reason)
        SELECT r.id, r.id, 1 + (random() < 0.3)::int,
               (ARRAY['too_small','too_small','too_small','too_big','too_big','changed_mind',
                      'style','not_as_described','defective','other'])
                   [1 + floor(random() * 10)::int]
        FROM returns r
        """,
    ]
    for statement in statements:
        started = time.perf_counter()
        try:
            db.session.execute(text(statement))
        except Exception as error:  # a column another part added: say which, plainly
            raise SystemExit(f"generation failed: {str(error).splitlines()[0]}") from None
        log(f"{statement.split()[0]} {statement.split()[2] if len(statement.split()) > 2 else ''}"
            f" ... {time.perf_counter() - started:.1f} s")  # fmt: skip
    for table in (
        "teams",
        "users",
        "customers",
        "tickets",
        "orders",
        "order_items",
        "returns",
        "shops",
    ):
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"(SELECT max(id) FROM {table}))"))  # fmt: skip
    db.session.commit()


def disable_triggers(enable: bool) -> None:
    """The search index's triggers would index every bench ticket; they are not measured."""
    verb = "ENABLE" if enable else "DISABLE"
    for table in ("tickets", "customers", "orders", "returns"):
        db.session.execute(text(f"ALTER TABLE {table} {verb} TRIGGER USER"))
    db.session.commit()


def measure(app, repeat: int) -> dict:
    start, end = END.date() - timedelta(days=89), END.date() - timedelta(days=1)
    figures: dict[str, dict] = {}

    def timed(name: str, call) -> None:
        call()  # warm-up
        runs = []
        for _ in range(repeat):
            began = time.perf_counter()
            call()
            runs.append((time.perf_counter() - began) * 1000)
            db.session.rollback()
        figures[name] = {"p50_ms": round(statistics.median(runs), 1),
                         "max_ms": round(max(runs), 1)}  # fmt: skip
        log(f"{name}: p50 {figures[name]['p50_ms']} ms, max {figures[name]['max_ms']} ms")

    with app.app_context():
        for group in ("channel", "agent", "team", "intent"):
            timed(f"report_{group}", lambda g=group: kpis.report(start, end, group_by=g))
        rows = kpis.report(start, end).total.tickets
    client = app.test_client()
    with client:
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post("/login", data={"email": LEAD_EMAIL, "password": PASSWORD,
                                    "csrf_token": token})  # fmt: skip
    url = f"/kpis?from={start}&to={end}&by=channel"

    def page_once():
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        response.close()

    with app.app_context():
        timed("kpis_page", page_once)
    return {"tickets_in_period": rows, **figures}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--reuse", action="store_true", help="measure without generating")
    args = parser.parse_args(argv)
    if not args.reuse:
        problem = prepare_postgres(args.pg_url)
        if problem:
            raise SystemExit(f"PostgreSQL is not available: {problem}")
    app = make_app(args.pg_url)
    if not args.reuse:
        with app.app_context():
            started = time.perf_counter()
            disable_triggers(False)
            generate(args.tickets)
            disable_triggers(True)
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
            log(f"generated {args.tickets:,} tickets in {time.perf_counter() - started:.0f} s")
    figures = measure(app, args.repeat)
    slowest = max(v["p50_ms"] for k, v in figures.items() if isinstance(v, dict))
    result = {
        "bench": "kpis",
        "date": date(2026, 12, 5).isoformat(),
        "tickets": args.tickets,
        "period_days": 90,
        **figures,
        "target_ms": TARGET_MS,
        "met": slowest <= TARGET_MS,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
