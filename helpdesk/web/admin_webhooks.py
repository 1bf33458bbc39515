"""Outbound webhooks for admins (/admin/webhooks): the endpoints, and per endpoint the
recent deliveries with their answer, attempts and error; switching one off or on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import OutboxItem, WebhookEndpoint
from helpdesk.services import audit
from helpdesk.web.auth import roles_required

bp = Blueprint("admin_webhooks", __name__, url_prefix="/admin")
#: Deliveries read per page view (newest first); the log shows those of one endpoint.
RECENT = 500
SHOWN = 100


@dataclass(frozen=True)
class Delivery:
    item: OutboxItem
    event_type: str
    last_status: int | None
    attempts: list[dict[str, Any]]


def deliveries(endpoint: WebhookEndpoint) -> list[Delivery]:
    """The endpoint's latest deliveries. The endpoint is inside the JSON payload, which
    neither database indexes the same way; the newest rows are few enough to filter here."""
    items = db.session.scalars(
        select(OutboxItem)
        .where(OutboxItem.kind == "webhook")
        .order_by(OutboxItem.id.desc())
        .limit(RECENT)
    )
    found = []
    for item in items:
        payload = item.payload or {}
        if payload.get("endpoint_id") != endpoint.id:
            continue
        attempts = list(payload.get("attempts") or [])
        found.append(
            Delivery(
                item=item,
                event_type=(payload.get("body") or {}).get("type", "?"),
                last_status=attempts[-1].get("status") if attempts else None,
                attempts=attempts,
            )
        )
        if len(found) == SHOWN:
            break
    return found


@bp.get("/webhooks")
@roles_required("admin")
def index():
    endpoints = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.name)).all()
    chosen = None
    if request.args.get("hook", "").isdigit() and len(request.args["hook"]) < 10:
        chosen = db.session.get(WebhookEndpoint, int(request.args["hook"])) or abort(404)
    elif endpoints:
        chosen = endpoints[0]
    return render_template(
        "admin/webhooks.html",
        endpoints=endpoints,
        chosen=chosen,
        deliveries=deliveries(chosen) if chosen else [],
    )


@bp.post("/webhooks/<int:endpoint_id>/active")
@roles_required("admin")
def set_active(endpoint_id: int):
    endpoint = db.session.get(WebhookEndpoint, endpoint_id) or abort(404)
    active = request.form.get("active") == "1"
    if endpoint.active != active:
        endpoint.active = active
        audit.record("webhook.enabled" if active else "webhook.disabled", by=current_user,
                     endpoint=endpoint.name)  # fmt: skip
        db.session.commit()
    flash(_("%(name)s is on.", name=endpoint.name) if active
          else _("%(name)s is off; nothing more is sent to it.", name=endpoint.name),
          "info")  # fmt: skip
    return redirect(url_for("admin_webhooks.index", hook=endpoint.id))
