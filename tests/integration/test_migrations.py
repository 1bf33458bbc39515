"""The migrations build the schema the models describe, on both databases."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Event
from helpdesk.services.search import include_name
from tests.factories import inbound


def test_migrations_and_models_agree(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_event_trail_refuses_updates(app):
    ingest(inbound())
    db.session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("UPDATE events SET kind = 'forged'"))
    db.session.rollback()
    assert "forged" not in {e.kind for e in db.session.scalars(db.select(Event))}


def test_check_constraints_hold_in_the_database(app):
    ingest(inbound())
    db.session.commit()
    with pytest.raises(DatabaseError):
        db.session.execute(text("UPDATE tickets SET status = 'lost'"))
    db.session.rollback()


def test_db_upgrade_command_builds_an_empty_database(app, backend, tmp_path):
    """`helpdesk db upgrade` from the shell, into a database that has nothing yet."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    else:
        # Named after this run's test database, so parallel workers (helpdesk_test_gw0, ...)
        # and other runs on the same server each build their own.
        fresh = f"{db.engine.url.database}_upgrade"
        url = str(make_url(db.engine.url).set(database=fresh).render_as_string(hide_password=False))
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{fresh}"'))
            conn.execute(text(f'CREATE DATABASE "{fresh}"'))
        admin.dispose()
    env = {**os.environ, "DATABASE_URL": url, "HELPDESK_ENV": "development"}
    done = subprocess.run(
        [sys.executable, "-m", "helpdesk", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {
        "tickets",
        "messages",
        "customers",
        "customer_identities",
        "events",
        "outbox",
        "users",
        "teams",
        "intent_tags",
        "attachments",
        "channel_states",
        "quarantined_inputs",
        "alembic_version",
    } <= tables


def test_sqlite_runs_with_wal_and_foreign_keys(app, backend):
    if backend != "sqlite":
        pytest.skip("WAL and foreign-key pragmas are SQLite settings")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_upgrading_keeps_the_data(app, backend, tmp_path):
    """Each migration runs on a store with tickets in it and loses nothing (SQLite copies
    tables to alter them; with foreign keys on, that would cascade into deletions)."""
    from flask_migrate import downgrade, upgrade

    ingest(inbound(text="vor dem Upgrade"))
    db.session.commit()
    db.session.remove()
    downgrade(revision="b1e50a766d47")  # the first schema
    try:
        with db.engine.begin() as conn:
            for raw in (b"broken one", b"broken one", b"broken two"):
                conn.execute(
                    text(
                        "INSERT INTO quarantined_inputs (channel, source, reason, content_type,"
                        " size, data, received_at) VALUES ('email', 'test', 'unreadable',"
                        " 'message/rfc822', :size, :data, CURRENT_TIMESTAMP)"
                    ),
                    {"size": len(raw), "data": raw},
                )
        upgrade()
    finally:
        upgrade()  # leave the schema complete for the tests that follow
    counts = {
        table: db.session.scalar(text(f"SELECT count(*) FROM {table}"))
        for table in ("tickets", "messages", "customers", "events", "quarantined_inputs")
    }
    assert counts == {
        "tickets": 1,
        "messages": 1,
        "customers": 1,
        "events": 3,
        "quarantined_inputs": 2,
    }
    hashes = db.session.scalars(text("SELECT sha256 FROM quarantined_inputs ORDER BY id")).all()
    assert hashes == [
        hashlib.sha256(b"broken one").hexdigest(),
        hashlib.sha256(b"broken two").hexdigest(),
    ]
    if backend == "sqlite":
        # Migrations switch foreign keys off on their connection: none may come back to
        # the pool that way (a customer's erasure then left their messages behind).
        db.session.remove()
        raws = [db.engine.raw_connection() for _ in range(3)]
        try:
            assert [r.dbapi_connection.execute("PRAGMA foreign_keys").fetchone()[0]
                    for r in raws] == [1, 1, 1]  # fmt: skip
        finally:
            for raw in raws:
                raw.close()
