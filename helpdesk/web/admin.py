"""Administration pages, for admins only."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import QuarantinedInput, User
from helpdesk.services.mailboxes import mailboxes
from helpdesk.web.auth import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@roles_required("admin")
def users():
    return render_template(
        "admin/users.html", users=db.session.scalars(select(User).order_by(User.email)).all()
    )


@bp.get("/mailboxes")
@roles_required("admin")
def mailbox_health():
    return render_template("admin/mailboxes.html", mailboxes=mailboxes(enabled_only=False))


@bp.get("/quarantine")
@roles_required("admin")
def quarantine():
    items = db.session.scalars(
        select(QuarantinedInput).order_by(QuarantinedInput.received_at.desc()).limit(500)
    ).all()
    return render_template("admin/quarantine.html", items=items)


@bp.get("/quarantine/<int:item_id>/raw")
@roles_required("admin")
def quarantine_raw(item_id: int):
    """The bytes exactly as they arrived, as a download (never rendered in the browser)."""
    item = db.session.get(QuarantinedInput, item_id) or abort(404)
    extension = "eml" if item.content_type == "message/rfc822" else "bin"
    return (
        item.data,
        200,
        {
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f"attachment; filename=quarantine-{item.id}.{extension}",
            "X-Content-Type-Options": "nosniff",
        },
    )
