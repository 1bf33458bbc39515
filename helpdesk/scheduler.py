"""The worker: one process that runs the scheduled jobs (APScheduler).

Each job runs inside an application context and never overlaps with itself.
Mailboxes are read by long-lived watcher threads (IMAP IDLE), which a job
starts and restarts.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from helpdesk.extensions import db
from helpdesk.services.csat import send_due_surveys
from helpdesk.services.delivery import deliver_due
from helpdesk.services.mail_intake import watch_mailbox
from helpdesk.services.mailboxes import mailboxes
from helpdesk.services.retraining import retrain_job
from helpdesk.services.sla import check_sla
from helpdesk.services.social_names import lookup_names
from helpdesk.services.spikes import check_volume
from helpdesk.services.ticket_metrics import refresh_all_due
from helpdesk.services.webhooks_out import deliver_webhooks_due
from helpdesk.worker_lock import WorkerLock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[[], None]
    seconds: int
    at_start: bool = True  # run once when the worker starts, not only after the first interval


class MailWatchers:
    """One thread per enabled mailbox, each holding an IMAP IDLE connection open."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.stop = threading.Event()
        self.threads: dict[int, threading.Thread] = {}

    def ensure(self) -> None:
        """Start a watcher for every enabled mailbox that has none (new ones, crashed ones)."""
        for mailbox in mailboxes():
            thread = self.threads.get(mailbox.id)
            if thread is None or not thread.is_alive():
                thread = threading.Thread(
                    target=watch_mailbox,
                    args=(self.app, mailbox.id, self.stop),
                    name=f"mailbox-{mailbox.name}",
                    daemon=True,
                )
                thread.start()
                self.threads[mailbox.id] = thread

    def shutdown(self) -> None:
        self.stop.set()
        for thread in self.threads.values():
            thread.join(timeout=60)


def default_jobs(app: Flask, watchers: MailWatchers) -> list[Job]:
    """The worker's schedule."""
    jobs = [
        Job("deliver-outbox", lambda: deliver_due(), seconds=10),
        Job("deliver-webhooks", lambda: deliver_webhooks_due(), seconds=10),
        Job("watch-mailboxes", watchers.ensure, seconds=60),
        # KPIs: metrics of tickets ingest noted, SLA warnings and breaches, volume spikes,
        # satisfaction surveys.
        Job("refresh-metrics", lambda: refresh_all_due(), seconds=5),
        Job("check-sla", lambda: check_sla(), seconds=60),
        Job("check-volume", lambda: check_volume(), seconds=300),
        Job("send-surveys", lambda: send_due_surveys(), seconds=300),
        # Names for Messenger and Instagram senders, asked of the Graph API once each.
        Job("look-up-social-names", lambda: lookup_names(), seconds=60),
    ]
    hours = app.config["CLASSIFIER_RETRAIN_HOURS"]
    if hours:
        jobs.append(
            Job("retrain-classifier", retrain_job, seconds=int(hours * 3600), at_start=False)
        )
    return jobs


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


def build_scheduler(app: Flask, jobs: list[Job]) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    for job in jobs:
        scheduler.add_job(
            _in_app_context(app, job),
            "interval",
            seconds=job.seconds,
            id=job.id,
            max_instances=1,
            coalesce=True,
            **({"next_run_time": datetime.now(UTC)} if job.at_start else {}),
        )
    return scheduler


#: Signals that stop the worker. They are taken synchronously (sigwait), not by a handler:
#: a handler runs between two bytecodes of whatever the main thread is doing, where
#: threading and APScheduler may hold a lock the handler needs (the worker hung) or
#: swallow the exception it raises (the worker went on).
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def run_worker(app: Flask) -> None:
    """Run the scheduled jobs until SIGTERM or Ctrl-C, once this process holds the worker
    lock; a second worker stands by until then."""
    with app.app_context():
        lock = WorkerLock(
            db.engine,
            interval=app.config["WORKER_LOCK_SECONDS"],
            name=app.config["WORKER_LOCK_NAME"],
        )
    # Blocked before any thread starts, so every thread inherits the mask and the
    # signals wait for sigwait below.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        if lock.acquire(wait=_no_stop_signal_within):
            _run_jobs(app)
    finally:
        lock.release()


def _no_stop_signal_within(seconds: float) -> bool:
    return signal.sigtimedwait(STOP_SIGNALS, seconds) is None


def _run_jobs(app: Flask) -> None:
    watchers = MailWatchers(app)
    jobs = default_jobs(app, watchers)
    scheduler = build_scheduler(app, jobs)
    scheduler.start()
    log.info("worker started with %d jobs (%s)", len(jobs), ", ".join(j.id for j in jobs))
    received = signal.sigwait(STOP_SIGNALS)
    log.info("%s: the worker stops once its running jobs are done", signal.strsignal(received))
    scheduler.shutdown(wait=True)
    watchers.shutdown()
    log.info("worker stopped")
