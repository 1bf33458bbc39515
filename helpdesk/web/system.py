"""Public endpoints for operators and load balancers."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, url_for
from sqlalchemy import text

from helpdesk.extensions import db

bp = Blueprint("system", __name__)


@bp.get("/healthz")
def healthz():
    """Alive and able to reach the database."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.get("/")
def root():
    return redirect(url_for("inbox.index"))
