"""`helpdesk kpis`: the dashboard's numbers on the command line, and the metrics backfill."""

from __future__ import annotations

import json
from datetime import timedelta

import click
from flask.cli import with_appcontext

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db


@click.group(invoke_without_command=True)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]),
              help="First day (default: 29 days before --to).")  # fmt: skip
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: today).")
@click.option("--by", "group_by", default="channel", show_default=True,
              type=click.Choice(["channel", "agent", "team", "intent", "priority"]))  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print one table as CSV (see --table).")
@click.option("--table", default="groups", show_default=True,
              type=click.Choice(["groups", "daily", "weekly", "heatmap", "returns"]))  # fmt: skip
@click.pass_context
@with_appcontext
def kpis(ctx, start, end, group_by, as_json, as_csv, table) -> None:
    """Response times, resolution, SLA attainment and backlog per channel, agent, team or
    intent for the tickets created from --from to --to (days in Europe/Berlin); the same
    numbers as /kpis. Durations are in seconds."""
    if ctx.invoked_subcommand is not None:
        return
    from helpdesk.cli import require_schema
    from helpdesk.models.types import utcnow
    from helpdesk.services import kpis as service

    require_schema()
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    last = end.date() if end else utcnow().date()
    first = start.date() if start else last - timedelta(days=29)
    try:
        result = service.report(first, last, group_by=group_by)
    except InvalidInput as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.session.rollback()
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    if as_csv:
        click.echo(service.to_csv(*service.table(result, table)), nl=False)
        return
    click.echo(f"{first} to {last}, by {group_by} (first response, business hours)")
    click.echo(f"{group_by:<20} {'tickets':>8} {'median':>9} {'p90':>9} {'SLA':>6}")
    for row in [*result.rows, result.total]:
        stat = row.durations["first_response"]
        sla = f"{row.sla_attainment:.0%}" if row.sla_attainment is not None else "-"
        click.echo(f"{row.label[:20]:<20} {row.tickets:>8} {_hours(stat['median_bh']):>9} "
                   f"{_hours(stat['p90_bh']):>9} {sla:>6}")  # fmt: skip
    click.echo(f"backlog at the end: {result.backlog}")


def _hours(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 3600:.1f} h"


@kpis.command("recompute")
@click.option("--batch", default=500, show_default=True, help="Tickets per transaction.")
@with_appcontext
def recompute(batch: int) -> None:
    """Compute every ticket's stored metrics again (after an upgrade, or when the
    business hours or SLA policies changed)."""
    from helpdesk.cli import require_schema
    from helpdesk.services.ticket_metrics import recompute_all

    require_schema()
    done = recompute_all(batch=batch)
    click.echo(f"{done:,} tickets measured")
