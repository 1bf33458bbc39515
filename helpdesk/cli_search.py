"""`helpdesk search`: the full-text index beside the tickets."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group(help="Full-text search over tickets.")
def search() -> None:
    pass


@search.command("reindex")
@click.option("--batch", default=10_000, show_default=True, help="tickets per transaction")
@with_appcontext
def search_reindex(batch: int) -> None:
    """Build every ticket's search document again (triggers keep it current; this is for
    after a bulk load with the triggers off, or to be sure)."""
    from helpdesk.cli import require_schema
    from helpdesk.services.search import rebuild_index

    require_schema()
    click.echo(f"indexed {rebuild_index(batch=batch)} tickets")
