"""How a request's transaction ends: a transaction that only read commits (so psycopg
keeps its prepared statements), one that wrote is never committed behind a view's back."""

from __future__ import annotations

from sqlalchemy import func, select, text

from helpdesk.database import end_transaction
from helpdesk.extensions import db
from helpdesk.models import Team
from tests.conftest import log_in, make_user


def test_a_page_that_only_read_leaves_its_statements_prepared(app, client, backend):
    make_user("agent", "julia@shop.example")
    db.session.commit()
    db.session.remove()
    db.engine.dispose()  # one connection from here on: the pages' and then this test's
    log_in(client, "julia@shop.example")
    for _ in range(8):  # psycopg prepares a statement from its fifth use on
        assert client.get("/inbox").status_code == 200
    if backend == "postgresql":
        assert db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements")) > 0


def test_a_transaction_that_wrote_is_left_to_roll_back(app):
    db.session.execute(
        text("INSERT INTO teams (name, created_at) VALUES ('Retouren', CURRENT_TIMESTAMP)")
    )
    end_transaction(db.session(), None)  # what the teardown does after a view that wrote
    db.session.remove()  # Flask-SQLAlchemy's teardown: the transaction rolls back
    assert db.session.scalar(select(func.count()).select_from(Team)) == 0


def test_a_failed_request_rolls_back_even_when_it_only_read(app):
    db.session.execute(select(Team))
    end_transaction(db.session(), RuntimeError("the view failed"))
    assert db.session().in_transaction()  # untouched: the removal rolls it back
