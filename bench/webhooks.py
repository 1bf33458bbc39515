"""Signed social webhook intake against gunicorn on loopback, with PostgreSQL.

What it measures: how many webhook deliveries per second the real stack answers 200
when the platforms send them concurrently: HTTP through gunicorn (gthread workers, as
`helpdesk run` starts them), the X-Hub-Signature-256 check over the raw body, JSON
parsing into messages, `ingest()` (customer, ticket, message, raw JSON, events), the
delivery record and a commit per request, before the answer.

The deliveries are built before the clock starts, fixed by seed 42: Messenger (50%),
Instagram (25%) and WhatsApp (25%) text messages in German and English from about N/4
customers (so most join an existing conversation's ticket), one message per body, each
with its own message id, signed with the app secret. A warm-up of 100 deliveries is not
counted. Afterwards it checks that every delivery was answered 200 and stored once.

Run it from the project root (PostgreSQL on 127.0.0.1 by default; the database named
by --pg-url is created if missing and emptied, so do not point it at data you keep):

    .venv/bin/python bench/webhooks.py                       # 3,000 deliveries
    .venv/bin/python bench/webhooks.py --requests 500        # smoke test
    .venv/bin/python bench/webhooks.py --workers 4 --concurrency 32

It prints requests/s, p50/p95/p99 latency in ms and errors; the last line of stdout is
one JSON object with the figures. Target: at least 300 requests/s with no errors.

Beside them it prints what explains a rate: the CPU gunicorn and its PostgreSQL backends
used per request, how busy the whole machine was meanwhile (and what anything else took),
and each gunicorn worker's share of the workers' CPU. A worker's threads share one GIL,
so a worker that holds most of the connections caps the run at one core's worth of
Python while the other core idles: what one shared listening socket did before each
worker got its own (`--reuse-port`, helpdesk.cli.GUNICORN_WORKER_OPTIONS).

The client is bench/aioclient.py: one asyncio event loop with --concurrency keep-alive
connections, the signed requests prepared before the clock starts. It shares the two
cores with gunicorn and PostgreSQL, so its own cost counts (printed as client CPU per
request): the sixteen `http.client` threads it replaced took turns on the GIL, used
more CPU per request (0.30 ms against 0.17-0.24 ms) and were sixteen more runnable
threads beside gunicorn's. wrk is the usual choice but cannot sign the bodies (the
signature is an HMAC over each body with the app secret, what the server checks first).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil
from flask_migrate import upgrade
from sqlalchemy import func, select

from aioclient import Request
from aioclient import send_all as aio_send_all
from channel_adapters.social.common import hub_signature
from common import ServerCpu, prepare_postgres
from helpdesk import create_app
from helpdesk.cli import GUNICORN_WORKER_OPTIONS
from helpdesk.extensions import db
from helpdesk.models import InboundDelivery, Message

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://@127.0.0.1:5432/helpdesk_bench_webhooks"
SECRET = "bench-app-secret"
WARM_UP = 100
TEXTS = (
    "Hallo, wo bleibt meine Bestellung {n}? Ich warte seit einer Woche.",
    "Ich habe die Schuhe zurückgeschickt, wann kommt die Erstattung für {n}?",
    "Kann ich die Jacke aus Bestellung {n} in Größe M umtauschen?",
    "Hi, my order {n} says delivered but nothing arrived.",
    "Do you ship to Austria? And how much is shipping for order {n}?",
    "I got a payment reminder although I returned order {n} two weeks ago.",
)


def build_deliveries(count: int, seed: int = 42) -> list[tuple[str, bytes]]:
    """(path, body) pairs: one customer message each, as the platforms send them."""
    rng = random.Random(seed)
    customers = max(1, count // 4)
    now_ms = int(time.time() * 1000)
    deliveries = []
    for index in range(count):
        who = rng.randrange(customers)
        text = rng.choice(TEXTS).format(n=100000 + rng.randrange(9000))
        at = now_ms - (count - index) * 50
        kind = rng.random()
        if kind < 0.5:
            deliveries.append(("/webhooks/meta", _meta("page", f"71{who:014d}", index, text, at)))
        elif kind < 0.75:
            deliveries.append(
                ("/webhooks/meta", _meta("instagram", f"67{who:014d}", index, text, at))
            )
        else:
            deliveries.append(("/webhooks/whatsapp", _whatsapp(f"49151{who:08d}", index, text, at)))
    return deliveries


def _meta(kind: str, sender: str, index: int, text: str, at: int) -> bytes:
    account = "104365328934221" if kind == "page" else "17841400455566778"
    event = {"sender": {"id": sender}, "recipient": {"id": account}, "timestamp": at,
             "message": {"mid": f"m_bench_{kind}_{index}", "text": text}}  # fmt: skip
    body = {"object": kind, "entry": [{"id": account, "time": at, "messaging": [event]}]}
    return json.dumps(body).encode()


def _whatsapp(number: str, index: int, text: str, at: int) -> bytes:
    message = {"from": number, "id": f"wamid.bench{index}", "timestamp": str(at // 1000),
               "type": "text", "text": {"body": text}}  # fmt: skip
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "493012345678", "phone_number_id": "1100"},
             "contacts": [{"profile": {"name": f"Kunde {number[-4:]}"}, "wa_id": number}],
             "messages": [message]}  # fmt: skip
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(pg_url: str, port: int, workers: int, threads: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": pg_url,
        "HELPDESK_SECRET_KEY": "bench",
        "HELPDESK_META_APP_SECRET": SECRET,
        "HELPDESK_CLASSIFIER": "none",  # intake alone; bench/classifier.py measures the model
        "HELPDESK_LOG_FORMAT": "text",
    }
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
               *GUNICORN_WORKER_OPTIONS, "--workers", str(workers), "--threads", str(threads),
               "--log-level", "warning", "wsgi:app"]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("gunicorn did not start within 30 s")


def signed(deliveries: list[tuple[str, bytes]]) -> list[Request]:
    """The requests as Meta sends them: the body signed with the app secret."""
    return [
        Request("POST", path, {"Content-Type": "application/json",
                               "X-Hub-Signature-256": hub_signature(SECRET, body)}, body)
        for path, body in deliveries
    ]  # fmt: skip


def send_all(port: int, requests: list[Request], concurrency: int):
    """POST every request over `concurrency` keep-alive connections; latencies and errors."""
    stats = asyncio.run(aio_send_all("127.0.0.1", port, requests, connections=concurrency))
    return stats.seconds, stats.all_latencies, stats.all_errors


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (3)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (8)")
    parser.add_argument("--concurrency", type=int, default=16, help="client connections (16)")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help=f"default {DEFAULT_PG}")
    args = parser.parse_args()

    problem = prepare_postgres(args.pg_url)
    if problem:
        raise SystemExit(f"PostgreSQL cannot be used: {problem}")
    app = create_app({"ENV": "testing", "SECRET_KEY": "bench",
                      "SQLALCHEMY_DATABASE_URI": args.pg_url, "CLASSIFIER": "none"})  # fmt: skip
    with app.app_context():
        upgrade()
    deliveries = signed(build_deliveries(WARM_UP + args.requests))
    port = free_port()
    server = start_gunicorn(args.pg_url, port, args.workers, args.threads)
    try:
        _, _, warm_errors = send_all(port, deliveries[:WARM_UP], args.concurrency)
        measured = ServerCpu(app, server)
        measured.start()
        client_before = time.process_time()
        seconds, latencies, errors = send_all(port, deliveries[WARM_UP:], args.concurrency)
        server_cpu, database_cpu = measured.stop()
        client_cpu = time.process_time() - client_before
    finally:
        server.terminate()
        server.wait(timeout=30)
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(Message))
        recorded = db.session.scalar(select(func.count()).select_from(InboundDelivery))
        db.engine.dispose()

    total = WARM_UP + args.requests
    rate = args.requests / seconds
    ms = [value * 1000 for value in latencies]
    print(f"{args.requests} signed deliveries over {args.concurrency} connections to gunicorn "
          f"({args.workers} workers x {args.threads} threads), PostgreSQL:")  # fmt: skip
    print(f"  {rate:.0f} requests/s; p50 {statistics.median(ms):.1f} ms, "
          f"p95 {percentile(ms, 0.95):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms")  # fmt: skip
    print(f"  errors: {len(errors) + len(warm_errors)}; messages stored {stored} of {total}, "
          f"deliveries recorded {recorded}")  # fmt: skip
    for error in (warm_errors + errors)[:5]:
        print("  error:", error)
    ok = not errors and not warm_errors and stored == total and recorded == total
    cpu_ms = server_cpu / args.requests * 1000
    cores = psutil.cpu_count() or 1
    database_ms = database_cpu / args.requests * 1000
    print(f"  server CPU per request (gunicorn + its PostgreSQL backends): {cpu_ms:.1f} ms "
          f"(PostgreSQL {database_ms:.1f} ms); "
          f"load average {os.getloadavg()[0]:.1f} on {cores} cores")  # fmt: skip
    print(f"  client CPU per request (this process): "
          f"{client_cpu / args.requests * 1000:.2f} ms")  # fmt: skip
    print(f"  with the {cores} cores to itself the server could answer at most "
          f"{cores * 1000 / cpu_ms:.0f} requests/s")  # fmt: skip
    busy, idle = measured.machine_busy, measured.machine_idle
    others_ms = (busy - server_cpu - client_cpu) / args.requests * 1000
    print(f"  the machine meanwhile: cores {100 * busy / (busy + idle):.0f}% busy, "
          f"{100 * idle / (busy + idle):.0f}% idle or waiting for I/O; CPU used by anything "
          f"but the server and the client: {others_ms:.1f} ms per request")  # fmt: skip
    shares = [round(100 * used / (sum(measured.workers) or 1)) for used in measured.workers]
    print(f"  gunicorn workers' shares of their CPU: {' / '.join(f'{s}%' for s in shares)}")
    print("  target >= 300 requests/s with no errors:", "met" if ok and rate >= 300 else "NOT met")
    print(json.dumps({
        "bench": "webhooks", "requests": args.requests, "workers": args.workers,
        "threads": args.threads, "concurrency": args.concurrency,
        "postgresql_req_per_s": round(rate, 1), "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(percentile(ms, 0.95), 2), "p99_ms": round(percentile(ms, 0.99), 2),
        "errors": len(errors) + len(warm_errors), "stored": stored, "expected": total,
        "server_cpu_ms_per_req": round(cpu_ms, 2),
        "database_cpu_ms_per_req": round(database_ms, 2),
        "cpu_bound_req_per_s": round(cores * 1000 / cpu_ms),
        "load_average": round(os.getloadavg()[0], 1),
        "client_cpu_ms_per_req": round(client_cpu / args.requests * 1000, 2),
        "machine_busy_pct": round(100 * busy / (busy + idle), 1),
        "other_cpu_ms_per_req": round(others_ms, 2),
        "worker_cpu_shares_pct": shares,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
