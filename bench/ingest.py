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
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask

from channel_adapters.base import SENDER_IDENTITY_KIND, Identity, InboundMessage
from common import (
    Figures,
    add_database_options,
    backend_label,
    figures,
    fresh_app,
    print_summary,
    progress,
    reply_flags,
    result_json,
    stored_and_tickets,
)
from helpdesk.extensions import db
from helpdesk.ingest import ingest

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


# --- the synthetic workload -------------------------------------------------------------


def build_workload(count: int, rng: random.Random) -> Workload:
    """Every message the run will ingest, in order; a third of them continue a thread."""
    is_reply = reply_flags(count, rng)
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


# --- the measurement --------------------------------------------------------------------


def run_backend(app: Flask, label: str, workload: Workload, batch: int = 1) -> Figures:
    """Ingest every message, one at a time, timing each; then check the store."""
    messages = workload.messages
    with app.app_context():
        latencies, seconds = _ingest_all(messages, label, batch)
        stored, tickets = stored_and_tickets()
    if stored != len(messages):
        raise RuntimeError(f"{label}: {stored} messages stored, expected {len(messages)}")
    if tickets != workload.threads:
        print(
            f"{label}: warning: {tickets} tickets, the workload opened {workload.threads} threads",
            file=sys.stderr,
        )
    return figures(label, latencies, seconds, tickets)


def _ingest_all(
    messages: Sequence[InboundMessage], label: str, batch: int
) -> tuple[list[float], float]:
    """Ingest every message, committing after each `batch` of them (1: every message).

    A message's latency is its ingest() plus, for the last of a batch, the commit.
    """
    latencies: list[float] = []
    report = progress(label, len(messages))
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


# --- the command line -------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000, help="how many (default 20000)")
    parser.add_argument(
        "--backend", choices=("sqlite", "postgresql", "both"), default="both", help="default both"
    )
    add_database_options(parser, DEFAULT_PG_URL)
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
        label = backend_label(backend, args.sqlite_synchronous)
        with fresh_app(backend, args.sqlite_synchronous, args.pg_url) as app:
            results[backend] = run_backend(app, label, workload, args.batch) if app else None
        if results[backend]:
            print_summary(results[backend], workload.senders, workload.threads)
    head = {"bench": "ingest", "messages": args.messages, "batch": args.batch}
    print(result_json(head, results, args.sqlite_synchronous or "FULL"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
