"""Long-running commands never sit on a transaction (on SQLite: the write lock)."""

from __future__ import annotations

from helpdesk.cli import require_schema
from helpdesk.extensions import db


def test_the_schema_check_leaves_no_transaction_open(app):
    require_schema()
    assert not db.session().in_transaction()
