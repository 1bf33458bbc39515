"""Messenger and Instagram DMs at /webhooks/meta (one Meta app subscribes both).

GET: Meta's verification handshake. With hub.mode=subscribe and hub.verify_token equal
to HELPDESK_META_VERIFY_TOKEN, the answer is hub.challenge as plain text; else 403.
POST: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(HELPDESK_META_APP_SECRET, raw
body), then the shared flow in `social.py`. Body format: channel_adapters.social.meta.
"""

from __future__ import annotations

import re

from flask import current_app, request

from channel_adapters.social.common import hub_signature_matches, verify_token_matches
from channel_adapters.social.meta import parse_meta
from helpdesk.webhooks import bp, json_error
from helpdesk.webhooks.social import Refusal, check_signature, read_body, receive, require_secret

SOURCE = "meta"
SIGNATURE_HEADER = "X-Hub-Signature-256"
#: Meta's challenge is a number; anything else is not echoed back.
_CHALLENGE = re.compile(r"[A-Za-z0-9_.-]{1,200}")


@bp.get("/meta")
def verify_meta():
    return handshake(current_app.config.get("META_VERIFY_TOKEN"), "HELPDESK_META_VERIFY_TOKEN")


@bp.post("/meta")
def receive_meta():
    try:
        secret = require_secret("META_APP_SECRET", "HELPDESK_META_APP_SECRET", "Meta")
        raw = read_body()
        given = request.headers.get(SIGNATURE_HEADER)
        check_signature(hub_signature_matches(secret, raw, given), SIGNATURE_HEADER, given)
    except Refusal as refusal:
        return refusal.response()
    return receive(SOURCE, raw, parse_meta)


def handshake(token: str | None, variable: str):
    """Meta's subscription check, for Messenger/Instagram and for WhatsApp."""
    if not token:
        return json_error(503, "not_configured", f"set {variable} to the webhook's verify token")
    args = request.args
    if args.get("hub.mode") != "subscribe" or not verify_token_matches(
        token, args.get("hub.verify_token")
    ):
        return json_error(403, "bad_verify_token", "hub.mode or hub.verify_token is wrong")
    challenge = args.get("hub.challenge", "")
    if not _CHALLENGE.fullmatch(challenge):
        return json_error(400, "bad_challenge", "hub.challenge is missing or not a token")
    return challenge, 200, {"Content-Type": "text/plain; charset=utf-8"}
