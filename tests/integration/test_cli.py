"""The `helpdesk` command: users, demo data, stats, and `run` serving the app with its worker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Customer, Event, Message, Ticket, User


def test_users_create_makes_a_user_who_can_sign_in(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Jana@Shop.example",
            "--role",
            "lead",
            "--name",
            "Jana",
            "--password",
            "a long passphrase",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "created lead jana@shop.example" in result.output
    user = db.session.scalar(select(User).where(User.email == "jana@shop.example"))
    assert user.role == "lead" and user.check_password("a long passphrase")
    assert db.session.scalar(select(Event.kind).where(Event.user_id == user.id)) == "user.created"


def test_users_create_explains_what_is_wrong(app):
    runner = app.test_cli_runner()
    args = ["users", "create", "a@shop.example", "--password"]
    short = runner.invoke(args=[*args, "short"])
    assert short.exit_code == 2 and "at least 12 characters" in short.output
    runner.invoke(args=[*args, "long enough pw"])
    again = runner.invoke(args=[*args, "long enough pw"])
    assert again.exit_code == 1 and "exists already" in again.output
    bad_role = runner.invoke(args=[*args, "long enough pw", "--role", "boss"])
    assert bad_role.exit_code == 2 and "'boss' is not one of" in bad_role.output


def test_demo_data_covers_every_channel_in_both_languages_and_loads_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    assert first.output.strip().splitlines()[-1].startswith("demo data: 54 conversations")
    stats = json.loads(runner.invoke(args=["stats", "--json"]).output)

    tickets = stats["tickets"]
    assert set(tickets["by_family"]) == {"email", "chat", "social", "phone"}
    assert set(tickets["by_channel"]) == {
        "email",
        "chat",
        "messenger",
        "instagram",
        "whatsapp",
        "x",
        "phone",
    }
    for family, languages in tickets["by_family_and_language"].items():
        assert {"de", "en"} <= set(languages), family
    assert stats["messages"]["total"] == db.session.scalar(select(func.count(Message.id)))
    assert set(stats["messages"]["by_direction"]) == {"inbound", "outbound", "note"}

    # Customers who wrote on more than one channel are one customer.
    multi = db.session.execute(
        select(Ticket.customer_id)
        .group_by(Ticket.customer_id)
        .having(func.count(func.distinct(Ticket.channel)) > 1)
    ).all()
    assert len(multi) >= 6
    assert stats["customers"] == db.session.scalar(
        select(func.count(Customer.id)).where(Customer.merged_into_id.is_(None))
    )

    again = runner.invoke(args=["demo-data"])
    assert "already loaded" in again.output
    assert json.loads(runner.invoke(args=["stats", "--json"]).output) == stats


def test_demo_logins_work(demo_data):
    for email in (
        "agent@example.com",
        "lead@example.com",
        "social@example.com",
        "admin@example.com",
    ):
        assert db.session.scalar(select(User).where(User.email == email)).check_password("demo")


def test_commands_say_what_to_do_when_the_schema_is_missing(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}",
        "HELPDESK_ENV": "development",
    }
    done = subprocess.run(
        [sys.executable, "-m", "helpdesk", "stats"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "has no schema yet. Run: helpdesk db upgrade" in done.stderr


def test_help_lists_the_commands():
    done = subprocess.run(
        [sys.executable, "-m", "helpdesk", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HELPDESK_ENV": "development"},
    )
    for command in ("db", "users", "demo-data", "run", "worker", "stats"):
        assert f"  {command} " in done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_refuses_a_port_something_listens_on(app):
    """gunicorn with --reuse-port would share the port with another server instead of
    failing to start: `helpdesk run` checks first and says so."""
    import socket

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = app.test_cli_runner().invoke(args=["run", "--port", str(port)])
    assert result.exit_code == 1
    assert f"127.0.0.1:{port} is in use (another `helpdesk run`?)" in result.output


def test_run_serves_the_login_page_and_starts_the_worker(app):
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": str(db.engine.url.render_as_string(hide_password=False)),
        "HELPDESK_ENV": "development",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "helpdesk", "run", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        page = None
        while time.monotonic() < deadline and page is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
                    page = r.read().decode()
            except OSError:
                time.sleep(0.3)
        assert page is not None, "nothing answered on the port"
        assert 'name="password"' in page
        while time.monotonic() < deadline and not any("worker started" in x for x in lines):
            time.sleep(0.2)  # the worker may come up after the web server
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        reader.join(timeout=10)
    output = "".join(lines)
    assert f"helpdesk is starting on http://127.0.0.1:{port}/" in output
    assert "worker started" in output
    assert process.returncode == 0, output
