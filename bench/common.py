"""What the benchmarks in bench/ share: databases, the workload's thread shape, figures, output.

The scripts import it as `common`: run as `.venv/bin/python bench/<script>.py`, Python puts
bench/ first on sys.path, so this module is found beside them without further setup.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from helpdesk import create_app
from helpdesk.database import create_empty_postgres_database
from helpdesk.extensions import db
from helpdesk.models import Message, Ticket

# --- the databases ----------------------------------------------------------------------


def add_database_options(parser: argparse.ArgumentParser, default_pg_url: str) -> None:
    """The --sqlite-synchronous and --pg-url options, in that order."""
    parser.add_argument(
        "--sqlite-synchronous",
        choices=("OFF", "NORMAL", "FULL", "EXTRA"),
        type=str.upper,
        default=None,
        help="PRAGMA synchronous for SQLite (default: the app's setting, FULL)",
    )
    parser.add_argument("--pg-url", default=default_pg_url, help=f"default {default_pg_url}")


def backend_label(backend: str, sqlite_synchronous: str | None) -> str:
    """How the figures name a backend: "sqlite (synchronous=FULL)" or "postgresql"."""
    if backend == "sqlite":
        return f"sqlite (synchronous={sqlite_synchronous or 'FULL'})"
    return backend


def make_app(url: str, sqlite_synchronous: str | None = None) -> Flask:
    """The app on the database at `url`, its schema built by the real migrations.

    Without a classifier: these benchmarks measure intake; bench/classifier.py measures
    the model on its own.
    """
    config = {
        "ENV": "testing",
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": url,
        "CLASSIFIER": "none",
    }
    if sqlite_synchronous:
        config["SQLITE_SYNCHRONOUS"] = sqlite_synchronous
    app = create_app(config)
    with app.app_context():
        upgrade()
    return app


def prepare_postgres(url: str) -> str | None:
    """Create the database if missing and empty its schema; return why not, if we cannot."""
    try:
        create_empty_postgres_database(url)
    except OperationalError as error:
        return str(error.orig or error).strip().splitlines()[0]
    return None


@contextmanager
def fresh_app(backend: str, sqlite_synchronous: str | None, pg_url: str) -> Iterator[Flask | None]:
    """An app on an empty database of `backend`, or None when PostgreSQL is unreachable.

    SQLite gets a new file in a temporary directory; PostgreSQL's schema at `pg_url` is
    dropped and recreated. The app's connections are closed on the way out.
    """
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as directory:
            app = make_app(f"sqlite:///{Path(directory) / 'bench.sqlite'}", sqlite_synchronous)
            try:
                yield app
            finally:
                dispose(app)
        return
    problem = prepare_postgres(pg_url)
    if problem:
        where = make_url(pg_url).render_as_string(hide_password=True)
        print(f"postgresql: skipped, {where} is unreachable ({problem})")
        yield None
        return
    app = make_app(pg_url)
    try:
        yield app
    finally:
        dispose(app)


def dispose(app: Flask) -> None:
    """Close the app's session and every pooled connection."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def stored_and_tickets() -> tuple[int, int]:
    """How many messages and tickets the database holds (inside an app context)."""
    stored = db.session.scalar(select(func.count()).select_from(Message))
    tickets = db.session.scalar(select(func.count()).select_from(Ticket))
    return stored, tickets


# --- the workload -----------------------------------------------------------------------


def reply_flags(count: int, rng: random.Random) -> list[bool]:
    """Exactly count // 3 replies, shuffled; the first message always opens a thread."""
    flags = [True] * (count // 3) + [False] * (count - count // 3)
    rng.shuffle(flags)
    if flags and flags[0]:
        first_new = flags.index(False)
        flags[0], flags[first_new] = False, True
    return flags


# --- the figures ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    """One run's figures: `label` names the backend (and phase) it ran on."""

    label: str
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


def figures(label: str, latencies: list[float], seconds: float, tickets: int) -> Figures:
    """The figures of a run from its per-message latencies (s) and wall time (s)."""
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Figures(
        label=label,
        messages=len(latencies),
        tickets=tickets,
        seconds=seconds,
        p50_ms=cuts[49] * 1000,
        p95_ms=cuts[94] * 1000,
        p99_ms=cuts[98] * 1000,
        max_ms=max(latencies) * 1000,
        peak_rss_mb=peak_rss_mb(),
    )


def peak_rss_mb() -> float:
    """The peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def current_rss_mb() -> float:
    """The resident set size of this process now, in MB."""
    return psutil.Process().memory_info().rss / (1024 * 1024)


def progress(label: str, total: int) -> Callable[[int, float], None]:
    """A reporter `report(done, elapsed)` that writes a line to stderr every tenth of `total`."""
    step = max(1, total // 10)

    def report(done: int, elapsed: float) -> None:
        if done % step == 0 or done == total:
            print(
                f"{label}: {done}/{total}  {done / elapsed:,.0f} msg/s so far, "
                f"RSS {current_rss_mb():.0f} MB",
                file=sys.stderr,
                flush=True,
            )

    return report


# --- output -----------------------------------------------------------------------------


def print_summary(
    figures: Figures,
    senders: int,
    threads: int,
    *,
    latency_name: str = "latency",
    target: float | None = None,
) -> None:
    """The human-readable block of one run; `target` (messages/s) adds whether it was met."""
    print(f"\n== {figures.label} ==")
    print(f"  messages        {figures.messages:>10,}  ({senders:,} senders)")
    print(f"  tickets created {figures.tickets:>10,}  (workload opened {threads:,})")
    print(f"  wall time       {figures.seconds:>10.2f} s")
    print(f"  throughput      {figures.msgs_per_s:>10,.0f} messages/s", end="")
    if target:
        met = "met" if figures.msgs_per_s >= target else "NOT met"
        print(f"  (target {target:,.0f}: {met})")
    else:
        print()
    print(
        f"  {latency_name:<16}p50 {figures.p50_ms:.2f} ms, p95 {figures.p95_ms:.2f} ms, "
        f"p99 {figures.p99_ms:.2f} ms, max {figures.max_ms:.1f} ms"
    )
    print(f"  peak RSS        {figures.peak_rss_mb:>10.0f} MB (process so far)")


def result_json(
    head: Mapping[str, object], results: Mapping[str, Figures | None], sqlite_synchronous: str
) -> str:
    """The last line of stdout: `head`, then per result key its rate, p50 and p95, then RSS.

    A result of None (a skipped run) gets nulls; `sqlite_synchronous` is added when a
    key ends in "sqlite".
    """
    line: dict[str, object] = dict(head)
    for key, found in results.items():
        line[f"{key}_msgs_per_s"] = round(found.msgs_per_s, 1) if found else None
        line[f"{key}_p50_ms"] = round(found.p50_ms, 3) if found else None
        line[f"{key}_p95_ms"] = round(found.p95_ms, 3) if found else None
    if any(key.endswith("sqlite") for key in results):
        line["sqlite_synchronous"] = sqlite_synchronous
    line["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return json.dumps(line)


def server_processes(app: Flask, server: subprocess.Popen) -> list[psutil.Process]:
    """gunicorn's workers and the PostgreSQL backends serving them (after the warm-up,
    their pools are open): the CPU they use is what one request costs the machine."""
    processes = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
    with app.app_context():
        pids = db.session.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                 "AND pid <> pg_backend_pid()")
        ).all()  # fmt: skip
        db.session.remove()
    for pid in pids:
        with contextlib.suppress(psutil.Error):  # a backend that closed meanwhile
            processes.append(psutil.Process(pid))
    return processes


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _idle(times) -> float:
    return times.idle + times.iowait


def _busy(times) -> float:
    return times.user + times.nice + times.system + times.irq + times.softirq


class ServerCpu:
    """CPU seconds gunicorn and its PostgreSQL backends use between `start()` and `stop()`.

    The processes are listed at both ends: a pool that opens connections during the run
    (it grows under load) would otherwise leave those backends uncounted, which made the
    figures before 2026-12-05 18:00 read low. A backend that appears meanwhile counts in
    full; one that ends meanwhile is lost (none do in these runs)."""

    def __init__(self, app: Flask, server: subprocess.Popen) -> None:
        self.app, self.server = app, server
        self.before: dict[int, tuple[float, bool]] = {}
        self.machine_before = psutil.cpu_times()
        #: Over the same span, the whole machine's CPU seconds busy and idle (idle and
        #: waiting for I/O): with what the server and the client used, this tells whether
        #: the cores were full, and with what.
        self.machine_busy = self.machine_idle = 0.0
        #: CPU seconds of each gunicorn worker, most first: how evenly the connections
        #: were shared (a worker's threads share one GIL, so one core at most).
        self.workers: list[float] = []

    def start(self) -> None:
        self.before = self._read()
        self.machine_before = psutil.cpu_times()

    def stop(self) -> tuple[float, float]:
        """(all of it, PostgreSQL's part)."""
        after, before = psutil.cpu_times(), self.machine_before
        self.machine_idle = _idle(after) - _idle(before)
        self.machine_busy = _busy(after) - _busy(before)
        total = database = 0.0
        self.workers = []
        for pid, (seconds, is_database) in self._read().items():
            used = seconds - self.before.get(pid, (0.0, is_database))[0]
            total += used
            database += used if is_database else 0.0
            if not is_database and pid != self.server.pid:
                self.workers.append(used)
        self.workers.sort(reverse=True)
        return total, database

    def _read(self) -> dict[int, tuple[float, bool]]:
        found = {}
        for process in server_processes(self.app, self.server):
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                is_database = process.name().startswith("postgres")
                found[process.pid] = (times.user + times.system, is_database)
        return found
