"""Fixtures that build a real app on a real database: SQLite and PostgreSQL.

Every test that asks for `app` (or anything built on it) runs twice, once per
backend; its id says which ([sqlite] or [postgresql]). The schema is built by
the migrations, once per backend and session, and each test starts from empty
tables.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from helpdesk import create_app
from helpdesk.config import _development_secret
from helpdesk.database import create_empty_postgres_database
from helpdesk.extensions import db
from helpdesk.models import User

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
DEFAULT_PG_URL = "postgresql+psycopg://@127.0.0.1:5432/helpdesk_test"
PASSWORD = "correct horse battery"


def postgres_url() -> str:
    """The test database: TEST_DATABASE_URL's (or helpdesk_test), one per xdist worker.

    Under `pytest -n` each worker gets its own database (`helpdesk_test_gw0`, ...):
    tests empty every table and hold advisory locks, which two workers must not share.
    """
    url = make_url(os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG_URL)
    if worker := os.environ.get("PYTEST_XDIST_WORKER"):
        url = url.set(database=f"{url.database}_{worker}")
    return url.render_as_string(hide_password=False)


@functools.cache
def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used for the tests, or None. Only looks; changes nothing."""
    engine = create_engine(make_url(postgres_url()).set(database="postgres"))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as error:
        return str(error.orig or error).strip().splitlines()[0]
    finally:
        engine.dispose()
    return None


def _postgres_status() -> str:
    where = make_url(postgres_url()).render_as_string(hide_password=True)
    problem = postgres_problem()
    if problem is None:
        return f"postgresql: {where} (every store test runs on SQLite and on PostgreSQL)"
    consequence = "a failure under CI=true" if _in_ci() else "the [postgresql] runs are skipped"
    return f"postgresql: UNREACHABLE at {where} ({problem}); {consequence}"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def pytest_configure(config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_GroupScheduling(), "helpdesk-xdist-groups")
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        # Commands the tests start with HELPDESK_ENV=development create the secret in
        # instance/ on first use; under `pytest -n` two could race and one read it half
        # written. It is made here, once, before any worker starts.
        _development_secret()


#: Tests that run on one xdist worker, one after another (`make test` runs
#: `pytest -n 2 --dist loadgroup`), by the start of their id. The demo data and the trained
#: classifier are built once per worker that needs them; the fault tests start workers,
#: gunicorn and mail servers of their own and keep their timings to themselves. A test
#: missing here still passes; it only builds the same again on the other worker.
XDIST_GROUPS = {
    "tests/integration/faults/": "faults",
    "tests/integration/rules/test_with_trained_model.py": "trained-classifier",
    "tests/e2e/test_inbox_in_browser.py": "demo-data",
    "tests/integration/test_cli.py::test_demo_logins_work": "demo-data",
    "tests/integration/commerce/test_return_story.py::test_the_demo_tells": "demo-data",
}

#: Tests of half a minute or more (a real training, mostly). Under `pytest -n` they start
#: first, so that no worker is left with one of them at the end while the other idles.
RUN_FIRST = (
    "tests/unit/test_classifier_cli.py::test_train_then_classify",
    "tests/integration/test_intent_feedback.py::test_a_corrected_tag_changes",
    "tests/integration/api/test_openapi.py::test_the_api_keeps_what_its_document_promises",
    "tests/integration/test_kpis_demo.py::",
)


@pytest.hookimpl(trylast=True)  # after pytest has ordered the tests by backend
def pytest_collection_modifyitems(config, items) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker; every worker sorts alike
        items.sort(key=lambda item: not item.nodeid.startswith(RUN_FIRST))


class _GroupScheduling:
    """`--dist loadgroup` by XDIST_GROUPS. xdist's own reads `xdist_group` marks from
    test ids it rewrites, which pytest 9.2 no longer lets it do (pytest-xdist#1386)."""

    @staticmethod
    def pytest_xdist_make_scheduler(config, log):
        from xdist.scheduler import LoadGroupScheduling

        class Scheduling(LoadGroupScheduling):
            def _split_scope(self, nodeid: str) -> str:
                for prefix, group in XDIST_GROUPS.items():
                    if nodeid.startswith(prefix):
                        return group
                return super()._split_scope(nodeid)

        # Groups go out first (the largest first), then single tests in collection order.
        return Scheduling(config, log) if config.getvalue("dist") == "loadgroup" else None


def pytest_report_header(config) -> str:
    if getattr(config.option, "numprocesses", None):
        return _postgres_status() + "; each xdist worker adds its own suffix (_gw0, _gw1, ...)"
    return _postgres_status()


def pytest_terminal_summary(terminalreporter) -> None:
    if postgres_problem() is not None:
        terminalreporter.write_line(_postgres_status())


@pytest.fixture(scope="session")
def postgres_available() -> str:
    """The test database, created if missing and emptied: only when a test needs it."""
    if postgres_problem() is not None:
        message = "PostgreSQL is unreachable (see the postgresql: line)"
        if _in_ci():
            pytest.fail(message + "; under CI=true that is a failure", pytrace=False)
        pytest.skip(message)
    create_empty_postgres_database(postgres_url())
    return postgres_url()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'helpdesk.sqlite'}"
    return request.getfixturevalue("postgres_available")


class IsolatedClient(FlaskClient):
    """Runs each request in a fresh context, as a server does: its own application
    context, database session and `g`, not the ones the test itself has pushed.

    What the test prepared is committed first: a request sees only committed
    rows, and on SQLite an open transaction of the test would hold the write lock.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def _app(database_url: str) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "ENV": "testing",
            "SECRET_KEY": "tests-only",
            "SQLALCHEMY_DATABASE_URI": database_url,
            # Tests that want a model bring their own; a locally trained one must not leak in.
            "CLASSIFIER": "none",
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()  # the migrations build the schema, as `helpdesk db upgrade` does
    return app


@pytest.fixture
def app(_app: Flask) -> Iterator[Flask]:
    """The app with empty tables and an application context pushed."""
    with _app.app_context():
        _empty_tables()
        yield _app
        db.session.remove()


class StoreSnapshot:
    """The rows of every table of a test database, kept to be put back many times.

    Taken once from a store, restored into the same store after `app` has emptied it:
    every row, the trigger-maintained search index and the sequences come back as they
    were, in a fraction of a second. SQLite: a copy of the file (SQLite's online backup).
    PostgreSQL: a copy of each table in a schema of its own beside `public`, copied back
    with triggers and foreign-key checks off (`session_replication_role`, superusers only;
    for anyone else `taken` stays False and the caller loads the data again each time).
    Both work on `db.engine`, in the app context the test has pushed.
    """

    SCHEMA = "test_snapshot"

    def __init__(self, directory: Path) -> None:
        self.file = str(directory / "snapshot.sqlite")
        self.url = db.engine.url
        self.tables: list[str] = []
        self.columns: dict[str, str] = {}
        self.sequences: dict[str, int | None] = {}
        self.taken = False

    def take(self) -> None:
        db.session.remove()
        if db.engine.dialect.name == "sqlite":
            db.engine.dispose()  # the backup reads the file as our connections left it
            _sqlite_backup(db.engine.url.database, self.file)
            self.taken = True
            return
        with db.engine.begin() as conn:
            if not conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")):
                return
            conn.execute(text(f"DROP SCHEMA IF EXISTS {self.SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {self.SCHEMA}"))
            self.tables = list(
                conn.scalars(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                        " AND tablename <> 'alembic_version'"
                    )
                )
            )
            for table in self.tables:
                conn.execute(text(f"CREATE TABLE {self.SCHEMA}.{table} AS TABLE public.{table}"))
            # By name: a test that migrates down and up again may leave another column order.
            columns = conn.execute(
                text(
                    "SELECT table_name, string_agg(quote_ident(column_name), ', ')"
                    " FROM information_schema.columns WHERE table_schema = :schema"
                    " GROUP BY table_name"
                ),
                {"schema": self.SCHEMA},
            )
            self.columns = dict(columns.all())
            sequences = (
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            )
            self.sequences = dict(conn.execute(text(sequences)).all())
        self.taken = True

    def restore(self) -> None:
        """Put the rows back; the tables must be empty (the `app` fixture empties them)."""
        db.session.remove()
        if db.engine.dialect.name == "sqlite":
            db.engine.dispose()  # nothing of ours may be open while the file is replaced
            _sqlite_backup(self.file, db.engine.url.database)
            return
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in self.tables:
                columns = self.columns[table]
                conn.execute(
                    text(
                        f"INSERT INTO public.{table} ({columns})"
                        f" SELECT {columns} FROM {self.SCHEMA}.{table}"
                    )
                )
            for sequence, last_value in self.sequences.items():
                conn.execute(
                    text("SELECT setval(CAST(:name AS regclass), :value, :called)"),
                    {"name": f"public.{sequence}", "value": last_value or 1,
                     "called": last_value is not None},
                )  # fmt: skip

    def discard(self) -> None:
        Path(self.file).unlink(missing_ok=True)
        if self.tables:
            engine = create_engine(self.url)
            try:
                with engine.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {self.SCHEMA} CASCADE"))
            finally:
                engine.dispose()


def _sqlite_backup(source: str, target: str) -> None:
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


#: The demo data's snapshot per database URL. Not a session fixture: pytest tears those
#: down whenever the tests switch backend, which under xdist happens more than once.
_demo_snapshots: dict[str, StoreSnapshot] = {}


@pytest.fixture
def demo_data(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The store holds what `helpdesk demo-data` loads into an empty one.

    Loading takes 10-20 s, so it happens once per backend (and xdist worker); later tests
    get a copy of those rows, which they may change freely. The data is as old as that
    first load (minutes at most), not fresh from now.
    """
    from helpdesk.demo import load_demo_data

    key = db.engine.url.render_as_string()
    snapshot = _demo_snapshots.get(key)
    if snapshot is not None and snapshot.taken:
        snapshot.restore()
        return
    load_demo_data()
    db.session.commit()
    if snapshot is None:
        snapshot = _demo_snapshots[key] = StoreSnapshot(tmp_path_factory.mktemp("demo"))
        snapshot.take()


def pytest_sessionfinish(session) -> None:
    for snapshot in _demo_snapshots.values():
        snapshot.discard()


@pytest.fixture
def backend(app: Flask) -> str:
    return db.engine.dialect.name


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name != "postgresql":
        with db.engine.begin() as conn:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
        return
    # A browser test's server may still be answering a request of the previous test in a
    # thread of its own (werkzeug's shutdown does not wait for them): TRUNCATE then
    # deadlocks with it or waits for it, so it gives way and tries again shortly.
    for attempt in range(20):
        try:
            with db.engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '1s'"))
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return
        except OperationalError:
            if attempt == 19:
                raise
            time.sleep(0.25)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def make_user(role: str, email: str | None = None, **fields) -> User:
    user = User(
        email=email or f"{role}@shop.example",
        name=fields.pop("name", role.title()),
        role=role,
        **fields,
    )
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in(client: FlaskClient, email: str, password: str = PASSWORD):
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
    )


@pytest.fixture(params=["agent", "lead", "social", "admin"])
def role(request) -> str:
    return request.param


def signed_in_client(app: Flask, role: str) -> FlaskClient:
    """A client signed in as a new user with `role` (e-mail `<role>@shop.example`)."""
    client = app.test_client()
    make_user(role)
    assert log_in(client, f"{role}@shop.example").status_code == 302
    return client


@pytest.fixture
def agent_client(app: Flask) -> FlaskClient:
    return signed_in_client(app, "agent")


@pytest.fixture
def admin_client(app: Flask) -> FlaskClient:
    return signed_in_client(app, "admin")


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the public test data is not at {SHARED_DATA}; clone beside ../shared")
    return SHARED_DATA
