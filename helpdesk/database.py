"""Database engine settings that depend on the backend."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

#: Statements that change nothing: a transaction of only these may end with COMMIT.
_READS = re.compile(r"\s*(?:SELECT|SHOW|SET\s+LOCAL)\b", re.IGNORECASE)


def configure_engine(engine: Engine, config: Mapping[str, Any]) -> None:
    """Turn on WAL and foreign keys for SQLite, and give it working transactions;
    on PostgreSQL, note which transactions only read (`end_transaction`).

    pysqlite opens transactions lazily and breaks SAVEPOINT, which ingest relies
    on; SQLAlchemy's documented remedy is to switch its handling off and emit
    BEGIN ourselves.
    """
    if engine.dialect.name == "postgresql":
        _note_reads_only(engine)
    if engine.dialect.name != "sqlite":
        return
    synchronous = config.get("SQLITE_SYNCHRONOUS", "FULL")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _note_reads_only(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.info["reads_only"] = True

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(connection, _cursor, statement, _parameters, _context, _many) -> None:
        if connection.info.get("reads_only") and not _READS.match(statement):
            connection.info["reads_only"] = False


def end_transaction(session: Session, error: BaseException | None) -> None:
    """End a request's transaction before the session is removed: COMMIT when it only
    read, else (as Flask-SQLAlchemy does) ROLLBACK.

    psycopg forgets every prepared statement on ROLLBACK, so ending each page's reads
    with one made PostgreSQL parse and plan all of a page's statements again on every
    request: half of its CPU on the inbox and the ticket page. For a transaction that
    changed nothing COMMIT is the same, and the statements stay prepared."""
    if error is not None or not session.in_transaction():
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.info.get("reads_only"):
        try:
            session.commit()
        except SQLAlchemyError:
            session.rollback()


def create_empty_postgres_database(url: str) -> None:
    """Create the PostgreSQL database at `url` if missing and empty its public schema.

    For tests and benchmarks, which must start from nothing. Raises
    `sqlalchemy.exc.OperationalError` when the server cannot be reached.
    """
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()
    engine = create_engine(target)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
