"""The inbox filters by intent; an agent's rejection of a tag takes the ticket out."""

from __future__ import annotations

from classifiers.base import Classification
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import IntentTag
from tests.factories import inbound


class Says:
    def __init__(self, *intents: str) -> None:
        self.intents = intents

    def classify(self, text, *, subject=""):
        return Classification(intents=self.intents, scores=dict.fromkeys(self.intents, 0.9))


def test_inbox_filters_by_intent(agent_client):
    reminder = ingest(inbound(subject="Mahnung trotz Retoure"),
                      classifier=Says("return_status", "payment_reminder"))  # fmt: skip
    where = ingest(inbound(sender="b@example.com", subject="Wo ist mein Paket"),
                   classifier=Says("order_status"))  # fmt: skip
    corrected = ingest(inbound(sender="c@example.com", subject="Falsch erkannt"),
                       classifier=Says("payment_reminder"))  # fmt: skip
    db.session.add(IntentTag(ticket_id=corrected.ticket_id, intent="payment_reminder",
                             source="agent", rejected=True))  # fmt: skip
    db.session.commit()

    page = agent_client.get("/inbox?intent=payment_reminder").get_data(as_text=True)
    assert "Mahnung trotz Retoure" in page
    assert "Wo ist mein Paket" not in page and "Falsch erkannt" not in page
    assert f"/tickets/{reminder.ticket_id}" in page and f"/tickets/{where.ticket_id}" not in page
    everything = agent_client.get("/inbox").get_data(as_text=True)
    assert all(s in everything for s in ("Mahnung trotz Retoure", "Wo ist mein Paket"))
    assert "Payment reminder" in everything  # the tag, by its name
