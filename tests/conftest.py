"""Fixtures that build a real app on a real database: SQLite and PostgreSQL.

Every test that asks for `app` (or anything built on it) runs twice, once per
backend; its id says which ([sqlite] or [postgresql]). The schema is built by
the migrations, once per backend and session, and each test starts from empty
tables.
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
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
from helpdesk.database import create_empty_postgres_database
from helpdesk.extensions import db
from helpdesk.models import User

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
DEFAULT_PG_URL = "postgresql+psycopg://@127.0.0.1:5432/helpdesk_test"
PASSWORD = "correct horse battery"


def postgres_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG_URL


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


def pytest_report_header(config) -> str:
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


@pytest.fixture
def backend(app: Flask) -> str:
    return db.engine.dialect.name


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


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
