"""The application's exceptions, and the one place that turns them into responses."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException


class HelpdeskError(Exception):
    """Base of the errors our services raise on purpose."""

    status_code = 400


class NotFound(HelpdeskError):
    status_code = 404


class PermissionDenied(HelpdeskError):
    status_code = 403


class InvalidInput(HelpdeskError):
    status_code = 422


def _wants_json() -> bool:
    if request.path.startswith(("/api/", "/webhooks/")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _respond(status: int, title: str, detail: str):
    if request.path.startswith("/api/"):  # the API's one error shape (helpdesk/api/__init__.py)
        code = "_".join(title.lower().split()) or "error"
        return jsonify(error={"code": code, "message": detail or title}), status
    if _wants_json():
        return jsonify(error={"status": status, "title": title, "detail": detail}), status
    return render_template("error.html", status=status, title=title, detail=detail), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HelpdeskError)
    def handle_helpdesk_error(error: HelpdeskError):
        return _respond(error.status_code, type(error).__name__, str(error))

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        return _respond(error.code or 500, error.name, error.description or "")

    @app.errorhandler(DBAPIError)
    def handle_lost_database(error: DBAPIError):
        """The database connection broke mid-request, or no connection could be made (a
        restart, a failover): nothing was committed, so 503 with Retry-After tells senders
        and browsers to try again; any other database error is a bug and stays a 500."""
        # Without a statement, the error came from connecting (the server is down).
        unreachable = isinstance(error, OperationalError) and error.statement is None
        if not (error.connection_invalidated or unreachable):
            raise error
        from helpdesk.extensions import db

        db.session.rollback()
        detail = "The database is not reachable; try again shortly."
        response = app.make_response(_respond(503, "Service Unavailable", detail))
        response.headers["Retry-After"] = "2"
        return response
