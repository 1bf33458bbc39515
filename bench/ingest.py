"""Ingest throughput: N synthetic messages through `helpdesk.ingest.ingest()`.

What it measures: how many inbound messages per second one worker process
stores when every message goes through the single ingest entry point and is
committed on its own, as a real worker does per delivery. The messages are a
fixed, seeded mix of channels (about 45% e-mail, 15% chat, 25% social spread
over Messenger, Instagram, WhatsApp and X, 15% phone) in German and English,
from about N/4 distinct senders; a third of them continue an earlier thread
(e-mail by `references`, the other channels by their `thread_key`). All
messages are built before the clock starts, so only ingest + commit is timed.

It reports, per backend: messages/s (N / wall time of the loop), p50 and p95
latency of one ingest + commit in ms, and the peak RSS of the process. The last
line of stdout is one JSON object with the figures.

Run it from the project root:

    .venv/bin/python bench/ingest.py --messages 20000
    .venv/bin/python bench/ingest.py --backend sqlite --sqlite-synchronous NORMAL
    .venv/bin/python bench/ingest.py --backend postgresql --pg-url postgresql+psycopg://@host/db

SQLite runs on a fresh file in a temporary directory with the app's own
settings (WAL, synchronous=FULL unless told otherwise). PostgreSQL runs on
`--pg-url`; the database is created if missing and its public schema is
dropped and recreated first, so do not point it at data you want to keep.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from channel_adapters.base import SENDER_IDENTITY_KIND, Identity, InboundMessage
from helpdesk import create_app
from helpdesk.database import create_empty_postgres_database
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Message, Ticket

DEFAULT_PG_URL = "postgresql+psycopg://@127.0.0.1:5432/helpdesk_bench"
SEED = 42

#: Share of new conversations per channel; replies follow the threads they continue.
CHANNEL_WEIGHTS: dict[str, float] = {
    "email": 45,
    "chat": 15,
    "messenger": 6.25,
    "instagram": 6.25,
    "whatsapp": 6.25,
    "x": 6.25,
    "phone": 15,
}

FIRST_MESSAGES: dict[str, tuple[str, ...]] = {
    "de": (
        "Hallo, wo bleibt meine Bestellung {order}?",
        "Guten Tag, ich habe die Schuhe aus Bestellung {order} zurückgeschickt. "
        "Wann bekomme ich mein Geld zurück?",
        "Die Jacke aus Bestellung {order} ist leider zu klein, kann ich sie gegen Größe L "
        "umtauschen?",
        "Hallo, in meinem Paket (Bestellung {order}) war ein falscher Artikel.",
        "Ich möchte Bestellung {order} bitte stornieren, ich habe mich vertan.",
        "Ich habe eine Zahlungserinnerung für Bestellung {order} bekommen, "
        "habe aber schon bezahlt.",
    ),
    "en": (
        "Hi, where is my order {order}? It was supposed to arrive on Monday.",
        "Hi, I sent the shoes back two weeks ago (order #{order}) and got a payment reminder",
        "Hello, the package for order {order} arrived damaged, the box was crushed.",
        "Can I still change the delivery address for order {order}?",
        "I'd like to exchange the jeans from order {order} for a bigger size, please.",
        "Do you ship to Switzerland? I want to order the same as in {order} again.",
    ),
}
FOLLOW_UPS: dict[str, tuple[str, ...]] = {
    "de": (
        "Gibt es schon etwas Neues zu Bestellung {order}?",
        "Danke für die schnelle Antwort!",
        "Ich warte immer noch auf eine Rückmeldung zu {order}.",
        "Hier noch die Sendungsnummer vom Rückversand für {order}: 00340434161234567890",
    ),
    "en": (
        "Any update on order {order}?",
        "Thanks, that was quick!",
        "Still waiting to hear back about {order}, please have a look.",
        "Here is the return tracking number for {order}: 1Z999AA10123456784",
    ),
}
SUBJECTS: dict[str, tuple[str, ...]] = {
    "de": ("Bestellung {order}", "Rücksendung {order}", "Frage zu meiner Bestellung {order}"),
    "en": ("Order {order}", "Return for order {order}", "Question about order {order}"),
}
FIRST_NAMES = ("Anna", "Lukas", "Mia", "Jonas", "Emma", "Noah", "Lea", "Paul", "Sophie", "Ben")
LAST_NAMES = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Smith", "Jones", "Brown")


@dataclass(frozen=True, slots=True)
class Sender:
    channel: str
    identity: Identity
    language: str


@dataclass(slots=True)
class Thread:
    """A conversation the generator has started and may continue."""

    sender: Sender
    thread_key: str | None
    subject: str
    order: int
    last_external_id: str


@dataclass(frozen=True, slots=True)
class Workload:
    messages: list[InboundMessage]
    senders: int
    threads: int  # new conversations, i.e. the tickets ingest should create


@dataclass(frozen=True, slots=True)
class Figures:
    backend: str
    messages: int
    tickets: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    peak_rss_mb: float

    @property
    def msgs_per_s(self) -> float:
        return self.messages / self.seconds


# --- the synthetic workload -------------------------------------------------------------


def build_workload(count: int, rng: random.Random) -> Workload:
    """Every message the run will ingest, in order; a third of them continue a thread."""
    is_reply = _reply_flags(count, rng)
    new_channels = rng.choices(
        list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()), k=is_reply.count(False)
    )
    pools = _sender_pools(new_channels, max(1, count // 4), rng)
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)

    messages: list[InboundMessage] = []
    threads: list[Thread] = []
    channels = iter(new_channels)
    for index, reply in enumerate(is_reply):
        sent_at = start + timedelta(seconds=7 * index)
        if reply:
            thread = rng.choice(threads)
            message = _follow_up(index, thread, sent_at, rng)
        else:
            thread = _new_thread(index, next(channels), pools, rng)
            threads.append(thread)
            message = _first_message(index, thread, sent_at, rng)
        thread.last_external_id = message.external_id
        messages.append(message)
    senders = len({t.sender.identity for t in threads})
    return Workload(messages, senders=senders, threads=len(threads))


def _reply_flags(count: int, rng: random.Random) -> list[bool]:
    """Exactly count // 3 replies, shuffled; the first message always opens a thread."""
    flags = [True] * (count // 3) + [False] * (count - count // 3)
    rng.shuffle(flags)
    if flags and flags[0]:
        first_new = flags.index(False)
        flags[0], flags[first_new] = False, True
    return flags


def _sender_pools(
    new_channels: Sequence[str], population: int, rng: random.Random
) -> dict[str, list[Sender]]:
    """Senders per channel, about `population` in all.

    Calls thread by the caller's number, so each new phone conversation needs a
    caller of its own; the rest of the population is shared out in proportion to
    each channel's new conversations.
    """
    wanted = {channel: new_channels.count(channel) for channel in CHANNEL_WEIGHTS}
    callers = wanted.pop("phone")
    others = max(population - callers, len(wanted))
    total = sum(wanted.values()) or 1
    sizes = {c: max(1, round(others * n / total)) for c, n in wanted.items() if n}
    sizes["phone"] = callers
    return {
        channel: [_sender(channel, number, rng) for number in range(size)]
        for channel, size in sizes.items()
    }


def _sender(channel: str, number: int, rng: random.Random) -> Sender:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    value = {
        "email": f"{first}.{last}.{number}@example.com".lower(),
        "chat": f"visitor-{number:07d}",
        "messenger": str(6_000_000_000_000_000 + number),
        "instagram": str(17_841_000_000_000 + number),
        "whatsapp": f"+49151{number:08d}",
        "x": str(1_500_000_000_000_000_000 + number),
        "phone": f"+49160{number:08d}",
    }[channel]
    name = f"{first} {last}"
    language = "de" if rng.random() < 0.6 else "en"
    return Sender(channel, Identity(SENDER_IDENTITY_KIND[channel], value, name), language)


def _new_thread(
    index: int, channel: str, pools: dict[str, list[Sender]], rng: random.Random
) -> Thread:
    if channel == "phone":
        sender = pools["phone"].pop()  # a caller's number is the thread key: one caller, one call
        thread_key = sender.identity.value
    else:
        sender = rng.choice(pools[channel])
        thread_key = None if channel == "email" else f"{channel}-conversation-{index}"
    order = rng.randrange(100_000, 1_000_000)
    subject = rng.choice(SUBJECTS[sender.language]).format(order=order)
    return Thread(sender, thread_key, subject, order, last_external_id="")


def _first_message(
    index: int, thread: Thread, sent_at: datetime, rng: random.Random
) -> InboundMessage:
    text_ = rng.choice(FIRST_MESSAGES[thread.sender.language]).format(order=thread.order)
    return _inbound(index, thread, text_, sent_at, reply=False)


def _follow_up(index: int, thread: Thread, sent_at: datetime, rng: random.Random) -> InboundMessage:
    text_ = rng.choice(FOLLOW_UPS[thread.sender.language]).format(order=thread.order)
    return _inbound(index, thread, text_, sent_at, reply=True)


def _inbound(
    index: int, thread: Thread, body: str, sent_at: datetime, *, reply: bool
) -> InboundMessage:
    sender = thread.sender
    if sender.channel == "email":
        return InboundMessage(
            channel="email",
            external_id=f"<bench.{index}@mail.example.com>",
            sender=sender.identity,
            text=body,
            sent_at=sent_at,
            subject=("Re: " if reply else "") + thread.subject,
            references=(thread.last_external_id,) if reply else (),
        )
    return InboundMessage(
        channel=sender.channel,
        external_id=f"{sender.channel}-message-{index}",
        sender=sender.identity,
        text=body,
        sent_at=sent_at,
        thread_key=thread.thread_key,
        language=sender.language if sender.channel == "chat" else None,
    )


# --- the backends -----------------------------------------------------------------------


def make_app(url: str, sqlite_synchronous: str | None = None) -> Flask:
    config = {"ENV": "testing", "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url}
    if sqlite_synchronous:
        config["SQLITE_SYNCHRONOUS"] = sqlite_synchronous
    app = create_app(config)
    with app.app_context():
        upgrade()  # the real migrations build the schema
    return app


def prepare_postgres(url: str) -> str | None:
    """Create the database if missing and empty its schema; return why not, if we cannot."""
    try:
        create_empty_postgres_database(url)
    except OperationalError as error:
        return str(error.orig or error).strip().splitlines()[0]
    return None


# --- the measurement --------------------------------------------------------------------


def run_backend(app: Flask, label: str, workload: Workload, batch: int = 1) -> Figures:
    """Ingest every message, one at a time, timing each; then check the store."""
    messages = workload.messages
    with app.app_context():
        latencies = _ingest_all(messages, label, batch)
        stored = db.session.scalar(select(func.count()).select_from(Message))
        tickets = db.session.scalar(select(func.count()).select_from(Ticket))
        db.session.remove()
        db.engine.dispose()
    if stored != len(messages):
        raise RuntimeError(f"{label}: {stored} messages stored, expected {len(messages)}")
    if tickets != workload.threads:
        print(
            f"{label}: warning: {tickets} tickets, the workload opened {workload.threads} threads",
            file=sys.stderr,
        )
    return _figures(label, latencies, tickets)


def _ingest_all(
    messages: Sequence[InboundMessage], label: str, batch: int
) -> tuple[list[float], float]:
    """Ingest every message, committing after each `batch` of them (1: every message).

    A message's latency is its ingest() plus, for the last of a batch, the commit.
    """
    latencies: list[float] = []
    report = _progress(label, len(messages))
    clock = time.perf_counter
    loop_start = clock()
    for index, inbound in enumerate(messages, start=1):
        started = clock()
        ingest(inbound)
        if index % batch == 0 or index == len(messages):
            db.session.commit()
        latencies.append(clock() - started)
        report(len(latencies), clock() - loop_start)
    return latencies, clock() - loop_start


def _progress(label: str, total: int) -> Callable[[int, float], None]:
    step = max(1, total // 10)

    def report(done: int, elapsed: float) -> None:
        if done % step == 0 or done == total:
            print(
                f"{label}: {done}/{total}  {done / elapsed:,.0f} msg/s so far, "
                f"RSS {_current_rss_mb():.0f} MB",
                file=sys.stderr,
                flush=True,
            )

    return report


def _figures(label: str, timing: tuple[list[float], float], tickets: int) -> Figures:
    latencies, seconds = timing
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Figures(
        backend=label,
        messages=len(latencies),
        tickets=tickets,
        seconds=seconds,
        p50_ms=cuts[49] * 1000,
        p95_ms=cuts[94] * 1000,
        p99_ms=cuts[98] * 1000,
        max_ms=max(latencies) * 1000,
        peak_rss_mb=_peak_rss_mb(),
    )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _current_rss_mb() -> float:
    return psutil.Process().memory_info().rss / (1024 * 1024)


# --- output -----------------------------------------------------------------------------


def print_summary(figures: Figures, workload: Workload) -> None:
    print(f"\n== {figures.backend} ==")
    print(f"  messages        {figures.messages:>10,}  ({workload.senders:,} senders)")
    print(f"  tickets created {figures.tickets:>10,}  (workload opened {workload.threads:,})")
    print(f"  wall time       {figures.seconds:>10.2f} s")
    print(f"  throughput      {figures.msgs_per_s:>10,.0f} messages/s")
    print(
        f"  latency         p50 {figures.p50_ms:.2f} ms, p95 {figures.p95_ms:.2f} ms, "
        f"p99 {figures.p99_ms:.2f} ms, max {figures.max_ms:.1f} ms"
    )
    print(f"  peak RSS        {figures.peak_rss_mb:>10.0f} MB (process so far)")


def result_json(
    count: int, results: dict[str, Figures | None], synchronous: str, batch: int
) -> str:
    line: dict[str, object] = {"bench": "ingest", "messages": count, "batch": batch}
    for backend, figures in results.items():
        line[f"{backend}_msgs_per_s"] = round(figures.msgs_per_s, 1) if figures else None
        line[f"{backend}_p50_ms"] = round(figures.p50_ms, 3) if figures else None
        line[f"{backend}_p95_ms"] = round(figures.p95_ms, 3) if figures else None
    if "sqlite" in results:
        line["sqlite_synchronous"] = synchronous
    line["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    return json.dumps(line)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000, help="how many (default 20000)")
    parser.add_argument(
        "--backend", choices=("sqlite", "postgresql", "both"), default="both", help="default both"
    )
    parser.add_argument(
        "--sqlite-synchronous",
        choices=("OFF", "NORMAL", "FULL", "EXTRA"),
        type=str.upper,
        default=None,
        help="PRAGMA synchronous for SQLite (default: the app's setting, FULL)",
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"default {DEFAULT_PG_URL}")
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        help="commit after this many messages, as one IMAP poll or one webhook batch does "
        "(default 1: every message in its own transaction)",
    )
    args = parser.parse_args(argv)
    if args.messages < 3:
        parser.error("--messages must be at least 3")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workload = build_workload(args.messages, random.Random(SEED))
    print(
        f"ingest bench: {len(workload.messages):,} messages from {workload.senders:,} senders "
        f"in {workload.threads:,} threads",
        file=sys.stderr,
    )
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results: dict[str, Figures | None] = {}
    for backend in backends:
        results[backend] = _run(backend, args, workload)
        if results[backend]:
            print_summary(results[backend], workload)
    print(result_json(args.messages, results, args.sqlite_synchronous or "FULL", args.batch))
    return 0


def _run(backend: str, args: argparse.Namespace, workload: Workload) -> Figures | None:
    if backend == "sqlite":
        synchronous = args.sqlite_synchronous or "FULL"
        with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as directory:
            url = f"sqlite:///{Path(directory) / 'bench.sqlite'}"
            app = make_app(url, args.sqlite_synchronous)
            return run_backend(app, f"sqlite (synchronous={synchronous})", workload, args.batch)
    problem = prepare_postgres(args.pg_url)
    if problem:
        where = make_url(args.pg_url).render_as_string(hide_password=True)
        print(f"postgresql: skipped, {where} is unreachable ({problem})")
        return None
    return run_backend(make_app(args.pg_url), "postgresql", workload, args.batch)


if __name__ == "__main__":
    sys.exit(main())
