"""`helpdesk webhooks`: the URLs we tell about events (the payment provider hears of
dunning holds this way)."""

from __future__ import annotations

import os

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from helpdesk.extensions import db


@click.group(help="Outbound webhooks: who hears of which events.")
def webhooks() -> None:
    pass


@webhooks.command("add")
@click.argument("name")
@click.option("--url", required=True, help="where we POST, e.g. https://pay.example/hooks")
@click.option("--secret-env", required=True, help="environment variable holding the secret")
@click.option("--event", "events", multiple=True, required=True,
              help="event type or pattern, repeatable: dunning.*, return.received")  # fmt: skip
@with_appcontext
def webhooks_add(name: str, url: str, secret_env: str, events: tuple[str, ...]) -> None:
    """Subscribe a URL to events; each call is signed (X-Helpdesk-Signature)."""
    from helpdesk.cli import require_schema
    from helpdesk.errors import InvalidInput
    from helpdesk.services.webhooks_out import add_endpoint

    require_schema()
    try:
        add_endpoint(name, url, secret_env, list(events))
    except InvalidInput as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    hint = "" if os.environ.get(secret_env) else f"; set {secret_env} where the worker runs"
    click.echo(f"added webhook {name} for {', '.join(events)}{hint}")


@webhooks.command("list")
@with_appcontext
def webhooks_list() -> None:
    """The endpoints with their queue: pending, sent and given-up deliveries."""
    from helpdesk.cli import require_schema
    from helpdesk.models import OutboxItem, WebhookEndpoint

    require_schema()
    endpoints = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    if not endpoints:
        click.echo("no webhooks yet; add one with `helpdesk webhooks add`")
    counts = {
        (row.endpoint, row.status): row.n
        for row in db.session.execute(
            select(
                OutboxItem.payload["endpoint_id"].as_integer().label("endpoint"),
                OutboxItem.status,
                func.count().label("n"),
            )
            .where(OutboxItem.kind == "webhook")
            .group_by("endpoint", OutboxItem.status)
        )
    }
    for endpoint in endpoints:
        state = "on" if endpoint.active else "off"
        queue = ", ".join(
            f"{counts.get((endpoint.id, status), 0)} {status}"
            for status in ("pending", "sent", "dead")
        )
        click.echo(f"{endpoint.name} ({state}): {endpoint.url} <- {', '.join(endpoint.events)}; "
                   f"secret ${endpoint.secret_env}; {queue}")  # fmt: skip
