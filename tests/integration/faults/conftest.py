"""Fault tests: real processes (the worker, gunicorn), real Dovecot and SMTP, the database
connections cut under them (the shared PostgreSQL, by terminating this app's own backends)
and a PostgreSQL server restarted under them (a private cluster of the test's own)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from tests.integration.email.conftest import (  # noqa: F401  (fixtures used here too)
    dovecot,
    imap_mailbox,
    mailbox_user,
    smtp_server,
)


class Process:
    """A `python -m helpdesk ...` (or any) child in its own process group, output kept."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.popen = subprocess.Popen(
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(self.popen.stdout), daemon=True).start()

    @classmethod
    def helpdesk(cls, *args: str, env: dict[str, str]) -> Process:
        return cls([sys.executable, "-m", "helpdesk", *args], env)

    def kill_hard(self) -> None:
        """kill -9 the whole group: no handler runs, nothing is cleaned up."""
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=30)

    @property
    def output(self) -> str:
        return "".join(self.lines)


def wait_until(condition, seconds: float, what: str, *, process: Process | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    tail = process.output[-3000:] if process is not None else ""
    raise AssertionError(f"{what} did not happen within {seconds:g}s\n{tail}")
