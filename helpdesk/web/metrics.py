"""`/metrics` for Prometheus and `/readyz` for load balancers and deployments.

`/metrics` answers a scraper presenting `Authorization: Bearer $HELPDESK_METRICS_TOKEN`;
without a configured token, only requests from the machine itself (loopback).
`/readyz` says whether this instance should get traffic: the database answers and its
schema is the one this code expects (after a deploy, before `helpdesk db upgrade`, it is not).
"""

from __future__ import annotations

import hmac
from ipaddress import ip_address

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Response, abort, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.extensions import db
from helpdesk.services.metrics import StoreCollector

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics():
    _allow_scraper()
    registry = CollectorRegistry()
    registry.register(StoreCollector())
    try:
        body = generate_latest(registry)
    finally:
        db.session.rollback()  # read only; never leave a transaction open
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def _allow_scraper() -> None:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), str(token).encode()):
            abort(401)
        return
    if not request.remote_addr or not ip_address(request.remote_addr).is_loopback:
        abort(404)  # not configured for scraping from elsewhere: set HELPDESK_METRICS_TOKEN


@bp.get("/readyz")
def readyz():
    problems = []
    try:
        connection = db.session.connection()
        current = set(MigrationContext.configure(connection).get_current_heads())
        directory = current_app.extensions["migrate"].directory
        expected = set(ScriptDirectory(directory).get_heads())
        if current != expected:
            problems.append("the database schema is not current: run `helpdesk db upgrade`")
    except SQLAlchemyError as error:
        problems.append(f"the database does not answer: {error.__class__.__name__}")
    finally:
        db.session.rollback()
    if problems:
        return jsonify(status="not ready", problems=problems), 503
    return jsonify(status="ready")
