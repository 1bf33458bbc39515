"""The database goes away under webhook intake: gunicorn takes signed Messenger webhooks
from four senders while this test keeps terminating the app's PostgreSQL connections
(pg_terminate_backend on the backends named by the app's application_name; the shared
server itself is never restarted). A sender redelivers until it gets 200, as Meta does.
Afterwards every message is stored exactly once."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text

from helpdesk.extensions import db
from helpdesk.models import InboundDelivery, Message
from tests.integration.faults.conftest import Process, wait_until
from tests.mail_servers import free_port, wait_for_port

MESSAGES = 80
SENDERS = 4
#: The app's connections are cut this often at most while senders are busy, this far apart.
MAX_CUTS, CUT_EVERY = 10, 0.5
SECRET = "meta-fault-secret"


def _body(number: int) -> bytes:
    event = {
        "sender": {"id": f"psid-{number}"},
        "recipient": {"id": "page-1"},
        "timestamp": 1764930000000 + number,
        "message": {"mid": f"m_fault_{number}", "text": f"Hallo, Frage Nummer {number}"},
    }
    body = {"object": "page", "entry": [{"id": "page-1", "time": 1764930000000,
                                         "messaging": [event]}]}  # fmt: skip
    return json.dumps(body).encode()


def _signed(raw: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def test_intake_survives_its_database_connections_being_cut(app, backend):
    if backend != "postgresql":
        pytest.skip("terminates PostgreSQL backends; SQLite has no server to cut")
    name = f"helpdesk-fault-{os.getpid()}"
    url = db.engine.url.update_query_dict({"application_name": name})
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "HELPDESK_SECRET_KEY": "fault-tests",
        "HELPDESK_CLASSIFIER": "none",
        "HELPDESK_META_APP_SECRET": SECRET,
    }
    server = Process([sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4",
                      "--bind", f"127.0.0.1:{port}", "wsgi:app"], env)  # fmt: skip
    answers: Counter = Counter()
    lock = threading.Lock()

    def deliver(number: int) -> None:
        raw = _body(number)
        for _attempt in range(40):
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
        raise AssertionError(f"message {number} never accepted; answers so far {dict(answers)}")

    terminated = 0
    try:
        assert wait_for_port(port, 60, lambda: server.popen.poll() is None), server.output
        deliver(0)  # the workers are up and connected before the first cut
        with ThreadPoolExecutor(SENDERS) as pool:
            futures = [pool.submit(deliver, n) for n in range(1, MESSAGES)]
            cuts = 0
            while cuts < MAX_CUTS and not all(f.done() for f in futures):
                time.sleep(CUT_EVERY)
                with db.engine.connect() as conn:
                    terminated += len(conn.execute(
                        text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE application_name = :name"), {"name": name}).all())  # fmt: skip
                cuts += 1
            for future in futures:
                future.result()
    finally:
        server.stop()

    def stored() -> int:
        db.session.rollback()
        return db.session.scalar(
            select(func.count()).select_from(Message).where(Message.channel == "messenger")
        )

    wait_until(lambda: stored() == MESSAGES, 10, "every message visible")
    distinct = db.session.scalar(select(func.count(func.distinct(Message.external_id))))
    deliveries = db.session.scalar(select(func.count()).select_from(InboundDelivery))
    print(f"\ndatabase cut during intake: {MESSAGES} messages, {terminated} backends terminated, "
          f"answers {dict(answers)}, {stored()} stored, {distinct} distinct, "
          f"{deliveries} deliveries recorded")  # fmt: skip
    assert terminated > 0, "no connection was cut: the test proved nothing"
    assert stored() == distinct == deliveries == MESSAGES
    assert not [a for a in answers if a not in (200, 503, "connection error")], answers
