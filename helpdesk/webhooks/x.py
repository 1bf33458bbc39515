"""X direct messages at /webhooks/x (Account Activity API); optional: without
HELPDESK_X_CONSUMER_SECRET the endpoint answers 503.

GET with crc_token: {"response_token": "sha256=" + base64(HMAC-SHA256(consumer secret,
crc_token))}, X's challenge-response check (at registration and about hourly).
POST: x-twitter-webhooks-signature, the same HMAC over the raw body, then the shared
flow in `social.py`. Body format: channel_adapters.social.x.
"""

from __future__ import annotations

from flask import jsonify, request

from channel_adapters.social.common import x_signature_matches
from channel_adapters.social.x import crc_response, parse_x
from helpdesk.webhooks import bp, json_error
from helpdesk.webhooks.social import Refusal, check_signature, read_body, receive, require_secret

SOURCE = "x"
SIGNATURE_HEADER = "x-twitter-webhooks-signature"
SECRET = ("X_CONSUMER_SECRET", "HELPDESK_X_CONSUMER_SECRET", "X")


@bp.get("/x")
def crc_x():
    try:
        secret = require_secret(*SECRET)
    except Refusal as refusal:
        return refusal.response()
    token = request.args.get("crc_token", "")
    if not token or len(token) > 500:
        return json_error(400, "missing_crc_token", "crc_token is required")
    return jsonify(crc_response(secret, token)), 200


@bp.post("/x")
def receive_x():
    try:
        secret = require_secret(*SECRET)
        raw = read_body()
        given = request.headers.get(SIGNATURE_HEADER)
        check_signature(x_signature_matches(secret, raw, given), SIGNATURE_HEADER, given)
    except Refusal as refusal:
        return refusal.response()
    return receive(SOURCE, raw, parse_x)
