"""Mixed load against gunicorn with PostgreSQL on loopback: agents and webhook intake.

What it builds: an empty PostgreSQL database (`--pg-url`, default helpdesk_bench_load;
its schema is dropped and recreated) with the migrations, `--agents` agent users and
`--tickets` e-mail tickets ingested the normal way. Then it starts gunicorn
(`--workers`, `--threads`) on 127.0.0.1 and runs `--clients` threads for `--seconds`,
each signed in as an agent (real session cookie and CSRF token) and picking, by weight:

    inbox    GET /inbox                                   (an agent's list, with counts)
    ticket   GET /tickets/<n>                             (the ticket page of a random ticket)
    reply    POST /tickets/<n>/compose                    (a reply through the composer)
    webhook  POST /webhooks/meta                          (a signed Messenger DM: ingest)
    chat     POST /chat/api/messages                      (a visitor writes in the widget's
                                                           conversation: ingest and the bot)

Each client also holds one widget conversation (started before the clock, as a visitor
without the agent's cookie). It reports requests per second, p50/p95/max per kind and
overall, errors (any answer but the expected one, or no answer), and the CPU time the
server used per request (gunicorn and its PostgreSQL backends, during the measured
seconds): what bounds the rate on two cores when the clients need little. Target:
>= 200 requests/s mixed with no errors on this machine. The client threads share the
machine's two cores with the server, so the figure is a floor. The last line of stdout
is one JSON object.

    .venv/bin/python bench/load.py --seconds 20            # a short run
    .venv/bin/python bench/load.py --seconds 60 --clients 24

The clients are connections on one asyncio event loop (bench/aioclient.py): they share
the two cores with the server, and sixteen `http.client` threads taking turns on the GIL
(this bench until 2026-12-05 17:30) took about a third of the machine; the client's own
CPU per request is reported beside the server's. Locust would bring gevent and more cost.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import http.client
import itertools
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy.engine import make_url

import common
from aioclient import Connection, ProtocolError, Stats
from channel_adapters.base import Identity, InboundMessage
from helpdesk.cli import GUNICORN_WORKER_OPTIONS
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import User
from helpdesk.models.types import utcnow

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "load-test-password-1"
META_SECRET = "bench-meta-secret"
#: Three quarters agents, a quarter intake (until 2026-12-05 14:00 the intake quarter was
#: all webhooks; chat was added then).
MIX = {"inbox": 30, "ticket": 35, "reply": 10, "webhook": 15, "chat": 10}
CHAT_TEXTS = (
    "Was kostet der Versand nach Österreich?",
    "Wann kommt meine Bestellung an?",
    "Kann ich die Jacke noch umtauschen?",
    "Danke!",
)
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_SESSION = re.compile(r"session=[^;,]*")


def seed(url: str, agents: int, tickets: int) -> None:
    app = common.make_app(url)
    with app.app_context():
        for number in range(agents):
            user = User(email=f"agent{number}@bench.example", name=f"Agent {number}", role="agent")
            user.set_password(PASSWORD)
            db.session.add(user)
        db.session.commit()
        rng = random.Random(7)
        for number in range(tickets):
            ingest(
                InboundMessage(
                    channel="email",
                    sender=Identity("email", f"kunde{rng.randrange(tickets // 2 + 1)}@example.de"),
                    text=f"Wo bleibt meine Bestellung {100000 + number}? Danke",
                    subject=f"Bestellung {100000 + number}",
                    external_id=f"<seed-{number}@example.de>",
                    sent_at=utcnow(),
                )
            )
            if number % 100 == 99:
                db.session.commit()
        db.session.commit()
    common.dispose(app)


@dataclass
class Agent:
    """One client's connection, its agent's session cookie and CSRF token, and the widget
    conversation it writes in as a visitor."""

    conn: Connection
    cookie: str = ""
    csrf: str = ""
    chat_token: str = ""
    #: The last message id of the widget's conversation this client has seen: sent as
    #: `after` like the widget does, so an answer carries only what is new.
    chat_seen: int = 0

    async def request(self, method: str, path: str, *, form=None, raw: bytes = b"",
                      headers=None, visitor: bool = False) -> tuple[int, str]:  # fmt: skip
        """`visitor`: without the agent's cookie, as the shop's visitor sends it."""
        headers = dict(headers or {})
        if form is not None:
            raw = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookie and not visitor:
            headers["Cookie"] = self.cookie
        status, answer_headers, body = await self.conn.request(method, path, headers, raw)
        if not visitor and (found := _SESSION.search(answer_headers.get("set-cookie", ""))):
            self.cookie = found.group(0)
        return status, body.decode("utf-8", "replace")


async def sign_in(conn: Connection, email: str) -> Agent:
    agent = Agent(conn)
    page = (await agent.request("GET", "/login"))[1]
    form = {"email": email, "password": PASSWORD, "csrf_token": _CSRF.search(page).group(1)}
    status, _body = await agent.request("POST", "/login", form=form)
    if status != 302:
        raise RuntimeError(f"sign-in as {email} answered {status}")
    agent.csrf = _CSRF.search((await agent.request("GET", "/search"))[1]).group(1)
    started = json.dumps({"language": "de", "page": "/demo/shop"}).encode()
    status, body = await agent.request("POST", "/chat/api/start", raw=started, visitor=True,
                                       headers={"Content-Type": "application/json"})  # fmt: skip
    if status != 201:
        raise RuntimeError(f"starting a chat answered {status}: {body[:200]}")
    agent.chat_token = json.loads(body)["token"]
    return agent


def run_load(port: int, args, numbers: list[int], server_cpu: common.ServerCpu) -> dict:
    return asyncio.run(_run_load(port, args, numbers, server_cpu))


async def _run_load(port: int, args, numbers: list[int], server_cpu: common.ServerCpu) -> dict:
    """Sign every client in, warm up for `--warm-up` seconds, then measure `--seconds`."""
    stats = Stats()
    mids = itertools.count()
    kinds, weights = zip(*MIX.items(), strict=True)
    agents = await asyncio.gather(*(
        sign_in(Connection("127.0.0.1", port), f"agent{i % args.agents}@bench.example")
        for i in range(args.clients)
    ))  # fmt: skip
    clock = time.perf_counter
    start = clock() + args.warm_up
    end = start + args.seconds

    async def client(index: int) -> None:
        rng, agent = random.Random(index), agents[index]
        while clock() < end:
            kind = rng.choices(kinds, weights)[0]
            number = rng.choice(numbers)
            started = clock()
            try:
                status, expected = await _one(agent, kind, number, next(mids))
                problem = None if status == expected else f"HTTP {status}"
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ProtocolError) as error:
                problem = f"{type(error).__name__}: {error}"
            if started >= start:  # the warm-up is not counted
                stats.record(kind, (clock() - started) * 1000, problem)

    async def measure() -> dict:
        await asyncio.sleep(max(0.0, start - clock()))
        server_cpu.start()
        mine = time.process_time()
        await asyncio.sleep(max(0.0, end - clock()))
        total, database = server_cpu.stop()
        return {"server_cpu": total, "database_cpu": database,
                "client_cpu": time.process_time() - mine, "workers": server_cpu.workers,
                "machine_busy": server_cpu.machine_busy,
                "machine_idle": server_cpu.machine_idle}  # fmt: skip

    cpu, *_ = await asyncio.gather(measure(), *(client(i) for i in range(args.clients)))
    for agent in agents:
        await agent.conn.close()
    return {"results": stats.latencies, "errors": stats.errors, "seconds": args.seconds, **cpu}


async def _one(agent: Agent, kind: str, number: int, mid: int) -> tuple[int, int]:
    if kind == "inbox":
        return (await agent.request("GET", "/inbox"))[0], 200
    if kind == "ticket":
        return (await agent.request("GET", f"/tickets/{number}"))[0], 200
    if kind == "reply":
        form = {
            "csrf_token": agent.csrf,
            "kind": "reply",
            "channel": "email",
            "text": "Danke, wir kümmern uns darum.",
            "seen": "999999999",  # no collision warning: the bench writes on shared tickets
            "action": "send",
        }
        return (await agent.request("POST", f"/tickets/{number}/compose", form=form))[0], 302
    if kind == "chat":
        said = {"id": f"load-{os.getpid()}-{mid}", "text": CHAT_TEXTS[mid % len(CHAT_TEXTS)],
                "after": agent.chat_seen}  # fmt: skip
        headers = {"Content-Type": "application/json", "X-Chat-Token": agent.chat_token}
        raw = json.dumps(said).encode()
        status, body = await agent.request("POST", "/chat/api/messages", raw=raw,
                                           headers=headers, visitor=True)  # fmt: skip
        if status == 200:
            seen = [line["id"] for line in json.loads(body)["messages"]]
            agent.chat_seen = max([agent.chat_seen, *seen])
        return status, 200
    raw = json.dumps(_meta_body(mid)).encode()
    signature = hmac.new(META_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}
    return (await agent.request("POST", "/webhooks/meta", raw=raw, headers=headers))[0], 200


def _meta_body(mid: int) -> dict:
    event = {
        "sender": {"id": f"psid-{mid % 500}"},
        "recipient": {"id": "page-1"},
        "timestamp": 1764930000000 + mid,
        "message": {"mid": f"m_load_{os.getpid()}_{mid}", "text": "Ist mein Paket unterwegs?"},
    }
    return {"object": "page", "entry": [{"id": "page-1", "time": 1764930000000,
                                         "messaging": [event]}]}  # fmt: skip


def _p(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--pg-url", default="postgresql+psycopg://@127.0.0.1:5432/helpdesk_bench_load"
    )
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warm-up", type=float, default=5)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--tickets", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--shared-socket", action="store_true",
        help="all workers on one listening socket (gunicorn's default) instead of one each "
        "(--reuse-port, as `helpdesk run` starts them)",
    )  # fmt: skip
    parser.add_argument(
        "--mix", default="", metavar="KIND=WEIGHT,...",
        help="other weights, e.g. ticket=1 for the ticket page alone (the server's CPU per "
        "request of one kind); default " + ",".join(f"{k}={w}" for k, w in MIX.items()),
    )  # fmt: skip
    args = parser.parse_args()
    if args.mix:
        weights = dict(part.split("=") for part in args.mix.split(","))
        if unknown := set(weights) - set(MIX):
            parser.error(f"--mix: unknown kinds {sorted(unknown)}; known: {', '.join(MIX)}")
        MIX.clear()
        MIX.update({kind: int(weight) for kind, weight in weights.items()})

    problem = common.prepare_postgres(args.pg_url)
    if problem:
        sys.exit(f"PostgreSQL at {make_url(args.pg_url).render_as_string(True)}: {problem}")
    print(f"seeding {args.agents} agents and {args.tickets} tickets ...", flush=True)
    seed(args.pg_url, args.agents, args.tickets)
    port = args.port or _free_port()
    env = {**os.environ, "DATABASE_URL": args.pg_url, "HELPDESK_SECRET_KEY": "bench-load",
           "HELPDESK_CLASSIFIER": "none", "HELPDESK_META_APP_SECRET": META_SECRET,
           # every visitor comes from 127.0.0.1 here; the limits are per address and chat
           "HELPDESK_CHAT_STARTS_PER_IP_PER_HOUR": "100000",
           "HELPDESK_CHAT_MESSAGES_PER_MINUTE": "100000"}  # fmt: skip
    options = ("--worker-class", "gthread") if args.shared_socket else GUNICORN_WORKER_OPTIONS
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--threads",
         str(args.threads), *options, "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_ready(port)
        print(f"gunicorn {args.workers}x{args.threads} on 127.0.0.1:{port}; {args.clients} "
              f"clients for {args.seconds:g} s ...", flush=True)  # fmt: skip
        app = common.make_app(args.pg_url)
        found = run_load(port, args, list(range(1, args.tickets + 1)),
                         common.ServerCpu(app, server))  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(found, args)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/login")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on port {port} within {seconds:g} s")


def report(found: dict, args) -> None:
    results, errors, seconds = found["results"], found["errors"], found["seconds"]
    every = [v for values in results.values() for v in values]
    total_errors = sum(len(e) for e in errors.values())
    print(f"\n{'kind':<9}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
          f"{'errors':>8}")  # fmt: skip
    figures = {}
    for kind in [*MIX, "all"]:
        values = every if kind == "all" else results.get(kind, [])
        wrong = total_errors if kind == "all" else len(errors.get(kind, []))
        row = {"requests": len(values), "per_second": round(len(values) / seconds, 1),
               "p50_ms": round(_p(values, 50), 1), "p95_ms": round(_p(values, 95), 1),
               "max_ms": round(max(values, default=0), 1), "errors": wrong}  # fmt: skip
        figures[kind] = row
        print(f"{kind:<9}{row['requests']:>10}{row['per_second']:>9}{row['p50_ms']:>9}"
              f"{row['p95_ms']:>9}{row['max_ms']:>9}{row['errors']:>8}")  # fmt: skip
    for kind, problems in errors.items():
        print(f"errors in {kind}: {sorted(set(problems))[:5]}")
    target = figures["all"]["per_second"] >= 200 and total_errors == 0
    cpu_ms = found["server_cpu"] / max(len(every), 1) * 1000
    cores = os.cpu_count() or 1
    client_ms = found["client_cpu"] / max(len(every), 1) * 1000
    print(f"client CPU per request (this process): {client_ms:.2f} ms")
    database_ms = found["database_cpu"] / max(len(every), 1) * 1000
    print(f"server CPU per request (gunicorn + its PostgreSQL backends): {cpu_ms:.1f} ms "
          f"(PostgreSQL {database_ms:.1f} ms); "
          f"with the {cores} cores to itself at most {cores * 1000 / cpu_ms:.0f} requests/s; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    busy, idle = found["machine_busy"], found["machine_idle"]
    busy_pct = 100 * busy / ((busy + idle) or 1)
    shares = [round(100 * used / (sum(found["workers"]) or 1)) for used in found["workers"]]
    print(f"the machine meanwhile: cores {busy_pct:.0f}% busy; gunicorn workers' shares of "
          f"their CPU: {' / '.join(f'{share}%' for share in shares)}")  # fmt: skip
    print(f"target >= 200 req/s with no errors: {'met' if target else 'NOT met'}")
    print(json.dumps({"bench": "load", "seconds": round(seconds, 1), "clients": args.clients,
                      "workers": args.workers, "threads": args.threads, "figures": figures,
                      "server_cpu_ms_per_req": round(cpu_ms, 2),
                      "database_cpu_ms_per_req": round(database_ms, 2),
                      "client_cpu_ms_per_req": round(client_ms, 2),
                      "cpu_bound_req_per_s": round(cores * 1000 / cpu_ms),
                      "load_average": round(os.getloadavg()[0], 1),
                      "machine_busy_pct": round(busy_pct, 1),
                      "worker_cpu_shares_pct": shares,
                      "reuse_port": not args.shared_socket,
                      "target_met": target}))  # fmt: skip


if __name__ == "__main__":
    main()
