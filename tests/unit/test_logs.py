"""Log lines as JSON carry the fields collectors filter on."""

from __future__ import annotations

import json
import logging

from flask import Flask, g

from helpdesk.logs import JsonFormatter


def record(message: str, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord("helpdesk.test", level, __file__, 1, message, (), None)


def test_a_json_line_has_time_level_logger_and_message():
    line = json.loads(JsonFormatter().format(record("mailbox %s failed")))
    assert line["level"] == "warning" and line["logger"] == "helpdesk.test"
    assert line["message"] == "mailbox %s failed" and line["time"].endswith("+00:00")
    assert "path" not in line


def test_inside_a_request_the_line_names_method_path_and_request_id():
    app = Flask(__name__)
    with app.test_request_context("/inbox?view=mine", method="POST"):
        g.request_id = "abc123"
        line = json.loads(JsonFormatter().format(record("slow")))
    assert (line["method"], line["path"], line["request_id"]) == ("POST", "/inbox", "abc123")


def test_every_response_names_its_request_id(tmp_path):
    from helpdesk import create_app

    database = f"sqlite:///{tmp_path / 'db.sqlite'}"
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "ENV": "testing", "SQLALCHEMY_DATABASE_URI": database}
    )
    client = app.test_client()
    assert len(client.get("/login").headers["X-Request-ID"]) == 32
    echoed = client.get("/login", headers={"X-Request-ID": "lb-42"})
    assert echoed.headers["X-Request-ID"] == "lb-42"
