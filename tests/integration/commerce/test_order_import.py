"""`helpdesk import-orders`: JSON and CSV in, exact cents, idempotent, bad orders reported."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import (
    Customer,
    Event,
    Invoice,
    Order,
    OrderItem,
    Shipment,
    Shop,
    Stock,
)
from helpdesk.services.orders import InvalidOrder, parse_cents, sync_order, upsert_order
from helpdesk.services.returns import ReturnLine, register_return

ORDERS = [
    {
        "number": "100457",
        "external_id": "A-100457",
        "email": "Helga.Brandt@Example.de",
        "name": "Helga Brandt",
        "postcode": "34117",
        "language": "de",
        "currency": "EUR",
        "placed_at": "2024-11-03T14:22:10+01:00",
        "financial_status": "pending",
        "items": [
            {
                "external_id": "L1",
                "sku": "SHOE-BLK-40",
                "name": "Sneaker Lauf",
                "size": "40",
                "colour": "Schwarz",
                "quantity": 1,
                "price": "89.95",
            },
            # 1.15 as a JSON number: through a float this would be 114 cents.
            {
                "external_id": "L2",
                "sku": "SOCK-3P",
                "name": "Socken 3er-Pack",
                "quantity": 2,
                "price": 1.15,
            },
        ],
        "shipments": [
            {
                "carrier": "DHL",
                "tracking_number": "00340434161094015902",
                "status": "in_transit",
                "shipped_at": "2024-11-04T09:12:44+01:00",
            },
        ],
        "invoices": [{"number": "RE-100457", "amount": "92.25", "due_date": "2024-11-17"}],
        "stock": [
            {"sku": "SHOE-BLK-41", "product": "Sneaker Lauf", "size": "41", "quantity": 3},
        ],
    },
    {
        "number": 100458,
        "email": "john.miller@example.com",
        "language": "en",
        "items": [{"sku": "SHIRT-WHT-M", "name": "T-Shirt Basic", "quantity": 1, "price": 19.99}],
    },
]


def write_json(tmp_path, orders, name="orders.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"orders": orders}, indent=2), encoding="utf-8")
    return path


def run_import(app, path, *extra):
    return app.test_cli_runner().invoke(args=["import-orders", str(path), *extra])


def counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Order, OrderItem, Shipment, Invoice, Stock, Customer, Event)
    }


def summary(result) -> str:
    return result.stdout.strip().splitlines()[-1]


def test_json_import_keeps_cents_exact_and_links_the_customer(app, tmp_path):
    result = run_import(app, write_json(tmp_path, ORDERS))

    assert result.exit_code == 0, result.output
    assert summary(result) == "2 orders: 2 new, 0 updated, 0 unchanged, 0 rejected"
    order = db.session.scalar(select(Order).where(Order.number == "100457"))
    assert order.shop.key == "default"
    assert [(i.sku, i.quantity, i.price_cents) for i in order.items] == [
        ("SHOE-BLK-40", 1, 8995),
        ("SOCK-3P", 2, 115),
    ]
    assert order.total_cents == 8995 + 2 * 115
    assert order.placed_at == datetime(2024, 11, 3, 13, 22, 10, tzinfo=UTC)
    assert order.email == "helga.brandt@example.de"
    assert order.customer.identity("email") == "helga.brandt@example.de"
    assert order.customer.language == "de"
    assert order.shipments[0].tracking_number == "00340434161094015902"
    invoice = order.invoices[0]
    assert (invoice.amount_cents, invoice.amount_due_cents, invoice.status) == (9225, 9225, "open")
    assert invoice.due_date == date(2024, 11, 17)
    assert db.session.get(Stock, (order.shop_id, "SHOE-BLK-41")).quantity == 3
    other = db.session.scalar(select(Order).where(Order.number == "100458"))
    assert other.items[0].price_cents == 1999 and other.currency == "EUR"
    created = db.session.scalars(select(Event.data).where(Event.kind == "order.created")).all()
    assert sorted(e["order"] for e in created) == ["100457", "100458"]


def test_importing_twice_changes_nothing_the_second_time(app, tmp_path):
    path = write_json(tmp_path, ORDERS)
    assert run_import(app, path).exit_code == 0
    before = counts()

    again = run_import(app, path)

    assert again.exit_code == 0, again.output
    assert summary(again) == "2 orders: 0 new, 0 updated, 2 unchanged, 0 rejected"
    assert counts() == before  # no rows, and no events either


def test_a_changed_order_is_updated_in_place_and_a_settled_invoice_releases_the_hold(app, tmp_path):
    assert run_import(app, write_json(tmp_path, ORDERS)).exit_code == 0
    order = db.session.scalar(select(Order).where(Order.number == "100457"))
    register_return(order, [ReturnLine(order.items[0], 1, "too_small")])
    db.session.commit()
    assert order.invoices[0].on_hold
    changed = json.loads(json.dumps(ORDERS))
    changed[0]["items"][1]["quantity"] = 3
    changed[0]["shipments"][0]["status"] = "delivered"
    changed[0]["invoices"][0]["amount_due"] = "0.00"
    before = counts()

    result = run_import(app, write_json(tmp_path, changed))

    assert summary(result) == "2 orders: 0 new, 1 updated, 1 unchanged, 0 rejected"
    after = counts()
    assert {k: after[k] - before[k] for k in after} == {
        "Order": 0,
        "OrderItem": 0,
        "Shipment": 0,
        "Invoice": 0,
        "Stock": 0,
        "Customer": 0,
        "Event": 2,  # order.updated and dunning.release
    }
    db.session.expire_all()
    invoice = order.invoices[0]
    assert invoice.status == "paid" and invoice.amount_due_cents == 0 and not invoice.on_hold
    assert order.items[1].quantity == 3 and order.total_cents == 8995 + 3 * 115
    assert order.shipments[0].status == "delivered"
    kinds = db.session.scalars(select(Event.kind).order_by(Event.id.desc()).limit(2)).all()
    assert set(kinds) == {"order.updated", "dunning.release"}


CSV = """number;email;name;language;placed_at;sku;item_name;size;quantity;price;carrier;tracking_number;invoice_number;invoice_amount;invoice_due_date
200001;anna@example.de;Anna Schulz;de;2024-11-01 10:00;JACKE-GRN-M;Regenjacke;M;1;129,90;DHL;00340434161094011111;RE-200001;149,85;17.11.2024
200002;ben@example.com;Ben Carter;en;2024-11-02T08:30:00Z;CAP-BLK;Cap;;1;15.00;;;;;
200001;anna@example.de;Anna Schulz;de;2024-11-01 10:00;SOCK-3P;Socken;;2;9,975;DHL;00340434161094011111;RE-200001;149,85;17.11.2024
200003;carla@example.de;Carla Voss;de;2024-11-03;MUETZE;Mütze;;zwei;12,00;;;;;
200001;anna@example.de;Anna Schulz;de;2024-11-01 10:00;GUERTEL;Gürtel;;1;9,95;DHL;00340434161094011111;RE-200001;149,85;17.11.2024
"""  # noqa: E501


def test_csv_rows_become_orders_and_bad_rows_are_reported_without_stopping(app, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(CSV.replace("9,975", "9,95"), encoding="utf-8-sig")  # with a BOM, as Excel

    result = run_import(app, path, "--shop", "lauf-und-stil")

    assert result.exit_code == 1, "anything rejected: exit status 1"
    assert summary(result) == "3 orders: 2 new, 0 updated, 0 unchanged, 1 rejected"
    assert "rejected orders.csv:5: items[0].quantity: 'zwei' is not a whole number" in result.stderr
    anna = db.session.scalar(select(Order).where(Order.number == "200001"))
    assert anna.shop.key == "lauf-und-stil"
    assert [(i.sku, i.quantity, i.price_cents) for i in anna.items] == [
        ("JACKE-GRN-M", 1, 12990),
        ("SOCK-3P", 2, 995),
        ("GUERTEL", 1, 995),
    ]
    assert len(anna.shipments) == 1 and anna.shipments[0].carrier == "DHL"
    assert anna.invoices[0].amount_cents == 14985
    assert anna.invoices[0].due_date == date(2024, 11, 17)
    assert anna.placed_at == datetime(2024, 11, 1, 10, 0, tzinfo=UTC)
    assert db.session.scalar(select(Order).where(Order.number == "200003")) is None
    before = counts()

    again = run_import(app, path, "--shop", "lauf-und-stil")

    assert again.exit_code == 1
    assert summary(again) == "3 orders: 0 new, 0 updated, 2 unchanged, 1 rejected"
    assert counts() == before


def test_a_price_that_is_not_money_names_its_line(app, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(CSV, encoding="utf-8")  # 9,975: a thousands separator or a typo?

    result = run_import(app, path)

    assert "rejected orders.csv:4: items[1].price: '9,975' is not an amount like 19.95" in (
        result.stderr
    )
    assert db.session.scalar(select(Order).where(Order.number == "200001")) is None
    assert db.session.scalar(select(Order).where(Order.number == "200002")) is not None


def test_rows_of_one_order_that_disagree_are_rejected(app, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "number,email,sku,price\n300001,a@example.com,A,1.00\n300001,b@example.com,B,2.00\n",
        encoding="utf-8",
    )
    result = run_import(app, path)
    assert result.exit_code == 1
    assert "orders.csv:3: email: 'b@example.com' here, but 'a@example.com' on orders.csv:2" in (
        result.stderr
    )


def test_bad_json_orders_are_reported_by_index_and_the_rest_go_in(app, tmp_path):
    orders = [
        ORDERS[1],
        "not an order",
        {"email": "nobody@example.com", "items": []},
        {"number": "9", "email": "not-an-address", "items": []},
        {"number": "10", "items": [{"sku": "X", "price": "-1.00"}]},
        {"number": "11", "items": [{"name": "no sku"}]},
        {"number": "12", "shipments": [{"carrier": "DHL"}]},
        {"number": "13", "invoices": [{"number": "RE-1", "status": "overdue"}]},
    ]
    result = run_import(app, write_json(tmp_path, orders))

    assert result.exit_code == 1
    assert summary(result) == "8 orders: 1 new, 0 updated, 0 unchanged, 7 rejected"
    for line in [
        "orders.json[1]: order: must be an object",
        "orders.json[2]: number: is required",
        "orders.json[3]: email: 'not-an-address' is not an e-mail address",
        "orders.json[4]: items[0].price: must not be negative",
        "orders.json[5]: items[0].sku: is required",
        "orders.json[6]: shipments[0].tracking_number: give tracking_number or external_id",
        "orders.json[7]: invoices[0].status: 'overdue' is not one of open, paid, cancelled",
    ]:
        assert line in result.stderr
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_a_file_that_is_neither_json_nor_csv_stops_before_anything_is_imported(app, tmp_path):
    broken = tmp_path / "orders.json"
    broken.write_text('[{"number": "1",', encoding="utf-8")
    result = run_import(app, broken)
    assert result.exit_code == 1
    assert "orders.json:1: not valid JSON" in result.stderr
    unknown = tmp_path / "orders.csv"
    unknown.write_text("number,colour_code\n1,red\n", encoding="utf-8")
    result = run_import(app, unknown)
    assert result.exit_code == 1 and "unknown columns colour_code" in result.stderr
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_an_invoice_number_of_another_order_is_refused_by_name(app):
    shop = Shop(key="s", name="S")
    db.session.add(shop)
    upsert_order(shop, {"number": "1", "invoices": [{"number": "RE-1", "amount": "5"}]})
    with pytest.raises(InvalidOrder, match=r"invoices\[0\]\.number: RE-1 belongs to order 1"):
        upsert_order(shop, {"number": "2", "invoices": [{"number": "RE-1"}]})


def test_items_are_matched_by_external_id_else_sku_and_never_duplicated(app):
    shop = Shop(key="s", name="S")
    db.session.add(shop)
    order, created = upsert_order(shop, {"number": "1", "items": [{"sku": "A", "price": "1"}]})
    assert created
    again = sync_order(
        shop,
        {"number": "1", "items": [{"external_id": "L1", "sku": "A"}, {"sku": "B", "price": 2}]},
    )
    assert again.outcome == "updated" and not again.created
    assert [(i.external_id, i.sku) for i in order.items] == [("L1", "A"), (None, "B")]
    third = sync_order(shop, {"number": "1", "items": [{"external_id": "L9", "sku": "A"}]})
    assert [(i.external_id, i.sku) for i in order.items] == [("L1", "A"), (None, "B"), ("L9", "A")]
    assert third.changes[0] == "items[0] added"


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        ("19.95", 1995),
        (19.95, 1995),
        (Decimal("0.1"), 10),
        ("19,95", 1995),
        (20, 2000),
        (" 1 234.50 ", 123450),
        ("0.30", 30),
        (0.3, 30),
    ],
)
def test_money_becomes_exact_cents(value, cents):
    assert parse_cents(value, "price") == cents


@pytest.mark.parametrize("value", ["1.234,56", "abc", "1.001", True, "NaN", "-0.01", [1]])
def test_money_that_is_not_money_is_refused(value):
    with pytest.raises(InvalidOrder, match="^price: "):
        parse_cents(value, "price")
