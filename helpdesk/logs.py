"""Logging: readable lines for people, one JSON object per line for log collectors.

`HELPDESK_LOG_FORMAT=json` switches to JSON (time, level, logger, message, and the
request's method, path and id when there is one), so Loki, Elasticsearch or
CloudWatch can filter by field instead of by regular expression.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from flask import g, has_request_context, request

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["method"] = request.method
            entry["path"] = request.path
            entry["request_id"] = g.get("request_id")
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str) -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def register_request_ids(app) -> None:
    """Each request gets an id (the proxy's X-Request-ID, else a new one), in the logs and
    the response, so one user's report can be found in the logs of every worker."""
    import uuid

    @app.before_request
    def assign_request_id() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if 0 < len(given) <= 100 and given.isprintable() else uuid.uuid4().hex

    @app.after_request
    def return_request_id(response):
        response.headers.setdefault("X-Request-ID", g.get("request_id", ""))
        return response
