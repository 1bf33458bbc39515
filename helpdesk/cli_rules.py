"""`helpdesk rules`: list, export, import the automation rules, and install the defaults;
`helpdesk agents away`: mark an agent away (no new tickets) or back."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from helpdesk.extensions import db


@click.group(help="Automation rules: list, export and import as JSON, install the defaults.")
def rules() -> None:
    pass


@rules.command("list")
@with_appcontext
def rules_list() -> None:
    """The rules in the order they run."""
    from helpdesk.cli import require_schema
    from helpdesk.models import Rule

    require_schema()
    found = db.session.scalars(select(Rule).order_by(Rule.position, Rule.id)).all()
    if not found:
        click.echo("no rules yet; `helpdesk rules install-defaults` adds the shipped ones")
    for rule in found:
        flags = ", ".join(
            f for f, on in (("disabled", not rule.enabled), ("stop", rule.stop)) if on
        )
        click.echo(f"{rule.position:>5}  {rule.name}  [{', '.join(rule.events)}]"
                   + (f"  ({flags})" if flags else ""))  # fmt: skip


@rules.command("export")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def rules_export(path: Path | None) -> None:
    """Write every rule as JSON to PATH (default: standard output)."""
    from helpdesk.cli import require_schema
    from helpdesk.services.rules.store import export_json

    require_schema()
    text = export_json()
    if path is None:
        sys.stdout.write(text)
    else:
        path.write_text(text, encoding="utf-8")
        click.echo(f"exported to {path}", err=True)


@rules.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@with_appcontext
def rules_import(path: str) -> None:
    """Import rules from a JSON file ("-": standard input). Matched by name: existing rules
    are updated, new ones added; one mistake and nothing is imported."""
    from helpdesk.cli import require_schema
    from helpdesk.services.rules import RuleInvalid
    from helpdesk.services.rules.store import import_rules

    require_schema()
    raw = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    try:
        created, updated = import_rules(raw)
    except RuleInvalid as error:
        db.session.rollback()
        for problem in error.errors:
            click.echo(f"error: {problem}", err=True)
        raise click.exceptions.Exit(1) from None
    db.session.commit()
    click.echo(f"imported: {created} new, {updated} updated")


@rules.command("install-defaults")
@click.option("--returns-team", default="Returns", show_default=True)
@click.option("--care-team", default="Care", show_default=True)
@click.option(
    "--update", is_flag=True,
    help="also bring the shipped rules this install has up to date (after an upgrade); "
    "rules a person saved in the admin stay as they are",
)  # fmt: skip
@with_appcontext
def rules_install_defaults(returns_team: str, care_team: str, update: bool) -> None:
    """Add the shipped rules (and their teams) that are missing; edited ones stay."""
    from helpdesk.cli import require_schema
    from helpdesk.services.rules.defaults import install_default_rules, update_default_rules

    require_schema()
    added = install_default_rules(returns_team, care_team)
    updated, kept = update_default_rules(returns_team, care_team) if update else ([], [])
    db.session.commit()
    summary = f"{added} default rules added"
    if update:
        summary += f", {len(updated)} brought up to date"
        summary += f" ({', '.join(updated)})" if updated else ""
        summary += f"; kept as edited in the admin: {', '.join(kept)}" if kept else ""
    click.echo(summary)


@click.group(help="Agents' availability for assignment.")
def agents() -> None:
    pass


@agents.command("away")
@click.argument("email")
@click.option("--back", is_flag=True, help="available again")
@with_appcontext
def agents_away(email: str, back: bool) -> None:
    """Mark EMAIL away (round-robin skips them) or, with --back, available."""
    from helpdesk.cli import require_schema
    from helpdesk.models import User
    from helpdesk.services.events import record_event

    require_schema()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        raise click.ClickException(f"no user {email}")
    user.away = not back
    record_event("user.away" if user.away else "user.back", user=user, actor="cli")
    db.session.commit()
    click.echo(f"{email} is {'away' if user.away else 'available'}")
