"""The inbox at scale: a million tickets in PostgreSQL, 200,000 in SQLite, then server time
of the pages agents use all day.

What it builds: N tickets (default 1,000,000 on PostgreSQL, 200,000 on SQLite) with 3 N
messages, N / 3.3 customers (about 300,000 for a million) with their identities, 70
users in 5 teams, intent tags, tags and two events per ticket, in a fixed, seeded mix
(see `Mix`): ids in the order of time over three years, old tickets solved or closed,
a backlog of about 0.8 % unsolved (11 days of intake, mostly recent); e-mail 45 %,
chat 15 %, social 25 %, phone 15 %; German 62 %, English 36 %; 90 % with an SLA due
time. The schema is built by the migrations; rows are bulk loaded (PostgreSQL: COPY
through psycopg; SQLite: executemany) with secondary indexes and triggers dropped and
created again afterwards, the search index is filled once from its source view, and
statistics are gathered (VACUUM ANALYZE / ANALYZE).

What it measures, in a fresh process (so its peak RSS is the web worker's, not the
generator's): server time of requests through the Flask test client signed in as an
agent, `--repeat` times each after a warm-up, p50 and p95 in ms:
every inbox view's first page (with its counts), the open view in each sort, some
filters, a deep page (the cursor after 50 pages), the ticket page of random tickets,
and search (GET /search?q=<word>; reported as not measured when /search is 404).

Targets on PostgreSQL: inbox pages and the ticket page p95 <= 50 ms, search <= 200 ms.
The last line of stdout is one JSON object with the figures.

Run it from the project root:

    .venv/bin/python bench/inbox.py --backend postgresql --tickets 20000   # smoke run
    .venv/bin/python bench/inbox.py                                        # both, full size
    .venv/bin/python bench/inbox.py --backend postgresql --reuse           # measure again

PostgreSQL runs on `--pg-url` (database helpdesk_bench_inbox): it is created if missing
and its public schema dropped and recreated, so do not point it at data you want to
keep. SQLite writes `--sqlite-path`. `--reuse` skips generation and measures the
database as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from classifiers.base import INTENTS
from common import dispose, make_app, prepare_postgres
from common import peak_rss_mb as common_peak_rss_mb
from helpdesk.extensions import db
from helpdesk.models import Team, Ticket, User
from helpdesk.services.inbox import VIEWS
from helpdesk.services.inbox_intents import refresh_all_sql

DEFAULT_PG_URL = "postgresql+psycopg://@127.0.0.1:5432/helpdesk_bench_inbox"
DEFAULT_SQLITE_PATH = "/tmp/helpdesk-bench-inbox.sqlite"
DEFAULT_TICKETS = {"postgresql": 1_000_000, "sqlite": 200_000}
SEED = 6
AGENT_EMAIL = "agent1@bench.example"
PASSWORD = "bench-password"
TARGETS_MS = {"inbox": 50.0, "deep": 50.0, "ticket": 50.0, "search": 200.0}
#: The tables the generator fills; their secondary indexes and triggers are dropped first.
LOADED = (
    "customers",
    "customer_identities",
    "tickets",
    "messages",
    "intent_tags",
    "ticket_tags",
    "events",
    "ticket_search",
)
CHUNK = 20_000  # tickets generated and written per round

# --- the mix ----------------------------------------------------------------------------


class Mix:
    """Weights of the synthetic store (relative, per ticket unless said otherwise)."""

    #: Status by age (younger than so many days): the backlog is recent, old tickets done.
    #: Over three years that leaves about 0.8 % unsolved, some 11 days of intake.
    statuses_by_age = (
        (3, {"new": 25, "open": 30, "pending": 20, "on_hold": 5, "solved": 20}),
        (14, {"open": 12, "pending": 18, "on_hold": 6, "solved": 60, "closed": 4}),
        (60, {"pending": 3, "on_hold": 3, "solved": 44, "closed": 50}),
        (None, {"solved": 25, "closed": 75}),
    )
    years = 3
    channels = {"email": 45, "chat": 15, "messenger": 6.25, "instagram": 6.25,
                "whatsapp": 6.25, "x": 6.25, "phone": 15}  # fmt: skip
    languages = {"de": 62, "en": 36, "fr": 1, "nl": 1}
    priorities = {"low": 10, "normal": 72, "high": 14, "urgent": 4}
    intents = {"order_status": 22, "return_request": 14, "return_status": 11,
               "refund_status": 10, "exchange_request": 9, "payment_reminder": 7,
               "order_change_cancel": 5, "damaged_or_wrong": 7, "shipping_policy": 6,
               "product_question": 5, "other": 4}  # fmt: skip
    tags = ("retoure", "umtausch", "mahnung", "versand", "erstattung", "vip", "presse",
            "defekt", "falschlieferung", "storno", "gutschein", "rechnung", "adresse",
            "groesse", "lieferverzug", "b2b", "beschwerde", "lob", "dhl", "hermes", "dpd",
            "ups", "express", "marketplace", "influencer", "newsletter", "garantie",
            "reklamation", "teilretoure", "nachnahme")  # fmt: skip
    #: SLA per channel family (minutes), as issue #8 suggests.
    sla_minutes = {"email": 8 * 60, "chat": 5, "social": 60, "phone": 4 * 60}
    agents = 60


FAMILY = {"email": "email", "chat": "chat", "phone": "phone", "messenger": "social",
          "instagram": "social", "whatsapp": "social", "x": "social"}  # fmt: skip
IDENTITY = {"email": "email", "chat": "chat_visitor", "messenger": "messenger",
            "instagram": "instagram", "whatsapp": "phone", "x": "x", "phone": "phone"}  # fmt: skip
TEAMS = ("Care", "Chat", "Social", "Phone", "Returns")
TEAM_OF_FAMILY = {"email": 1, "chat": 2, "social": 3, "phone": 4}
FIRST = ("Anna", "Lukas", "Mia", "Jonas", "Emma", "Noah", "Lea", "Paul", "Sophie", "Ben",
         "Hanna", "Elias", "Lina", "Felix", "Marie", "Leon", "Emily", "Finn", "Clara", "Tom",
         "Oliver", "Grace", "Heike", "Jürgen", "Ayşe", "Mehmet", "Zofia", "Luca")  # fmt: skip
LAST = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
        "Hoffmann", "Schulz", "Koch", "Richter", "Klein", "Wolf", "Neumann", "Braun", "Smith",
        "Jones", "Brown", "Taylor", "Wilson", "Yılmaz", "Kowalski", "Rossi", "Bauer")  # fmt: skip
SUBJECTS = {
    "de": ("Bestellung {order}", "Rücksendung {order}", "Frage zu meiner Bestellung {order}",
           "Mahnung trotz Retoure ({order})", "Umtausch Größe {order}", "Wo bleibt mein Paket?",
           "Erstattung für {order}", "Falscher Artikel geliefert"),
    "en": ("Order {order}", "Return for order {order}", "Question about order {order}",
           "Reminder although I returned {order}", "Exchange size {order}",
           "Where is my parcel?", "Refund for {order}", "Wrong item delivered"),
}  # fmt: skip
SENTENCES = {
    "de": ("Hallo, wo bleibt meine Bestellung {order}?",
           "Ich habe die Schuhe aus Bestellung {order} vor zwei Wochen zurückgeschickt.",
           "Heute kam trotzdem eine Zahlungserinnerung, das verstehe ich nicht.",
           "Die Jacke ist leider zu klein, kann ich sie gegen Größe L umtauschen?",
           "In meinem Paket war ein falscher Artikel, bitte um Rückmeldung.",
           "Wann bekomme ich mein Geld für die Rücksendung zurück?",
           "Die Sendungsnummer lautet 00340434161{track}.",
           "Können Sie die Lieferadresse noch ändern? Ich ziehe nächste Woche um.",
           "Vielen Dank für die schnelle Antwort!",
           "Ich warte immer noch auf eine Rückmeldung zu meiner Bestellung {order}.",
           "Das Kleid gefällt mir sehr, aber es fällt eine Nummer kleiner aus.",
           "Bitte stornieren Sie die Bestellung {order}, ich habe mich vertan."),
    "en": ("Hi, where is my order {order}? It was supposed to arrive on Monday.",
           "I sent the shoes from order {order} back two weeks ago.",
           "Today I still got a payment reminder, which I do not understand.",
           "The jacket is too small, can I exchange it for a size L?",
           "There was a wrong item in my parcel, please get back to me.",
           "When will I get my refund for the return?",
           "The tracking number is 1Z999AA1{track}.",
           "Can you still change the delivery address? I am moving next week.",
           "Thanks a lot for the quick answer!",
           "I am still waiting to hear back about order {order}.",
           "I love the dress but it runs one size small.",
           "Please cancel order {order}, I made a mistake."),
}  # fmt: skip
REPLIES = {
    "de": ("Guten Tag, vielen Dank für Ihre Nachricht. Ihre Rücksendung zu {order} ist bei "
           "uns eingegangen, die Erstattung folgt in wenigen Tagen. Viele Grüße, Ihr "
           "Kundenservice",
           "Hallo, wir haben die Mahnung zu {order} pausiert, bis Ihre Retoure gebucht ist. "
           "Sie müssen nichts weiter tun.",
           "Hallo, Ihr Paket ist unterwegs und kommt voraussichtlich morgen an."),
    "en": ("Hello, thank you for your message. Your return for {order} has arrived and the "
           "refund follows within a few days. Kind regards, customer care",
           "Hi, we paused the reminder for {order} until your return is booked. There is "
           "nothing else you need to do.",
           "Hi, your parcel is on its way and should arrive tomorrow."),
}  # fmt: skip
NOTES = ("Retoure im Lager geprüft, Erstattung angestoßen.",
         "Kundin hat auch per Instagram geschrieben, dort verlinkt.",
         "Rechnung an Buchhaltung weitergeleitet.")  # fmt: skip


def weighted(weights: dict[str, float]) -> tuple[list[str], list[float]]:
    names = list(weights)
    total = sum(weights.values())
    cumulative, running = [], 0.0
    for name in names:
        running += weights[name] / total
        cumulative.append(running)
    return names, cumulative


def stamp(value: datetime) -> str:
    """Naive UTC with microseconds, as the app stores times on both databases."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


# --- generating rows --------------------------------------------------------------------


class Generator:
    """Yields the rows of the store table by table, chunk by chunk; seeded, so both
    databases (and every run) get the same store for the same size."""

    def __init__(self, tickets: int, now: datetime, seed: int = SEED) -> None:
        self.tickets = tickets
        self.customers = max(10, round(tickets / 3.3))
        self.now = now
        self.rng = random.Random(seed)
        self.message_id = 0
        self.tag_id = 0
        self.event_id = 0
        self.identity_id = 0
        # 2 N extra messages spread over the tickets: 3 N in all, 1 to about 10 each.
        extra = [0] * tickets
        for _ in range(2 * tickets):
            extra[self.rng.randrange(tickets)] += 1
        self.extra_messages = extra
        self.choosers = {
            name: weighted(getattr(Mix, name))
            for name in ("channels", "languages", "priorities", "intents")
        }
        for days, weights in Mix.statuses_by_age:
            self.choosers[f"status<{days}"] = weighted(weights)
        agent_weights = {str(i): 1 / (i**0.5) for i in range(1, Mix.agents + 1)}
        self.choosers["agents"] = weighted(agent_weights)
        self.agent_ids: list[int] = []  # filled once the users exist

    def pick(self, name: str) -> str:
        names, cumulative = self.choosers[name]
        roll = self.rng.random()
        for value, edge in zip(names, cumulative, strict=True):
            if roll <= edge:
                return value
        return names[-1]

    def agent(self) -> int:
        return self.agent_ids[int(self.pick("agents")) - 1]

    # customers ----------------------------------------------------------------------

    def customer_rows(self) -> Iterator[tuple[list[tuple], list[tuple]]]:
        """(customers, identities) in chunks."""
        rng = self.rng
        created = stamp(self.now - timedelta(days=1100))
        for start in range(1, self.customers + 1, CHUNK):
            customers, identities = [], []
            for cid in range(start, min(start + CHUNK, self.customers + 1)):
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                language = self.pick("languages")
                channel = self.pick("channels")
                customers.append((cid, name, language, channel, created))
                local = name.lower().replace(" ", ".")
                kinds = [IDENTITY[channel]] + (["email"] if rng.random() < 0.3 else [])
                for kind in dict.fromkeys(kinds):
                    self.identity_id += 1
                    identities.append(
                        (self.identity_id, cid, kind, _identity(kind, local, cid), name, created)
                    )
            yield customers, identities

    # tickets and what hangs on them ---------------------------------------------------

    def ticket_chunks(self) -> Iterator[dict[str, list[tuple]]]:
        for start in range(1, self.tickets + 1, CHUNK):
            rows: dict[str, list[tuple]] = {
                "tickets": [],
                "messages": [],
                "intent_tags": [],
                "ticket_tags": [],
                "events": [],
            }
            for tid in range(start, min(start + CHUNK, self.tickets + 1)):
                self._ticket(tid, rows)
            yield rows

    def _ticket(self, tid: int, rows: dict[str, list[tuple]]) -> None:
        rng, now = self.rng, self.now
        # Ids follow time, as in a real store: ticket 1 is three years old, the last is new.
        span = Mix.years * 365 * 86400
        age = span * (1 - (tid - 0.5 + rng.uniform(-0.4, 0.4)) / self.tickets)
        created = (now - timedelta(seconds=age)).replace(microsecond=0)
        days = next(d for d, _ in Mix.statuses_by_age if d is None or age < d * 86400)
        status = self.pick(f"status<{days}")
        channel = self.pick("channels")
        family = FAMILY[channel]
        language = self.pick("languages")
        text_language = "de" if language == "de" else "en"
        customer = 1 + int(self.customers * rng.random() ** 1.6)
        order = str(100000 + rng.randrange(900000))
        messages = 1 + self.extra_messages[tid - 1]
        span = timedelta(minutes=rng.randrange(1, 60 * 24 * 4)) if messages > 1 else timedelta()
        last_activity = min(created + span, now)
        unsolved = status not in ("closed", "solved")
        if unsolved:
            assigned = rng.random() > {"new": 0.8, "open": 0.2}.get(status, 0.05)
        else:
            assigned = rng.random() < 0.97
        assignee = self.agent() if assigned else None
        team = TEAM_OF_FAMILY[family] if rng.random() < 0.9 else None
        intents = self._intents()
        if team and intents & {"return_request", "return_status", "refund_status"}:
            team = 5
        sla = None
        if rng.random() < 0.9:
            sla = created + timedelta(minutes=Mix.sla_minutes[family])
        solved_at = last_activity if not unsolved else None
        first_response = (
            created + timedelta(minutes=rng.randrange(1, 600)) if messages > 1 else None
        )
        escalated_to = None
        if family == "social" and tid < self.tickets and rng.random() < 0.01:
            escalated_to = min(self.tickets, tid + rng.randrange(1, 50))  # care's new ticket
        subject = rng.choice(SUBJECTS[text_language]).format(order=order)
        if family != "email":
            subject = ""
        rows["tickets"].append(
            (
                tid,
                subject,
                status,
                self.pick("priorities"),
                channel,
                customer,
                assignee,
                team,
                language,
                stamp(created),
                stamp(last_activity),
                stamp(first_response) if first_response else None,
                stamp(solved_at) if solved_at else None,
                stamp(sla) if sla else None,
                escalated_to,
            )
        )
        self._messages(
            tid,
            rows,
            channel,
            text_language,
            order,
            created,
            last_activity,
            messages,
            assignee,
            subject,
        )
        first_message = self.message_id - messages + 1
        for intent in sorted(intents):
            self.tag_id += 1
            rows["intent_tags"].append(
                (
                    self.tag_id,
                    tid,
                    first_message,
                    intent,
                    0.9,
                    "model",
                    "bench",
                    False,
                    None,
                    stamp(created),
                )
            )
        if intents and rng.random() < 0.03:  # an agent removed a wrong guess
            self.tag_id += 1
            rows["intent_tags"].append(
                (
                    self.tag_id,
                    tid,
                    first_message,
                    min(intents),
                    None,
                    "agent",
                    None,
                    True,
                    assignee,
                    stamp(last_activity),
                )
            )
        tags = set()
        if rng.random() < 0.35:
            tags = {rng.choice(Mix.tags) for _ in range(rng.choice((1, 1, 2)))}
        if rng.random() < 0.003:
            tags.add("escalated")
        rows["ticket_tags"] += [(tid, tag) for tag in sorted(tags)]
        self.event_id += 1
        rows["events"].append(
            (
                self.event_id,
                stamp(created),
                "ticket.created",
                tid,
                customer,
                None,
                None,
                "ingest",
                json.dumps({"channel": channel}),
            )
        )
        if status != "new":
            self.event_id += 1
            rows["events"].append(
                (
                    self.event_id,
                    stamp(last_activity),
                    "ticket.status_changed",
                    tid,
                    None,
                    None,
                    assignee,
                    f"user:{assignee}" if assignee else "system",
                    json.dumps({"old": "new", "new": status}),
                )
            )

    def _intents(self) -> set[str]:
        roll = self.rng.random()
        if roll < 0.08:
            return set()
        found = {self.pick("intents")}
        if roll > 0.78:
            found.add(self.pick("intents"))
        return found

    def _messages(
        self, tid, rows, channel, language, order, created, last_activity, count, assignee, subject
    ) -> None:
        rng = self.rng
        step = (last_activity - created) / max(1, count - 1)
        for index in range(count):
            self.message_id += 1
            mid = self.message_id
            at = stamp(created + step * index)
            if index == 0 or rng.random() < 0.45:
                direction, author_kind, author = "inbound", "customer", None
                sentences = rng.sample(SENTENCES[language], rng.choice((1, 2, 3)))
                body = " ".join(sentences).format(order=order, track=f"{mid % 10**9:09d}")
            elif rng.random() < 0.15:
                direction, author_kind, author = "note", "agent", assignee
                body = rng.choice(NOTES)
            else:
                direction, author_kind, author = "outbound", "agent", assignee
                body = rng.choice(REPLIES[language]).format(order=order)
            external = f"<bench-{mid}@bench.invalid>" if channel == "email" else f"bench-{mid}"
            thread = None if channel == "email" else f"bench-thread-{tid}"
            rows["messages"].append(
                (
                    mid,
                    tid,
                    channel,
                    direction,
                    author_kind,
                    author,
                    external if direction != "note" else None,
                    thread,
                    subject,
                    body,
                    "",
                    False,
                    at,
                    at,
                    "{}",
                )
            )


def _identity(kind: str, local: str, cid: int) -> str:
    if kind == "email":
        return f"{local}.{cid}@example.com"
    if kind == "phone":
        return f"+49151{cid:08d}"
    return f"{local.replace('.', '_')}_{cid}"


COLUMNS = {
    "customers": ("id", "name", "language", "preferred_channel", "created_at"),
    "customer_identities": ("id", "customer_id", "kind", "value", "display_name", "created_at"),
    "tickets": (
        "id",
        "subject",
        "status",
        "priority",
        "channel",
        "customer_id",
        "assignee_id",
        "team_id",
        "language",
        "created_at",
        "last_activity_at",
        "first_response_at",
        "solved_at",
        "sla_due_at",
        "escalated_to_id",
    ),
    "messages": (
        "id",
        "ticket_id",
        "channel",
        "direction",
        "author_kind",
        "author_id",
        "external_id",
        "thread_key",
        "subject",
        "text",
        "quoted_text",
        "auto_submitted",
        "sent_at",
        "created_at",
        "details",
    ),
    "intent_tags": (
        "id",
        "ticket_id",
        "message_id",
        "intent",
        "confidence",
        "source",
        "model_version",
        "rejected",
        "created_by_id",
        "created_at",
    ),
    "ticket_tags": ("ticket_id", "name"),
    "events": (
        "id",
        "created_at",
        "kind",
        "ticket_id",
        "customer_id",
        "message_id",
        "user_id",
        "actor",
        "data",
    ),
}


# --- loading ----------------------------------------------------------------------------


def create_users(app: Flask, generator: Generator) -> None:
    """Users and teams through the ORM (a few dozen rows): the models' own defaults."""
    password_hash = generate_password_hash(PASSWORD)
    with app.app_context():
        teams = [Team(name=name) for name in TEAMS]
        db.session.add_all(teams)
        agents = [
            User(
                email=f"agent{i}@bench.example",
                name=f"Agent {i}",
                role="agent",
                password_hash=password_hash,
                language="de" if i % 3 else "en",
            )
            for i in range(1, Mix.agents + 1)
        ]
        others = [
            User(
                email=f"{role}{i}@bench.example",
                name=f"{role.title()} {i}",
                role=role,
                password_hash=password_hash,
            )
            for role in ("lead", "social", "admin")
            for i in range(1, 4)
        ]
        db.session.add_all(agents + others)
        for index, agent in enumerate(agents):
            agent.teams.append(teams[index % len(teams)])
        db.session.commit()
        generator.agent_ids = [agent.id for agent in agents]


def check_columns(app: Flask) -> None:
    """Refuse to run when a table gained a required column this generator does not fill."""
    with app.app_context():
        inspector = db.inspect(db.engine)
        for table, columns in COLUMNS.items():
            for column in inspector.get_columns(table):
                required = not column["nullable"] and column.get("default") is None
                if required and column["name"] not in columns and not column.get("autoincrement"):
                    raise SystemExit(
                        f"bench/inbox.py: {table}.{column['name']} is required now; "
                        "teach the generator to fill it"
                    )


def pg_connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    """A connection of our own: its session settings never go back to the app's pool."""
    found = make_url(url)
    return psycopg.connect(
        host=found.host,
        port=found.port,
        dbname=found.database,
        user=found.username,
        password=found.password,
        autocommit=autocommit,
    )


def load_postgresql(url: str, generator: Generator, log: Callable[[str], None]) -> None:
    conn = pg_connect(url)
    cur = conn.cursor()
    cur.execute("SET session_replication_role = replica")  # no FK or search triggers
    cur.execute("SET maintenance_work_mem = '1GB'")
    indexes = cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = format('%%I.%%I', schemaname, indexname)::regclass)",
        (list(LOADED),),
    ).fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    conn.commit()

    def copy(table: str, rows: Iterable[tuple]) -> None:
        with cur.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as out:
            for row in rows:
                out.write_row(row)

    for customers, identities in generator.customer_rows():
        copy("customers", customers)
        copy("customer_identities", identities)
    conn.commit()
    log(f"customers: {generator.customers:,}")
    for number, chunk in enumerate(generator.ticket_chunks(), start=1):
        for table, rows in chunk.items():
            copy(table, rows)
        conn.commit()
        if number % 10 == 0:
            log(f"tickets: {min(number * CHUNK, generator.tickets):,}")
    for table in (
        "customers",
        "customer_identities",
        "tickets",
        "messages",
        "intent_tags",
        "events",
    ):
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    conn.commit()
    log(f"creating {len(indexes)} indexes")
    for _, definition in indexes:
        cur.execute(definition)
        conn.commit()
    log("intent bits from the tags")
    cur.execute(refresh_all_sql())
    conn.commit()
    conn.close()
    fill_search_postgresql(url, generator.tickets, log)
    log("vacuum analyze, checkpoint")
    with pg_connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        # Write the load's dirty pages now, not while the pages are being measured.
        conn.execute("CHECKPOINT")


def fill_search_postgresql(url: str, tickets: int, log: Callable[[str], None]) -> None:
    """The search index from its source view, in two parallel halves (two cores)."""
    with pg_connect(url) as conn:
        found = conn.execute(
            "SELECT to_regclass('ticket_search') IS NOT NULL AND "
            "to_regclass('ticket_search_source') IS NOT NULL"
        ).fetchone()[0]
    if not found:
        log("no search index to fill")
        return
    log("filling the search index")
    started = time.perf_counter()
    errors: list[BaseException] = []

    def fill(low: int, high: int) -> None:
        try:
            with pg_connect(url) as conn:
                conn.execute("SET session_replication_role = replica")
                for start in range(low, high, 50_000):
                    conn.execute(
                        "INSERT INTO ticket_search (ticket_id, document) SELECT ticket_id,"
                        " document FROM ticket_search_source WHERE ticket_id >= %s AND "
                        "ticket_id < %s",
                        (start, min(start + 50_000, high)),
                    )
                    conn.commit()
        except BaseException as error:  # reported below, in the main thread
            errors.append(error)

    middle = tickets // 2 + 1
    workers = [
        threading.Thread(target=fill, args=span) for span in ((1, middle), (middle, tickets + 1))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    log(f"search index filled in {time.perf_counter() - started:.0f} s")


def load_sqlite(path: str, generator: Generator, log: Callable[[str], None]) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA cache_size=-500000")
    saved = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND "
        f"(type = 'trigger' OR (type = 'index' AND tbl_name IN ({_marks(LOADED)})))",
        LOADED,
    ).fetchall()
    for kind, name, _ in saved:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    conn.execute("BEGIN")

    def insert(table: str, rows: list[tuple]) -> None:
        columns = COLUMNS[table]
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_marks(columns)})", rows
        )

    for customers, identities in generator.customer_rows():
        insert("customers", customers)
        insert("customer_identities", identities)
    for number, chunk in enumerate(generator.ticket_chunks(), start=1):
        for table, rows in chunk.items():
            insert(table, rows)
        if number % 10 == 0:
            log(f"tickets: {min(number * CHUNK, generator.tickets):,}")
    conn.execute("COMMIT")
    log(f"creating {len(saved)} indexes and triggers")
    for kind, _, sql in sorted(saved, key=lambda item: item[0] != "index"):
        if kind == "index":
            conn.execute(sql)
    log("intent bits from the tags")
    conn.execute(refresh_all_sql())
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    if {"ticket_search", "ticket_search_source"} <= names:
        log("filling the search index")
        columns = [row[1] for row in conn.execute("PRAGMA table_info(ticket_search)")]
        conn.execute(
            f"INSERT INTO ticket_search (rowid, {', '.join(columns)}) SELECT ticket_id, "
            f"{', '.join(columns)} FROM ticket_search_source"
        )
    for kind, _, sql in saved:
        if kind == "trigger":
            conn.execute(sql)
    log("analyze")
    conn.execute("ANALYZE")
    conn.close()


def _marks(items: Sequence[str]) -> str:
    return ", ".join("?" * len(items))


# --- measuring --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    name: str
    kind: str  # inbox, deep, ticket, search
    p50_ms: float
    p95_ms: float
    status: int


def measure(url: str, repeat: int, seed: int) -> dict:
    """Server time of the agent's pages on the database at `url` (run in a fresh process)."""
    app = make_app(url)
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    signed_in = client.post(
        "/login", data={"email": AGENT_EMAIL, "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 302, "the bench agent cannot sign in"
    rng = random.Random(seed)
    with app.app_context():
        tickets = db.session.scalar(select(db.func.max(Ticket.id)))
        agent = db.session.scalar(select(User).where(User.email == AGENT_EMAIL))
        deep = deep_cursors(agent, app.config["INBOX_PAGE_SIZE"])
        words = search_words(rng, tickets)
    timings: list[Timing] = []

    def timed(
        name: str, kind: str, paths: Callable[[], str], before: Callable[[], None] | None = None
    ) -> None:
        for _ in range(3):  # warm-up: caches, first compilation of each statement
            client.get(paths())
        samples, status = [], 200
        for _ in range(repeat):
            path = paths()
            if before:
                before()  # not timed
            started = time.perf_counter()
            response = client.get(path)
            samples.append(time.perf_counter() - started)
            status = response.status_code
            if status != 200:
                break
        cuts = statistics.quantiles(samples, n=20, method="inclusive") if len(samples) > 1 else []
        p50 = statistics.median(samples) * 1000
        p95 = (cuts[18] if cuts else samples[0]) * 1000
        timings.append(Timing(name, kind, p50, p95, status))

    for view in VIEWS:
        timed(f"view {view}", "inbox", lambda v=view: f"/inbox?view={v}")
    # As the first page after an agent corrected an intent on a backlog ticket.
    timed(
        "view open, after an intent changed",
        "inbox",
        lambda: "/inbox?view=open",
        before=lambda: correct_an_intent(app, rng),
    )
    for sort in ("sla", "priority"):
        timed(f"open, sort {sort}", "inbox", lambda s=sort: f"/inbox?view=open&sort={s}")
    for label, query in (
        ("open, channel email + intent return_status", "channel=email&intent=return_status"),
        ("open, language en + tag retoure", "language=en&tag=retoure"),
        ("open, channel x + status pending", "channel=x&status=pending"),
        (
            "solved, channel instagram + intent refund",
            "view=solved&channel=instagram&intent=refund_status",
        ),
        ("solved, assignee 7 + tag vip", "view=solved&assignee=7&tag=vip"),
    ):
        path = f"/inbox?{query}" if query.startswith("view=") else f"/inbox?view=open&{query}"
        timed(label, "inbox", lambda p=path: p)
    for (view, sort), cursor in deep.items():
        timed(
            f"{view}, sort {sort}, page 51",
            "deep",
            lambda v=view, s=sort, c=cursor: f"/inbox?view={v}&sort={s}&cursor={c}",
        )
    timed("ticket page (random)", "ticket", lambda: f"/tickets/{rng.randrange(1, tickets + 1)}")
    rss_before_search = peak_rss_mb()
    if client.get("/search?q=test").status_code == 404:
        search_measured = False
    else:
        search_measured = True
        for word in words:
            timed(f"search {word!r}", "search", lambda w=word: f"/search?q={w}")
    dispose(app)
    return {
        "timings": [asdict(t) for t in timings],
        "search_measured": search_measured,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "peak_rss_before_search_mb": round(rss_before_search, 1),
        "tickets": tickets,
    }


def correct_an_intent(app: Flask, rng: random.Random) -> None:
    """An agent's correction on a random backlog ticket: an intent added or removed."""
    with app.app_context(), db.engine.begin() as conn:
        ticket_id = conn.scalar(
            text(
                "SELECT id FROM tickets WHERE status IN ('new', 'open', 'pending', 'on_hold') "
                "ORDER BY last_activity_at DESC LIMIT 1 OFFSET :skip"
            ),
            {"skip": rng.randrange(1000)},
        )
        conn.execute(
            text(
                "INSERT INTO intent_tags (ticket_id, intent, source, rejected, created_at) "
                "VALUES (:ticket, :intent, 'agent', :rejected, CURRENT_TIMESTAMP)"
            ),
            {"ticket": ticket_id, "intent": rng.choice(INTENTS), "rejected": rng.random() < 0.5},
        )


def peak_rss_mb() -> float:
    """This process's peak RSS since it started (VmHWM): unlike getrusage's ru_maxrss it
    does not include the parent's memory at the fork that started us."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return common_peak_rss_mb()


def deep_cursors(agent: User, page_size: int) -> dict[tuple[str, str], str]:
    """The cursor after 50 pages, per (view, sort) measured deep."""
    from helpdesk.services.inbox import list_tickets

    found = {}
    for view, sort in (
        ("open", "activity"),
        ("open", "sla"),
        ("open", "priority"),
        ("solved", "activity"),
        ("solved", "priority"),
    ):
        cursor = None
        for _ in range(50):
            page = list_tickets(agent, view=view, sort=sort, cursor=cursor, limit=page_size)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        if cursor:
            found[(view, sort)] = cursor
    return found


def search_words(rng: random.Random, tickets: int) -> list[str]:
    """Common words in both languages, a customer's name, and an order number that exists."""
    body = db.session.scalar(
        text("SELECT text FROM messages WHERE ticket_id = :t AND direction = 'inbound' LIMIT 1"),
        {"t": rng.randrange(1, tickets + 1)},
    )
    number = re.search(r"\b1\d{5}\b|\b[2-9]\d{5}\b", body or "")
    words = ["Rücksendung", "refund", "Mahnung", "Müller"]
    return words + [number.group(0)] if number else words


# --- the command line -------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--tickets",
        type=int,
        default=None,
        help="how many tickets (default 1,000,000 on PostgreSQL, 200,000 on SQLite)",
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"default {DEFAULT_PG_URL}")
    parser.add_argument(
        "--sqlite-path", default=DEFAULT_SQLITE_PATH, help=f"default {DEFAULT_SQLITE_PATH}"
    )
    parser.add_argument("--repeat", type=int, default=40, help="requests per page (default 40)")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the database as it is, without generating"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: the child process
    args = parser.parse_args(argv)
    if args.tickets is not None and args.tickets < 100:
        parser.error("--tickets must be at least 100")
    return args


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def generate(backend: str, url: str, tickets: int, sqlite_path: str) -> float | None:
    """A fresh database of `backend` with the synthetic store; seconds taken, None if
    PostgreSQL is unreachable."""
    started = time.perf_counter()
    if backend == "postgresql":
        problem = prepare_postgres(url)
        if problem:
            where = make_url(url).render_as_string(hide_password=True)
            print(f"postgresql: skipped, {where} is unreachable ({problem})")
            return None
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(sqlite_path + suffix).unlink(missing_ok=True)
    app = make_app(url)
    check_columns(app)
    generator = Generator(tickets, datetime.now(UTC).replace(microsecond=0))
    create_users(app, generator)
    log(
        f"{backend}: generating {tickets:,} tickets, {3 * tickets:,} messages, "
        f"{generator.customers:,} customers"
    )
    if backend == "postgresql":
        dispose(app)
        load_postgresql(url, generator, log)
    else:
        dispose(app)
        load_sqlite(sqlite_path, generator, log)
    seconds = time.perf_counter() - started
    log(f"{backend}: generated in {seconds:.0f} s")
    return seconds


def run_child(url: str, repeat: int) -> dict:
    """Measure in a fresh interpreter, so the peak RSS is the web worker's own."""
    done = subprocess.run(
        [sys.executable, __file__, "--measure", url, "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        env={**os.environ, "HELPDESK_ENV": "testing"},
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"measuring failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(backend: str, result: dict, generated_s: float | None) -> None:
    print(f"\n== {backend}: {result['tickets']:,} tickets ==")
    if generated_s is not None:
        print(f"  generated in {generated_s:,.0f} s")
    print(f"  {'page':<48} {'p50 ms':>8} {'p95 ms':>8}  target")
    for timing in result["timings"]:
        target = TARGETS_MS[timing["kind"]]
        met = "met" if timing["p95_ms"] <= target else "NOT met"
        status = "" if timing["status"] == 200 else f"  (HTTP {timing['status']})"
        print(
            f"  {timing['name']:<48} {timing['p50_ms']:>8.1f} {timing['p95_ms']:>8.1f}  "
            f"<= {target:.0f}: {met}{status}"
        )
    if not result["search_measured"]:
        print("  search: not measured (/search answers 404)")
    print(
        f"  peak RSS of the measuring process: {result['peak_rss_mb']:.0f} MB "
        f"({result['peak_rss_before_search_mb']:.0f} MB before the searches)"
    )


def summary(key: str, result: dict | None) -> dict[str, object]:
    """Per kind of page: the worst p95 and the median p50, for the JSON line."""
    if result is None:
        return {f"{key}_{kind}_p95_ms": None for kind in TARGETS_MS}
    line: dict[str, object] = {f"{key}_tickets": result["tickets"]}
    for kind in TARGETS_MS:
        found = [t for t in result["timings"] if t["kind"] == kind]
        line[f"{key}_{kind}_p50_ms"] = (
            round(statistics.median(t["p50_ms"] for t in found), 2) if found else None
        )
        line[f"{key}_{kind}_p95_ms"] = round(max(t["p95_ms"] for t in found), 2) if found else None
    line[f"{key}_peak_rss_mb"] = result["peak_rss_mb"]
    line[f"{key}_peak_rss_before_search_mb"] = result["peak_rss_before_search_mb"]
    return line


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.repeat, SEED)))
        return 0
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    line: dict[str, object] = {"bench": "inbox"}
    for backend in backends:
        url = args.pg_url if backend == "postgresql" else f"sqlite:///{args.sqlite_path}"
        tickets = args.tickets or DEFAULT_TICKETS[backend]
        generated = None
        if not args.reuse:
            generated = generate(backend, url, tickets, args.sqlite_path)
            if generated is None:
                line.update(summary(backend, None))
                continue
        result = run_child(url, args.repeat)
        print_table(backend, result, generated)
        line.update(summary(backend, result))
        line[f"{backend}_generate_s"] = round(generated) if generated else None
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
