"""`helpdesk shops`: the shops orders belong to, and their settings."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from helpdesk.extensions import db


@click.group(help="Shops: names and whether customers hear of their returns' progress.")
def shops() -> None:
    pass


@shops.command("list")
@with_appcontext
def shops_list() -> None:
    """Each shop with its order count and notification setting."""
    from helpdesk.cli import require_schema
    from helpdesk.models import Order, Shop

    require_schema()
    rows = db.session.execute(
        select(Shop, func.count(Order.id)).outerjoin(Order).group_by(Shop.id).order_by(Shop.key)
    ).all()
    if not rows:
        click.echo("no shops yet; orders create them (`helpdesk import-orders`, API, Shopify)")
    for shop, orders in rows:
        notifications = "on" if shop.return_notifications else "off"
        click.echo(
            f"{shop.key}: {shop.name}, {orders} orders, return notifications {notifications}"
        )


@shops.command("set")
@click.argument("key")
@click.option("--name", help="the name customers see in notifications")
@click.option("--return-notifications", type=click.Choice(["on", "off"]),
              help="tell customers when their return is on its way, arrived, refunded")  # fmt: skip
@with_appcontext
def shops_set(key: str, name: str | None, return_notifications: str | None) -> None:
    """Change a shop's name or switch its return notifications on or off."""
    from helpdesk.cli import require_schema
    from helpdesk.models import Shop
    from helpdesk.services.events import record_event

    require_schema()
    shop = db.session.scalar(select(Shop).where(Shop.key == key))
    if shop is None:
        raise click.ClickException(f"no shop {key!r}; `helpdesk shops list` shows them")
    changes = {}
    if name:
        shop.name = changes["name"] = name
    if return_notifications:
        shop.return_notifications = changes["return_notifications"] = return_notifications == "on"
    if not changes:
        raise click.ClickException("nothing to change: give --name or --return-notifications")
    record_event("shop.updated", actor="cli", shop=key, **changes)
    db.session.commit()
    click.echo(f"{key}: " + ", ".join(f"{k} = {v}" for k, v in changes.items()))
