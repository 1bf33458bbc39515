"""The worker: one process that runs the scheduled jobs (APScheduler).

Jobs are registered by the parts that need them (polling mailboxes, delivering
the outbox, SLA checks); each runs inside an application context and never
overlaps with itself.
"""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from helpdesk.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[[], None]
    seconds: int


#: Filled by the features that need background work.
JOBS: list[Job] = []


def _in_app_context(app: Flask, job: Job) -> Callable[[], None]:
    @wraps(job.func)
    def run() -> None:
        with app.app_context():
            try:
                job.func()
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("job %s failed; it runs again at its next interval", job.id)

    return run


def build_scheduler(app: Flask, jobs: list[Job] | None = None) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC")
    for job in JOBS if jobs is None else jobs:
        scheduler.add_job(
            _in_app_context(app, job),
            "interval",
            seconds=job.seconds,
            id=job.id,
            max_instances=1,
            coalesce=True,
        )
    return scheduler


def run_worker(app: Flask) -> None:
    """Run the scheduled jobs until SIGTERM or Ctrl-C."""
    scheduler = build_scheduler(app)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    names = ", ".join(j.id for j in JOBS) or "none yet"
    log.info("worker started with %d jobs (%s)", len(JOBS), names)
    with contextlib.suppress(KeyboardInterrupt):
        scheduler.start()
    log.info("worker stopped")
