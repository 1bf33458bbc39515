"""How tickets are recognised in the replies customers send."""

from __future__ import annotations

import re

from helpdesk.models import Ticket

#: "[#1234]" in a subject, as our outgoing mail writes it. The thread lookup itself
#: is part of ingest (`helpdesk.ingest._find_thread`).
TICKET_TOKEN = re.compile(r"\[#(\d{1,12})\]")


def ticket_token(ticket: Ticket) -> str:
    return f"[#{ticket.number}]"
