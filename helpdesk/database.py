"""Database engine settings that depend on the backend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


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
        connection.exec_driver_sql("BEGIN")
