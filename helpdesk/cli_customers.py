"""`helpdesk customers export|erase`: a customer's data on request, and its erasure."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from helpdesk.extensions import db


@click.group(help="Customers' data: export on request, erase on request (GDPR).")
def customers() -> None:
    pass


@customers.command("export")
@click.argument("reference")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="file to write (default: standard output)")  # fmt: skip
@with_appcontext
def customers_export(reference: str, output) -> None:
    """Everything we hold about a customer (id, e-mail address or phone number), as JSON."""
    from helpdesk.cli import require_schema
    from helpdesk.errors import NotFound
    from helpdesk.services.events import record_event
    from helpdesk.services.privacy import export_customer, find_customer

    require_schema()
    try:
        customer = find_customer(reference)
    except NotFound as error:
        raise click.ClickException(str(error)) from None
    data = export_customer(customer)
    json.dump(data, output, ensure_ascii=False, indent=2)
    output.write("\n")
    record_event("customer.exported", customer=customer, actor="cli")
    db.session.commit()
    click.echo(
        f"exported customer {customer.id}: {len(data['tickets'])} tickets, "
        f"{len(data['orders'])} orders",
        err=True,
    )


@customers.command("erase")
@click.argument("reference")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@with_appcontext
def customers_erase(reference: str, yes: bool) -> None:
    """Delete a customer and their tickets; their orders stay, without their name."""
    from helpdesk.cli import require_schema
    from helpdesk.errors import NotFound
    from helpdesk.services.privacy import erase_customer, find_customer

    require_schema()
    try:
        customer = find_customer(reference)
    except NotFound as error:
        raise click.ClickException(str(error)) from None
    name = customer.display_name
    if not yes:
        click.confirm(f"Erase {name} (customer {customer.id}) and all their tickets?", abort=True)
    removed = erase_customer(customer, actor="cli")
    db.session.commit()
    click.echo(
        f"erased {name}: {removed['tickets']} tickets, {removed['messages']} messages; "
        f"{removed['orders_anonymised']} orders kept without personal data"
    )
