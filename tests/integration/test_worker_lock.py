"""Long-running commands never sit on a transaction (on SQLite: the write lock), and only
one worker runs the jobs at a time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from helpdesk.cli import require_schema
from helpdesk.extensions import db


def test_the_schema_check_leaves_no_transaction_open(app):
    require_schema()
    assert not db.session().in_transaction()


def test_only_one_holder_of_the_worker_lock_at_a_time(app):
    from helpdesk.worker_lock import WorkerLock

    first, second = WorkerLock(db.engine), WorkerLock(db.engine)
    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def _start_worker(env) -> tuple[subprocess.Popen, list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "helpdesk", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    return process, lines


def _wait_for(lines: list[str], text: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(text in line for line in lines):
            return
        time.sleep(0.1)
    raise AssertionError(f"no {text!r} in the output:\n{''.join(lines)}")


def test_a_second_worker_stands_by_and_takes_over_when_the_first_stops(app):
    db.session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "HELPDESK_ENV": "development",
        "HELPDESK_WORKER_LOCK_SECONDS": "1",
        # Its own lock, so a worker another test left behind cannot stand in the way.
        "HELPDESK_WORKER_LOCK_NAME": f"test-{os.getpid()}-{time.monotonic_ns()}",
        "HELPDESK_CLASSIFIER": "none",
    }
    first, first_lines = _start_worker(env)
    second = None
    try:
        _wait_for(first_lines, "worker started")
        second, second_lines = _start_worker(env)
        _wait_for(second_lines, "another helpdesk worker is running; this one stands by")
        assert not any("worker started" in line for line in second_lines)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
        _wait_for(second_lines, "worker started")
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
        assert any("worker stopped" in line for line in second_lines)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    raise
