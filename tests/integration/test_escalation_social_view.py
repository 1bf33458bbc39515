"""The social team's view: DMs by platform, how fast each was answered, and the care
ticket a DM was handed over to."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Ticket
from tests.conftest import log_in, make_user
from tests.factories import inbound


def text_of(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(page)).replace("\u00a0", " ")


def test_dms_are_listed_by_platform_with_response_times(app):
    client = app.test_client()
    make_user("social")
    assert log_in(client, "social@shop.example").status_code == 302
    answered = ingest(inbound("instagram", "1784", "Gibt es die Jacke in M?", display_name="mia"))
    waiting = ingest(inbound("messenger", "5521", "Wann liefert ihr?", display_name="Tom"))
    handed = ingest(inbound("whatsapp", "4917612345", "Paket beschädigt", display_name="Eva"))
    mail = ingest(inbound("email", "kunde@example.com", "E-Mail, kein DM"))
    db.session.flush()
    ticket = db.session.get(Ticket, answered.ticket_id)
    ticket.first_response_at = ticket.created_at + timedelta(minutes=7)
    care = db.session.get(Ticket, mail.ticket_id)
    db.session.get(Ticket, handed.ticket_id).escalated_to_id = care.id
    db.session.commit()

    page = text_of(client.get("/social"))
    assert "Gibt es die Jacke in M?" in page or f"#{answered.ticket_id}" in page
    assert "7 minutes" in page  # the answered DM's first response, and the platform's median
    assert f"#{waiting.ticket_id}" in page and "waiting" in page
    assert f"#{care.id}" in page  # the care ticket the WhatsApp DM went to, with its status
    assert "E-Mail, kein DM" not in page
    for platform in ("Instagram", "Messenger", "WhatsApp"):
        assert platform in page
