"""One worker at a time: a second `helpdesk worker` waits instead of running every job twice.

On PostgreSQL the worker holds a session-level advisory lock on its own connection for as
long as it lives; the database frees it when the process or its connection dies, so a
stand-by worker takes over after a crash without anyone cleaning up. On SQLite (one
machine by nature) an exclusive `flock` on a file beside the database does the same.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """The advisory lock's key for `name` (default "helpdesk"): a stable 63-bit number, so
    other applications' keys do not clash and two helpdesks can share one database."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


class WorkerLock:
    """`acquire()` waits (checking every `interval` seconds) until this process is the worker."""

    def __init__(self, engine: Engine, *, interval: float = 15.0, name: str = "helpdesk") -> None:
        self.engine = engine
        self.name = name
        self.key = lock_key(name)
        self.interval = interval
        self._connection: Connection | None = None
        self._file = None

    def try_acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            return self._try_postgresql()
        return self._try_file()

    def acquire(self, wait: Callable[[float], bool] | None = None) -> bool:
        """Block until the lock is ours (True). `wait(seconds)` pauses between checks and
        returns False to give up (then acquire returns False); by default it sleeps."""
        wait = wait or _sleep
        announced = False
        while True:
            if self.try_acquire():
                if announced:
                    log.info("the other worker is gone; this one takes over")
                return True
            if not announced:
                log.warning(
                    "another helpdesk worker is running; this one stands by and takes over "
                    "when it stops (checking every %.0f s)",
                    self.interval,
                )
                announced = True
            if not wait(self.interval):
                return False

    def release(self) -> None:
        if self._connection is not None:
            # The pool would keep the session (and its lock) alive: unlock, then let it go.
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self._connection.close()
            self._connection = None
        if self._file is not None:
            self._file.close()  # closing the descriptor drops the flock
            self._file = None

    def _try_postgresql(self) -> bool:
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
        if got:
            self._connection = connection
            return True
        connection.close()
        return False

    def _try_file(self) -> bool:
        database = self.engine.url.database
        path = Path(f"{database}.{self.name}-worker-lock") if database else None
        if path is None:  # an in-memory database belongs to one process anyway
            return True
        handle = path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return True
