"""The SMTP server goes away for a while and comes back: every reply is delivered exactly
once, or (refused for good by the server) visibly failed on its ticket. Time moves by
the `now` the outbox is run with, so the retry delays (1, 5, 30 minutes...) pass at once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Message, OutboxItem
from helpdesk.models.types import utcnow
from helpdesk.services.delivery import RETRY_DELAYS, deliver_due
from helpdesk.services.replies import add_reply
from tests import factories, mail_servers
from tests.conftest import make_user
from tests.mail_servers import SmtpRecorder

REPLIES = 30


def _server_on(port: int, monkeypatch) -> SmtpRecorder:
    """A new recorder on `port` (an aiosmtpd controller cannot be started twice)."""
    with monkeypatch.context() as patch:
        patch.setattr(mail_servers, "free_port", lambda: port)
        return SmtpRecorder().start()


def test_replies_survive_an_smtp_outage_exactly_once(app, monkeypatch):
    smtp_server = SmtpRecorder().start()
    monkeypatch.setitem(app.config, "SMTP_URL", smtp_server.url())
    monkeypatch.setitem(app.config, "MAIL_FROM", "service@shop.test")
    agent = make_user("agent")
    for number in range(REPLIES):
        found = ingest(factories.inbound(sender=f"kunde{number}@example.com",
                                         subject=f"Frage {number}"))  # fmt: skip
        add_reply(found.ticket, agent, f"Antwort {number}")
    db.session.commit()
    now = utcnow()

    totals: Counter = Counter()
    totals.update(deliver_due(now=now, limit=10))  # a first batch leaves normally
    smtp_server.stop()  # the server goes away
    during = deliver_due(now=now, limit=100)
    totals.update(during)
    back = _server_on(smtp_server.port, monkeypatch)  # and comes back, on the same port
    back.fail_next("550 5.1.1 mailbox unavailable")  # one address refused for good
    try:
        for delay in RETRY_DELAYS:  # the retry schedule, passed at once
            now += delay + timedelta(seconds=1)
            totals.update(deliver_due(now=now, limit=100))
    finally:
        back.stop()
    mails = smtp_server.messages + back.messages

    items = db.session.scalars(select(OutboxItem).where(OutboxItem.kind == "send_message")).all()
    statuses = Counter(item.status for item in items)
    received = Counter(mail.parsed()["Message-ID"] for mail in mails)
    sent_ids = {db.session.get(Message, i.message_id).external_id for i in items
                if i.status == "sent"}  # fmt: skip
    failed = [i for i in items if i.status in ("failed", "dead")]
    print(f"\nSMTP outage: {REPLIES} replies; during the outage {dict(during)}; afterwards "
          f"{dict(statuses)}; the server received {len(mails)} mails, "
          f"{sum(1 for n in received.values() if n > 1)} twice")  # fmt: skip

    assert during == {"retrying": REPLIES - 10}
    assert statuses == {"sent": REPLIES - 1, "dead": 1}
    assert set(received) == sent_ids and max(received.values()) == 1
    (dead,) = failed
    assert "550" in dead.last_error
    assert db.session.get(Message, dead.message_id).details["delivery"]["status"] == "failed"
