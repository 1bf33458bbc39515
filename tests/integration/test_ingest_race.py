"""Two workers ingesting the same delivery at once store it once (PostgreSQL, two connections)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text

from helpdesk.extensions import db
from helpdesk.ingest import IngestResult, ingest
from helpdesk.models import Customer, Message, Ticket
from tests.factories import inbound


def _wait_until_blocked_on_a_lock(app, deadline_seconds: float = 30) -> None:
    """Return once some other connection waits on a row lock (the unique index)."""
    with app.app_context():
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            waiting = db.session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
            db.session.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the second worker never waited on the first one's insert")


def test_two_workers_racing_store_the_message_once(app, backend):
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers, so two connections cannot race on one insert")
    message = inbound(external_id="<race@example.com>", subject="Doppelt zugestellt")
    results: dict[str, IngestResult | BaseException] = {}
    first_stored = threading.Event()
    first_may_commit = threading.Event()

    def worker(name: str) -> None:
        with app.app_context():
            try:
                if name == "second":
                    first_stored.wait()
                results[name + " racing"] = ingest(message)
                if name == "first":
                    first_stored.set()
                    first_may_commit.wait()
                db.session.commit()
                results[name] = ingest(message)  # what the store says after commit
            except BaseException as error:  # report it to the test thread
                results[name] = error
                first_stored.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("first", "second")]
    for thread in threads:
        thread.start()
    first_stored.wait()
    # Both have checked for the message and found none; the second now waits on the
    # unique index until the first commits, then loses the race.
    _wait_until_blocked_on_a_lock(app)
    first_may_commit.set()
    for thread in threads:
        thread.join(timeout=60)

    for result in results.values():
        assert isinstance(result, IngestResult), result
    assert not results["first racing"].duplicate
    assert results["second racing"].duplicate  # lost the race, found the winner's row
    assert results["first"].message.id == results["second"].message.id
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Message.id))) == 1
    assert db.session.scalar(select(func.count(Ticket.id))) == 1
    assert db.session.scalar(select(func.count(Customer.id))) == 1
