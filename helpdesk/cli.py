"""The `helpdesk` command: Flask's CLI group with the helpdesk's own commands."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, routes_command, shell_command, with_appcontext
from sqlalchemy import inspect, select

from helpdesk.cli_classifier import classifier, classify
from helpdesk.cli_customers import customers
from helpdesk.cli_kpis import kpis
from helpdesk.cli_rules import agents, rules
from helpdesk.cli_search import search
from helpdesk.cli_shops import shops
from helpdesk.cli_webhooks import webhooks
from helpdesk.config import ConfigurationError
from helpdesk.extensions import db
from helpdesk.models import ROLES, User
from helpdesk.services.events import record_event
from helpdesk.services.login_guard import password_problem

DEMO_LOGINS = ("agent@example.com", "lead@example.com", "social@example.com", "admin@example.com")


def main() -> None:
    from helpdesk import create_app

    cli = FlaskGroup(
        create_app=create_app,
        add_default_commands=False,
        help="helpdesk: the omnichannel customer-care helpdesk. Commands below; "
        "'helpdesk COMMAND --help' tells more.",
    )
    cli.add_command(shell_command)
    cli.add_command(routes_command)
    try:
        cli.main(prog_name="helpdesk")
    except ConfigurationError as error:
        # The one error a newcomer meets first: say what to do, not where it was raised.
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(1) from None


def require_schema() -> None:
    """Stop with what to do next when the database has no tables yet."""
    present = inspect(db.session.connection()).has_table("alembic_version")
    # A look, not a transaction to keep: on SQLite an open one holds the write lock, and
    # long-running commands (worker, poll-mail) would keep it for as long as they run.
    db.session.rollback()
    if not present:
        raise click.ClickException(
            f"the database at {db.engine.url.render_as_string(hide_password=True)} has no schema "
            "yet. Run: helpdesk db upgrade"
        )


def register_commands(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo_data)
    app.cli.add_command(run)
    app.cli.add_command(worker)
    app.cli.add_command(stats)
    app.cli.add_command(mailbox)
    app.cli.add_command(poll_mail)
    app.cli.add_command(import_mail)
    app.cli.add_command(import_orders)
    app.cli.add_command(classify)
    app.cli.add_command(classifier)
    app.cli.add_command(returns)
    app.cli.add_command(webhooks)
    app.cli.add_command(customers)
    app.cli.add_command(shops)
    app.cli.add_command(search)
    app.cli.add_command(kpis)
    app.cli.add_command(rules)
    app.cli.add_command(agents)


@click.group(help="Manage the people who sign in.")
def users() -> None:
    pass


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@click.option("--name", help="Display name (default: the part of EMAIL before @).")
@click.option("--language", type=click.Choice(["de", "en"]), default="en", show_default=True)
@click.password_option(help="Prompted for when not given.")
@with_appcontext
def users_create(email: str, role: str, name: str | None, language: str, password: str) -> None:
    """Create a user who can sign in."""
    require_schema()
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("needs an e-mail address", param_hint="EMAIL")
    problem = password_problem(password, email)
    if problem:
        raise click.BadParameter(problem, param_hint="--password")
    if db.session.scalar(select(User).where(User.email == email)):
        raise click.ClickException(f"{email} exists already; choose another address")
    user = User(email=email, name=name or email.split("@")[0], role=role, language=language)
    user.set_password(password)
    db.session.add(user)
    record_event("user.created", user=user, actor="cli", role=role)
    db.session.commit()
    click.echo(f"created {role} {email}")


@users.command("token")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for, e.g. 'shop ERP'.")
@with_appcontext
def users_token(email: str, name: str) -> None:
    """Create an API token acting as EMAIL's user; it is printed once, and only its hash kept."""
    from helpdesk.api import issue_token

    require_schema()
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {email}; create one with `helpdesk users create`")
    token = issue_token(user, name)
    record_event("api_token.created", user=user, actor="cli", name=name)
    db.session.commit()
    click.echo(f"API token {name!r} for {user.email} ({user.role}), shown only now:", err=True)
    click.echo(token)


@users.command("revoke-token")
@click.argument("email")
@click.option("--name", required=True, help="The name the token was created with.")
@with_appcontext
def users_revoke_token(email: str, name: str) -> None:
    """Revoke EMAIL's API tokens named NAME; requests with them are refused from now on."""
    from helpdesk.models import ApiToken
    from helpdesk.models.types import utcnow

    require_schema()
    tokens = db.session.scalars(
        select(ApiToken)
        .join(User)
        .where(User.email == email.strip().lower(), ApiToken.name == name)
        .where(ApiToken.revoked_at.is_(None))
    ).all()
    if not tokens:
        raise click.ClickException(f"{email} has no active token named {name!r}")
    for token in tokens:
        token.revoked_at = utcnow()
        record_event("api_token.revoked", user=token.user, actor="cli", name=name)
    db.session.commit()
    click.echo(f"revoked {len(tokens)} token(s) {name!r} of {email}")


@click.command("demo-data")
@with_appcontext
def demo_data() -> None:
    """Load realistic German and English demo conversations on every channel."""
    from helpdesk.demo import load_demo_data
    from helpdesk.demo.conversations import CONVERSATIONS

    require_schema()
    with click.progressbar(
        length=len(CONVERSATIONS),
        label="loading demo conversations",
        file=sys.stderr,
        item_show_func=lambda c: f"{c.channel}: {c.subject[:40]}" if c else "",
    ) as bar:
        summary = load_demo_data(on_progress=lambda item: bar.update(1, item))
    db.session.commit()
    click.echo(summary)


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def stats(as_json: bool) -> None:
    """Counts of tickets by channel and status, messages, customers, quarantined inputs."""
    from helpdesk.services.stats import store_stats

    require_schema()
    figures = store_stats()
    if as_json:
        click.echo(json.dumps(figures, indent=2, sort_keys=True))
        return
    tickets = figures["tickets"]
    click.echo(f"tickets:     {tickets['total']}")
    for label in ("by_family", "by_channel", "by_status", "by_language"):
        parts = ", ".join(f"{k} {v}" for k, v in sorted(tickets[label].items()))
        click.echo(f"  {label.removeprefix('by_'):<10} {parts}")
    click.echo(f"messages:    {figures['messages']['total']}")
    click.echo(f"customers:   {figures['customers']}")
    click.echo(f"quarantined: {figures['quarantined']}")


@click.command("worker")
@with_appcontext
def worker() -> None:
    """Run the background jobs (mail polling, outbox delivery, SLA checks) until stopped."""
    from helpdesk.scheduler import run_worker

    require_schema()
    db.session.remove()
    run_worker(current_app._get_current_object())


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn web workers")
@click.option(
    "--threads",
    default=32,
    show_default=True,
    type=int,
    help="threads per web worker; each open live stream (a browser tab) holds one",
)
@with_appcontext
def run(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the web UI (gunicorn) and run the worker beside it, on this machine."""
    if _listening(host, port):
        # With --reuse-port gunicorn would share the port with it instead of failing.
        raise click.ClickException(
            f"{host}:{port} is in use (another `helpdesk run`?): stop it, or pass --port"
        )
    require_schema()
    demo = db.session.scalars(select(User.email).where(User.email.in_(DEMO_LOGINS))).all()
    db.session.remove()
    processes = [
        subprocess.Popen([sys.executable, "-m", "helpdesk", "worker"]),
        subprocess.Popen(gunicorn_command(host, port, workers=workers, threads=threads)),
    ]
    click.echo(f"\nhelpdesk is starting on http://{host}:{port}/  (Ctrl-C stops it)")
    if demo:
        click.echo(f"demo logins (password 'demo'): {', '.join(sorted(demo))}\n")
    _supervise(processes)


def _listening(host: str, port: int) -> bool:
    """Whether something listens on host:port already (a bind without SO_REUSEPORT fails)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no one
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


#: How the web workers take connections; bench/webhooks.py starts gunicorn with these too.
#: Threaded workers: a live stream (/live/stream) stays open for up to a minute, which
#: would block a sync worker and get it killed by gunicorn's timeout. A listening socket
#: of its own for each worker (SO_REUSEPORT; the kernel spreads new connections over
#: them): on one shared socket the first worker awake accepts most of a burst, and a
#: kept-alive connection stays with it, so under load one worker (one GIL, one core at
#: most) served 60-98 % of the requests while the other core idled (bench/RESULTS.md).
#: The price: a second `helpdesk run` on the same port and user shares it instead of
#: failing to start, and connections waiting on a worker that dies are reset.
GUNICORN_WORKER_OPTIONS = ("--worker-class", "gthread", "--reuse-port")


def gunicorn_command(host: str, port: int, *, workers: int, threads: int) -> list[str]:
    """gunicorn for `helpdesk run` (see GUNICORN_WORKER_OPTIONS)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        *GUNICORN_WORKER_OPTIONS,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--bind",
        f"{host}:{port}",
        "--access-logfile",
        "-",
        "helpdesk:create_app()",
    ]


def _supervise(processes: list[subprocess.Popen]) -> None:
    """Wait until one process ends or we are interrupted, then stop them all."""
    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    failed = [p for p in processes if p.returncode not in (0, -signal.SIGTERM, None)]
    if failed and not stopping:
        raise click.ClickException(
            "a process stopped unexpectedly (exit code "
            f"{failed[0].returncode}); see its messages above"
        )


@click.group(help="The IMAP mailboxes the helpdesk reads.")
def mailbox() -> None:
    pass


@mailbox.command("add")
@click.argument("name")
@click.option("--host", required=True)
@click.option("--port", type=int, help="default 993 for ssl, 143 otherwise")
@click.option(
    "--security", type=click.Choice(["ssl", "starttls", "none"]), default="ssl", show_default=True
)
@click.option("--username", required=True)
@click.option(
    "--password-env",
    required=True,
    metavar="VAR",
    help="name of the environment variable that holds the password",
)
@click.option("--folder", default="INBOX", show_default=True)
@click.option("--processed-folder", help="move processed mail here instead of flagging it seen")
@click.option("--address", help="the mailbox's e-mail address, used as From (default: username)")
@click.option("--from-name", help='display name on replies, e.g. "Shop Kundenservice"')
@click.option(
    "--acknowledge/--no-acknowledge",
    default=False,
    help="send an automatic acknowledgement for new tickets",
)
@with_appcontext
def mailbox_add(
    name: str,
    host: str,
    port: int | None,
    security: str,
    username: str,
    password_env: str,
    folder: str,
    processed_folder: str | None,
    address: str | None,
    from_name: str | None,
    acknowledge: bool,
) -> None:
    """Add a mailbox to read, e.g. service@ or returns@."""
    from helpdesk.errors import InvalidInput
    from helpdesk.services.mailboxes import add_mailbox

    require_schema()
    try:
        add_mailbox(
            name,
            address=address or username,
            host=host,
            port=port or (993 if security == "ssl" else 143),
            security=security,
            username=username,
            password_env=password_env,
            folder=folder,
            processed_folder=processed_folder,
            from_name=from_name,
            acknowledge=acknowledge,
        )
    except InvalidInput as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"added mailbox {name}; `helpdesk poll-mail --once` reads it now")


@mailbox.command("list")
@with_appcontext
def mailbox_list() -> None:
    """The mailboxes with their health: last success and last error."""
    from helpdesk.services.mailboxes import mailboxes

    require_schema()
    boxes = mailboxes(enabled_only=False)
    if not boxes:
        click.echo("no mailboxes yet; add one with `helpdesk mailbox add`")
    for box in boxes:
        config = box.config
        ok = box.last_success_at.isoformat(timespec="seconds") if box.last_success_at else "never"
        click.echo(
            f"{box.name}: {config['address']} via {config['host']}:{config['port']} "
            f"({config['security']}), folder {config['folder']}, "
            f"last UID {box.state.get('last_uid', '-')}, last success {ok}"
            + (f", LAST ERROR: {box.last_error}" if box.last_error else "")
        )


@click.command("poll-mail")
@click.option("--once", is_flag=True, help="read every mailbox once and stop")
@with_appcontext
def poll_mail(once: bool) -> None:
    """Read the mailboxes: once, or continuously (IDLE) until stopped."""
    from channel_adapters.base import AdapterError
    from helpdesk.errors import HelpdeskError
    from helpdesk.services.mail_intake import poll_mailbox
    from helpdesk.services.mailboxes import mailboxes

    require_schema()
    boxes = mailboxes()
    if not boxes:
        raise click.ClickException("no mailboxes configured; add one with `helpdesk mailbox add`")
    if not once:
        from helpdesk.scheduler import MailWatchers

        watchers = MailWatchers(current_app._get_current_object())
        watchers.ensure()
        click.echo(f"watching {len(boxes)} mailboxes (Ctrl-C stops)", err=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            watchers.shutdown()
        return
    failures = 0
    for box in boxes:
        try:
            result = poll_mailbox(
                box, on_mail=lambda outcome, n=box.name: click.echo(f"{n}: {outcome}", err=True)
            )
        except (AdapterError, HelpdeskError) as error:
            failures += 1
            click.echo(f"{box.name}: FAILED: {error}")
            continue
        click.echo(f"{box.name}: {result.report}")
    if failures:
        raise click.ClickException(f"{failures} of {len(boxes)} mailboxes could not be read")


@click.command("import-mail")
@click.argument("path", type=click.Path(exists=True))
@with_appcontext
def import_mail(path: str) -> None:
    """Import a Maildir, an mbox file or a folder of .eml files; twice adds nothing."""
    from helpdesk.services.mail_import import import_mail as run_import
    from helpdesk.services.mail_import import mail_sources

    require_schema()
    sources = mail_sources(path)
    with click.progressbar(length=len(sources), label="importing mail", file=sys.stderr) as bar:
        report = run_import(path, sources=sources, on_mail=lambda _outcome: bar.update(1))
    click.echo(f"import-mail: {report}")


@click.group(help="Returns: figures for the KPI dashboard.")
def returns() -> None:
    pass


@returns.command("reasons")
@click.option(
    "--from",
    "start",
    type=click.DateTime(["%Y-%m-%d"]),
    help="First day (default: the start of the 12th week or month back from --to).",
)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: today).")
@click.option("--by", type=click.Choice(["week", "month"]), default="week", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of rows.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header line.")
@with_appcontext
def returns_reasons(start, end, by: str, as_json: bool, as_csv: bool) -> None:
    """Returned pieces per reason and week or month, by the day the return was requested."""
    import csv
    import io

    from helpdesk.errors import InvalidInput
    from helpdesk.models.types import utcnow
    from helpdesk.services.return_stats import periods_back, return_reasons

    require_schema()
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    last = end.date() if end else utcnow().date()
    first = start.date() if start else periods_back(last, 12, by)
    try:
        rows = [row.as_dict() for row in return_reasons(first, last, by=by)]
    except InvalidInput as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif as_csv:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["period", "reason", "items", "share"])
        writer.writeheader()
        writer.writerows(rows)
        click.echo(out.getvalue(), nl=False)
    elif not rows:
        click.echo(f"no returns requested from {first} to {last}")
    else:
        click.echo(f"{'period':<9} {'reason':<17} {'items':>6} {'share':>6}")
        for row in rows:
            click.echo(f"{row['period']:<9} {row['reason']:<17} {row['items']:>6} "
                       f"{row['share']:>6.0%}")  # fmt: skip


@click.command("import-orders")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--shop", "shop_key", metavar="KEY", help="The shop's key (default: 'default').")
@with_appcontext
def import_orders(file: str, shop_key: str | None) -> None:
    """Import orders from a JSON or CSV file (columns: see README); twice changes nothing.

    Rejected orders are listed with file, line or index and reason, the rest go in,
    and the exit status is 1 when anything was rejected.
    """
    from helpdesk.errors import InvalidInput
    from helpdesk.services.order_import import import_orders as run_import
    from helpdesk.services.order_import import read_orders
    from helpdesk.services.orders import default_shop, shop_by_key

    require_schema()
    try:
        sources = read_orders(file)
        shop = shop_by_key(shop_key) if shop_key else default_shop()
    except InvalidInput as error:
        raise click.ClickException(str(error)) from None
    with click.progressbar(
        length=len(sources), label="importing orders", file=sys.stderr,
        hidden=not sys.stderr.isatty(),
    ) as bar:  # fmt: skip
        report = run_import(sources, shop, on_order=lambda *_: bar.update(1))
    for rejection in report.rejected:
        click.echo(f"rejected {rejection}", err=True)
    click.echo(str(report))
    if report.rejected:
        click.get_current_context().exit(1)
