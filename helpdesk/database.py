"""Database engine settings that depend on the backend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url


def configure_engine(engine: Engine, config: Mapping[str, Any]) -> None:
    """Turn on WAL and foreign keys for SQLite, and give it working transactions.

    pysqlite opens transactions lazily and breaks SAVEPOINT, which ingest relies
    on; SQLAlchemy's documented remedy is to switch its handling off and emit
    BEGIN ourselves.
    """
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
