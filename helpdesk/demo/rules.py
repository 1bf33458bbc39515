"""Demo data for the rules: the default rule set, switched on, routing to the demo's teams,
and two fresh messages that show it working.

The rules are installed after the scripted conversations are played, so those keep
the history they were written with; then Heike writes again about the reminder she got
although her return arrived (order 100964), and Sarah asks where her order 100811 is
(shipped with UPS). With a trained classifier the first lands with the returns team at
high priority with its hold checked and a draft waiting, the second is answered with
the tracking link. Fixed message ids make a second load add nothing.
"""

from __future__ import annotations

from datetime import timedelta

from channel_adapters.base import Identity, InboundMessage
from helpdesk.ingest import ingest
from helpdesk.models.types import utcnow
from helpdesk.services.rules.defaults import install_default_rules

RETURNS_TEAM = "Retouren"
CARE_TEAM = "Kundenservice"

SHOWCASE = (
    (
        "<demo-rules-1@demo.helpdesk.example>",
        Identity("email", "heike.bauer@example.de", "Heike Bauer"),
        "Mahnung zu Bestellung 100964",
        "Guten Tag,\n\nmeine Retoure ist längst bei Ihnen angekommen, trotzdem bekomme ich "
        "eine Mahnung für die Bestellung 100964. Bitte prüfen Sie das.\n\nHeike Bauer",
        "de",
    ),
    (
        "<demo-rules-2@demo.helpdesk.example>",
        Identity("email", "sarah.mitchell@example.com", "Sarah Mitchell"),
        "Where is my order 100811?",
        "Hi,\n\nwhere is my order 100811? It has been a week.\n\nThanks, Sarah",
        "en",
    ),
)


def load_demo_rules() -> int:
    """Install the default rules for the demo's teams and play the two showcase messages.
    Returns how many rules were added. The caller commits."""
    added = install_default_rules(RETURNS_TEAM, CARE_TEAM)
    now = utcnow()
    for external_id, sender, subject, text, language in SHOWCASE:
        ingest(
            InboundMessage(
                channel="email",
                external_id=external_id,
                sender=sender,
                subject=subject,
                text=text,
                sent_at=now - timedelta(minutes=2),
                language=language,
                recipient="service@nordlicht-mode.example",
            )
        )
    return added
