"""`helpdesk import-orders FILE`: orders from a JSON or CSV export, through `sync_order`.

JSON is a list of order dicts (see `helpdesk.services.orders`) or {"orders": [...]}.
CSV has one row per item; the order's columns repeat on each of its rows, and rows
belong to the order whose `number` they carry (they need not be next to each other).
Each order is applied in a savepoint: a bad one is reported with file, line or index
and the reason, and the rest go in. Running the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import Shop
from helpdesk.services.orders import InvalidOrder, sync_order

COMMIT_EVERY = 100

#: CSV column -> order field. `number` is required; `order_number` is accepted for it.
ORDER_COLUMNS = {
    "number": "number",
    "order_number": "number",
    "external_id": "external_id",
    "email": "email",
    "name": "name",
    "postcode": "postcode",
    "language": "language",
    "currency": "currency",
    "placed_at": "placed_at",
    "status": "status",
    "financial_status": "financial_status",
    "fulfillment_status": "fulfillment_status",
    "total": "total",
}
ITEM_COLUMNS = {
    "item_external_id": "external_id",
    "sku": "sku",
    "item_name": "name",
    "size": "size",
    "colour": "colour",
    "quantity": "quantity",
    "price": "price",
}
SHIPMENT_COLUMNS = {
    "shipment_external_id": "external_id",
    "carrier": "carrier",
    "tracking_number": "tracking_number",
    "tracking_url": "tracking_url",
    "shipment_status": "status",
    "shipped_at": "shipped_at",
    "delivered_at": "delivered_at",
}
INVOICE_COLUMNS = {
    "invoice_number": "number",
    "invoice_amount": "amount",
    "invoice_amount_due": "amount_due",
    "invoice_due_date": "due_date",
    "invoice_reminder_level": "reminder_level",
    "invoice_status": "status",
}
#: With `stock_quantity`, the row's SKU is also a stock row (for exchanges).
STOCK_COLUMNS = {"product": "product", "stock_quantity": "quantity"}
CSV_COLUMNS = (
    *ORDER_COLUMNS,
    *ITEM_COLUMNS,
    *SHIPMENT_COLUMNS,
    *INVOICE_COLUMNS,
    *STOCK_COLUMNS,
)


class ImportFileError(InvalidInput):
    """The file as a whole cannot be read; nothing was imported."""


@dataclass
class OrderSource:
    """One order as found in the file, with where it was found for the report."""

    where: str  # "orders.json[3]" or "orders.csv:7"
    data: Any
    lines: dict[str, str] = field(default_factory=dict)  # "items[1]" -> "orders.csv:9"
    error: InvalidOrder | None = None  # e.g. two rows of one order disagree

    def locate(self, error: InvalidOrder) -> str:
        """Where in the file the field named by `error` came from."""
        head = error.field.split(".", 1)[0]
        return self.lines.get(head, self.where)


@dataclass
class Rejection:
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.rejected)

    def __str__(self) -> str:
        return (
            f"{self.total:,} orders: {self.created:,} new, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged, {len(self.rejected):,} rejected"
        )


def read_orders(path: str | Path) -> list[OrderSource]:
    """Every order in the JSON or CSV file at `path`; raises `ImportFileError` when the file
    cannot be read at all."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel writes a byte-order mark
    except UnicodeDecodeError as error:
        raise ImportFileError(f"{path.name} is not UTF-8 text ({error.reason})") from None
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" or stripped.startswith(("[", "{")):
        return _read_json(path.name, text)
    if path.suffix.lower() in (".csv", ".txt", "") or "," in stripped or ";" in stripped:
        return _read_csv(path.name, text)
    raise ImportFileError(f"{path.name}: expected JSON or CSV")


def import_orders(
    sources: list[OrderSource],
    shop: Shop,
    *,
    on_order: Callable[[OrderSource, str, Rejection | None], None] | None = None,
) -> ImportReport:
    """Apply every order of `sources` to `shop`, each in a savepoint; commit as it goes."""
    report = ImportReport()
    for number, source in enumerate(sources, start=1):
        rejection = None
        try:
            if source.error is not None:
                raise source.error
            with db.session.begin_nested():
                result = sync_order(shop, source.data, actor="import")
        except InvalidOrder as error:
            rejection = Rejection(source.locate(error), str(error))
        except InvalidInput as error:
            rejection = Rejection(source.where, str(error))
        if rejection is not None:
            report.rejected.append(rejection)
            outcome = "rejected"
        else:
            outcome = result.outcome
            setattr(report, outcome, getattr(report, outcome) + 1)
        if on_order:
            on_order(source, outcome, rejection)
        if number % COMMIT_EVERY == 0:
            db.session.commit()
    db.session.commit()
    return report


def _read_json(name: str, text: str) -> list[OrderSource]:
    try:
        # Decimal, not float: "19.99" must stay 1999 cents.
        document = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise ImportFileError(f"{name}:{error.lineno}: not valid JSON: {error.msg}") from None
    if isinstance(document, dict) and isinstance(document.get("orders"), list):
        document = document["orders"]
    if not isinstance(document, list):
        raise ImportFileError(f'{name}: expected a list of orders or {{"orders": [...]}}')
    return [OrderSource(f"{name}[{index}]", order) for index, order in enumerate(document)]


def _read_csv(name: str, text: str) -> list[OrderSource]:
    header = text.split("\n", 1)[0]
    # German spreadsheets separate with ";" (the comma is their decimal sign).
    delimiter = max((",", ";", "\t"), key=header.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = [(c or "").strip().lower() for c in reader.fieldnames or []]
    reader.fieldnames = columns
    if "number" not in columns and "order_number" not in columns:
        raise ImportFileError(f"{name}: the first line must name the columns, with number")
    unknown = [c for c in columns if c and c not in CSV_COLUMNS]
    if unknown:
        raise ImportFileError(
            f"{name}: unknown columns {', '.join(unknown)}; "
            f"known are {', '.join(CSV_COLUMNS)} (see README)"
        )
    groups: dict[str, _CsvOrder] = {}
    broken: list[OrderSource] = []
    for row in _rows(reader):
        where = f"{name}:{reader.line_num}"
        values = {k: (v or "").strip() for k, v in row.items() if k}
        number = values.get("number") or values.get("order_number")
        if not number:
            broken.append(OrderSource(where, {}, {}))  # sync_order says: number is required
            continue
        groups.setdefault(number, _CsvOrder(where)).add(where, values)
    return [group.source() for group in groups.values()] + broken


def _rows(reader: csv.DictReader) -> Iterator[dict[str, str]]:
    for row in reader:
        if any((value or "").strip() for value in row.values() if isinstance(value, str)):
            yield row


class _CsvOrder:
    """The rows of one order, folded into one order dict; contradictions are errors."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.order: dict[str, Any] = {}
        self.seen: dict[str, str] = {}  # field -> where it was first given
        self.items: list[dict] = []
        self.shipments: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.stock: dict[str, dict] = {}
        self.lines: dict[str, str] = {}
        self.conflict: InvalidOrder | None = None

    def add(self, where: str, values: dict[str, str]) -> None:
        self._fold(self.order, _pick(values, ORDER_COLUMNS), "", where)
        item = _pick(values, ITEM_COLUMNS)
        if item:
            self.lines[f"items[{len(self.items)}]"] = where
            self.items.append(item)
        self._keyed(self.shipments, "shipments", _pick(values, SHIPMENT_COLUMNS), where,
                    "external_id", "tracking_number")  # fmt: skip
        self._keyed(self.invoices, "invoices", _pick(values, INVOICE_COLUMNS), where, "number")
        stock = _pick(values, STOCK_COLUMNS)
        if stock and item.get("sku"):
            stock = {"sku": item["sku"], "size": item.get("size"), "colour": item.get("colour"),
                     **stock}  # fmt: skip
            self._keyed(self.stock, "stock", {k: v for k, v in stock.items() if v}, where, "sku")

    def _keyed(self, rows: dict, label: str, row: dict, where: str, *keys: str) -> None:
        if not row:
            return
        key = next((row[k] for k in keys if row.get(k)), None)
        if key is None:  # let sync_order name what is missing
            key = f"#{len(rows)}"
        if key not in rows:
            self.lines[f"{label}[{len(rows)}]"] = where
            rows[key] = {}
        index = list(rows).index(key)
        self._fold(rows[key], row, f"{label}[{index}].", where)

    def _fold(self, target: dict, values: dict, prefix: str, where: str) -> None:
        for name, value in values.items():
            if name in target and target[name] != value and self.conflict is None:
                self.conflict = InvalidOrder(
                    prefix + name,
                    f"{value!r} here, but {target[name]!r} on {self.seen[prefix + name]}",
                )
                self.lines[(prefix + name).split(".", 1)[0]] = where
            target.setdefault(name, value)
            self.seen.setdefault(prefix + name, where)

    def source(self) -> OrderSource:
        data = {
            **self.order,
            "items": self.items,
            "shipments": list(self.shipments.values()),
            "invoices": list(self.invoices.values()),
            "stock": list(self.stock.values()),
        }
        return OrderSource(self.where, data, self.lines, self.conflict)


def _pick(values: dict[str, str], columns: dict[str, str]) -> dict[str, str]:
    """The non-empty cells of `columns`, under their order-dict names. Empty means not given."""
    return {target: values[column] for column, target in columns.items() if values.get(column)}
