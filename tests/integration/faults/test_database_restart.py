"""PostgreSQL restarts under webhook intake, for real: a private cluster of its own (initdb
in a temporary directory, a free port), so the server the other tests share is never
touched. gunicorn takes signed Messenger webhooks from four senders while this test
restarts the server twice with `pg_ctl restart -m immediate` (a crash: no checkpoint,
open transactions lost). A sender redelivers until it gets 200, as Meta does.
Afterwards every message is stored exactly once."""

from __future__ import annotations

import glob
import http.client
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, func, select

from helpdesk.models import InboundDelivery, Message
from tests.integration.faults.conftest import Process
from tests.integration.faults.test_database_cut import SECRET, _body, _signed
from tests.mail_servers import free_port, wait_for_port

MESSAGES = 120
#: Each sender waits this long before a message: intake spans the restarts.
PACE = 0.1
SENDERS = 4
RESTARTS = 2


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return (
        os.path.dirname(found[-1])
        if found
        else shutil.which("pg_ctl") and os.path.dirname(shutil.which("pg_ctl"))
    )


class Cluster:
    """A PostgreSQL server of this test's own, run as the `postgres` system user."""

    def __init__(self, bin_dir: str) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix="helpdesk-pg-")
        self.data = os.path.join(self.directory, "data")
        account = pwd.getpwnam("postgres")
        os.chown(self.directory, account.pw_uid, account.pw_gid)
        self._as_postgres("initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
                          "--no-sync", "-E", "UTF8")  # fmt: skip
        self._pg_ctl("start")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def restart(self) -> None:
        """A crash and a start: PostgreSQL replays its WAL, nothing committed is lost."""
        self._as_postgres("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        self._pg_ctl("start")

    def remove(self) -> None:
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._as_postgres("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)

    def _pg_ctl(self, action: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory}"
        self._as_postgres("pg_ctl", "-D", self.data, "-o", options, "-w",
                          "-l", os.path.join(self.directory, "log"), action)  # fmt: skip

    def _as_postgres(self, program: str, *args: str) -> None:
        command = [os.path.join(self.bin_dir, program), *args]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd="/")


def test_intake_survives_postgresql_restarting(app, backend):
    if backend != "postgresql":
        pytest.skip("restarts a PostgreSQL server; SQLite has none")
    bin_dir = _pg_bin()
    if bin_dir is None or not os.path.exists(os.path.join(bin_dir, "initdb")):
        pytest.skip("the PostgreSQL server programs (initdb, pg_ctl) are not installed")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres system user to run a private cluster as")
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != "postgres":
        pytest.skip("a private cluster needs root (runuser) or the postgres user")

    cluster = Cluster(bin_dir)
    engine = create_engine(cluster.url)
    server = None
    answers: Counter = Counter()
    lock = threading.Lock()
    try:
        env = {
            **os.environ,
            "DATABASE_URL": cluster.url,
            "HELPDESK_SECRET_KEY": "fault-tests",
            "HELPDESK_CLASSIFIER": "none",
            "HELPDESK_META_APP_SECRET": SECRET,
        }
        migrated = subprocess.run([sys.executable, "-m", "helpdesk", "db", "upgrade"], env=env,
                                  capture_output=True, text=True, timeout=180)  # fmt: skip
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        port = free_port()
        server = Process([sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4",
                          "--bind", f"127.0.0.1:{port}", "wsgi:app"], env)  # fmt: skip

        def deliver(number: int) -> None:
            raw = _body(number)
            time.sleep(PACE)
            for _attempt in range(100):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                try:
                    connection.request("POST", "/webhooks/meta", body=raw, headers=_signed(raw))
                    response = connection.getresponse()
                    response.read()
                    outcome: int | str = response.status
                except OSError:
                    outcome = "connection error"
                finally:
                    connection.close()
                with lock:
                    answers[outcome] += 1
                if outcome == 200:
                    return
                time.sleep(0.2)
            raise AssertionError(f"message {number} never accepted; answers {dict(answers)}")

        assert wait_for_port(port, 60, lambda: server.popen.poll() is None), server.output
        deliver(0)  # the workers are up and connected before the first restart
        restarts = 0
        with ThreadPoolExecutor(SENDERS) as pool:
            futures = [pool.submit(deliver, n) for n in range(1, MESSAGES)]
            while restarts < RESTARTS and not all(f.done() for f in futures):
                time.sleep(0.3)
                cluster.restart()
                restarts += 1
            for future in futures:
                future.result()
        server.stop()
        server.popen.wait(timeout=30)

        with engine.connect() as conn:
            stored = conn.scalar(
                select(func.count()).select_from(Message).where(Message.channel == "messenger")
            )
            distinct = conn.scalar(select(func.count(func.distinct(Message.external_id))))
            deliveries = conn.scalar(select(func.count()).select_from(InboundDelivery))
        print(f"\nPostgreSQL restarted during intake: {MESSAGES} messages, {restarts} restarts, "
              f"answers {dict(answers)}, {stored} stored, {distinct} distinct, "
              f"{deliveries} deliveries recorded")  # fmt: skip
        assert restarts == RESTARTS, "the senders finished before the server restarted"
        assert answers[200] == MESSAGES
        assert sum(n for outcome, n in answers.items() if outcome != 200) > 0, (
            "no request met the restart: the test proved nothing"
        )
        assert stored == distinct == deliveries == MESSAGES
        assert not [a for a in answers if a not in (200, 503, "connection error")], (
            answers,
            server.output[-4000:],
        )
    finally:
        if server is not None:
            server.stop()
        engine.dispose()
        cluster.remove()
