"""Receivers for webhooks that other systems send us, under /webhooks.

One module per sender (`shopify.py`, ...). To add one:

1. create `helpdesk/webhooks/<sender>.py` that imports `bp` from here and adds its
   route, e.g. `@bp.post("/<sender>")`;
2. add `<sender>` to the import line at the end of this file.

Senders authenticate by signing the raw body, never with cookies, so CSRF protection
(which guards browser sessions) is off for this blueprint; each receiver MUST verify
its signature before it parses or stores anything. Deduplicate deliveries through
`InboundDelivery(source, delivery_id)` and answer 2xx only after the commit.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from helpdesk.extensions import csrf

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)


def record_delivery(source: str, delivery_id: str, topic: str, outcome: dict, raw: bytes):
    """Mark the delivery done, resolve a quarantined earlier copy of the same body (a retry
    that now succeeds), commit, and answer 200: only after this may the sender stop retrying."""
    import hashlib

    from sqlalchemy import update

    from helpdesk.extensions import db
    from helpdesk.models import InboundDelivery, QuarantinedInput
    from helpdesk.models.types import utcnow

    db.session.add(
        InboundDelivery(source=source, delivery_id=delivery_id, topic=topic[:100], outcome=outcome)
    )
    db.session.execute(
        update(QuarantinedInput)
        .where(
            QuarantinedInput.channel == source,
            QuarantinedInput.sha256 == hashlib.sha256(raw).hexdigest(),
            QuarantinedInput.resolved_at.is_(None),
        )
        .values(resolved_at=utcnow())
    )
    db.session.commit()
    return jsonify(status="ok", **outcome), 200


def json_error(status: int, code: str, message: str):
    """The error shape the API uses too: {"error": {"code", "message"}}."""
    return jsonify(error={"code": code, "message": message}), status


# Each adds its routes to bp (meta, whatsapp, x: social DMs; twilio: phone calls).
from helpdesk.webhooks import (  # noqa: E402,F401
    logistics,
    meta,
    shopify,
    twilio,
    whatsapp,
    x,
)
