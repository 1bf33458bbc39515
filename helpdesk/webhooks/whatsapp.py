"""WhatsApp Cloud API at /webhooks/whatsapp.

GET: the same handshake as Meta's other webhooks, with HELPDESK_WHATSAPP_VERIFY_TOKEN.
POST: X-Hub-Signature-256 with HELPDESK_WHATSAPP_APP_SECRET (default: the Meta app
secret, when one app serves all three), then the shared flow in `social.py`.
Body format: channel_adapters.social.whatsapp.
"""

from __future__ import annotations

from flask import current_app, request

from channel_adapters.social.common import hub_signature_matches
from channel_adapters.social.whatsapp import parse_whatsapp
from helpdesk.webhooks import bp
from helpdesk.webhooks.meta import SIGNATURE_HEADER, handshake
from helpdesk.webhooks.social import Refusal, check_signature, read_body, receive

SOURCE = "whatsapp"


@bp.get("/whatsapp")
def verify_whatsapp():
    return handshake(
        current_app.config.get("WHATSAPP_VERIFY_TOKEN"), "HELPDESK_WHATSAPP_VERIFY_TOKEN"
    )


@bp.post("/whatsapp")
def receive_whatsapp():
    try:
        secret = current_app.config.get("WHATSAPP_APP_SECRET") or current_app.config.get(
            "META_APP_SECRET"
        )
        if not secret:
            raise Refusal(503, "not_configured", "WhatsApp webhooks are switched off: set "
                          "HELPDESK_WHATSAPP_APP_SECRET (or HELPDESK_META_APP_SECRET)")  # fmt: skip
        raw = read_body()
        given = request.headers.get(SIGNATURE_HEADER)
        check_signature(hub_signature_matches(secret, raw, given), SIGNATURE_HEADER, given)
    except Refusal as refusal:
        return refusal.response()
    return receive(SOURCE, raw, parse_whatsapp)
