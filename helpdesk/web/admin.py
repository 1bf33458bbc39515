"""Administration pages, for admins only."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import User
from helpdesk.web.auth import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@roles_required("admin")
def users():
    return render_template(
        "admin/users.html", users=db.session.scalars(select(User).order_by(User.email)).all()
    )
