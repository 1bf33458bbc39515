"""The self-service returns portal at /returns: public, in German and English.

A customer finds their order by its number and their e-mail address or
postcode, chooses what to send back and why, refund or exchange, and gets a
confirmation and a status page. Without an account, three things keep it safe:

- A lookup answers a wrong number, a wrong address and an unknown order alike,
  and failed lookups are limited per client address and per order number.
- The order found is kept in the signed session, never in a form field.
- The status page is reached by a signed token of the return id, so nobody can
  walk through other customers' returns by counting.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_currency, format_date, format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, or_, select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import RESOLUTIONS, RETURN_REASONS, Event, Order, OrderItem, Return, Stock
from helpdesk.models.types import utcnow
from helpdesk.services.events import record_event
from helpdesk.services.returns import (
    ReturnLine,
    exchange_options,
    register_return,
    returnable_quantity,
)
from helpdesk.services.templating import DATE_FORMATS

bp = Blueprint("portal", __name__)

LOOKUP_FAILED = "portal.lookup_failed"
TOKEN_SALT = "helpdesk.returns-portal.status"
#: How long a found order stays open in the browser without a new lookup.
SESSION_LIFETIME = timedelta(hours=1)
DATE_TIME_FORMATS = {language: f"{pattern}, HH:mm" for language, pattern in DATE_FORMATS.items()}

REASON_LABELS = {
    "too_small": _l("Too small"),
    "too_big": _l("Too big"),
    "changed_mind": _l("Changed my mind"),
    "style": _l("Style does not suit me"),
    "not_as_described": _l("Not as described"),
    "defective": _l("Defective"),
    "other": _l("Other"),
}
RESOLUTION_LABELS = {"refund": _l("Refund"), "exchange": _l("Exchange")}
STATUS_LABELS = {
    "requested": _l("Return registered"),
    "label_created": _l("Return label created"),
    "in_transit": _l("On its way to us"),
    "received": _l("Arrived in our warehouse"),
    "refunded": _l("Refunded"),
    "exchanged": _l("Exchange sent"),
    "rejected": _l("Return declined"),
}


class LookupForm(FlaskForm):
    order_number = StringField(_l("Order number"), validators=[DataRequired(), Length(max=40)])
    contact = StringField(
        _l("E-mail address or postcode"), validators=[DataRequired(), Length(max=320)]
    )


@dataclass(frozen=True)
class ItemRow:
    """One order item as step 2 offers it: how many can still go back, and what instead."""

    item: OrderItem
    returnable: int
    options: list[Stock]


@dataclass(frozen=True)
class Choice:
    """What the customer picked for one item, kept as typed so a re-shown form keeps it."""

    quantity: int
    reason: str
    exchange_sku: str


# --- finding the order, and limiting the guesses ---------------------------------------------


def normal_order_number(raw: str) -> str:
    """The number as stored, whatever the customer typed around it ("#100457 " -> "100457")."""
    return raw.strip().lstrip("#").strip()


def find_order(number: str, contact: str) -> Order | None:
    """The order with `number` whose e-mail address or postcode is `contact`, else None.

    Every way of not matching ends in the same None, so the caller cannot tell (and
    cannot show) whether the order exists."""
    contact = contact.strip()
    if "@" in contact:
        proof = func.lower(Order.email) == contact.lower()
    else:
        proof = (
            func.upper(func.replace(Order.postcode, " ", "")) == contact.replace(" ", "").upper()
        )
    return db.session.scalar(
        select(Order)
        .where(or_(Order.number == number, Order.number == f"#{number}"), proof)
        .order_by(Order.id)
        .limit(1)
    )


def blocked_until(ip: str, order_number: str, now: datetime) -> datetime | None:
    """When this client may try again, or None if it may now.

    Failed lookups are Event rows (kind "portal.lookup_failed", data {ip, order_number})
    rather than a table of their own: they are counted in the database, so every gunicorn
    worker sees the same count, and the event trail needed no migration. Two requests at
    the same instant may both pass the count; that lets through an attempt or two, not
    a search."""
    config = current_app.config
    window = timedelta(minutes=int(config.get("PORTAL_LOOKUP_WINDOW_MINUTES", 15)))
    limits = (
        ("order_number", order_number, int(config.get("PORTAL_LOOKUP_LIMIT_PER_ORDER", 5))),
        ("ip", ip, int(config.get("PORTAL_LOOKUP_LIMIT_PER_IP", 20))),
    )
    until = None
    for key, value, limit in limits:
        failures = list(
            db.session.scalars(
                select(Event.created_at)
                .where(
                    Event.kind == LOOKUP_FAILED,
                    Event.created_at > now - window,
                    Event.data[key].as_string() == value,
                )
                .order_by(Event.created_at)
            )
        )
        if len(failures) >= limit:  # free again once enough of them have aged out
            free_at = failures[len(failures) - limit] + window
            until = max(until or free_at, free_at)
    return until


# --- the signed session and the status token --------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=TOKEN_SALT)


def status_token(return_id: int) -> str:
    """The token in a status page's address: the return id, signed with the app's key."""
    return _serializer().dumps(return_id)


def _return_for(token: str) -> Return:
    try:
        return_id = _serializer().loads(token)
    except BadSignature:
        abort(404)
    if not isinstance(return_id, int):
        abort(404)
    return db.get_or_404(Return, return_id)


def _order_in_session(now: datetime) -> Order | None:
    found = session.get("portal_order")
    if not isinstance(found, dict):
        return None
    if datetime.fromisoformat(found["since"]) + SESSION_LIFETIME < now:
        session.pop("portal_order", None)
        flash(_("For your security, please look up your order again."), "info")
        return None
    return db.session.get(Order, found["order_id"])


# --- step 2: reading and checking the customer's choices --------------------------------------


def _rows(order: Order) -> list[ItemRow]:
    rows = []
    for item in order.items:
        left = returnable_quantity(item)
        rows.append(ItemRow(item, left, exchange_options(item) if left > 0 else []))
    return rows


def _read_choices(rows: list[ItemRow], form: Mapping[str, str]) -> dict[int, Choice]:
    choices = {}
    for row in rows:
        raw = form.get(f"quantity-{row.item.id}", "0").strip() or "0"
        quantity = int(raw) if raw.isdigit() else -1
        choices[row.item.id] = Choice(
            quantity,
            form.get(f"reason-{row.item.id}", ""),
            form.get(f"exchange-{row.item.id}", ""),
        )
    return choices


def _check_choices(
    rows: list[ItemRow], choices: dict[int, Choice], resolution: str
) -> list[tuple[int | None, str]]:
    """Messages for the customer, each for one item (its id) or the whole form (None)."""
    errors: list[tuple[int | None, str]] = []
    if resolution not in RESOLUTIONS:
        errors.append((None, _("Choose a refund or an exchange.")))
    for row in rows:
        choice = choices[row.item.id]
        problem = _item_problem(row, choice, resolution)
        if problem:
            errors.append((row.item.id, problem))
    if not errors and not any(choice.quantity > 0 for choice in choices.values()):
        errors.append((None, _("Choose at least one item to return.")))
    return errors


def _item_problem(row: ItemRow, choice: Choice, resolution: str) -> str | None:
    name = row.item.name
    if not 0 <= choice.quantity <= row.returnable:
        return _("%(item)s: you can return at most %(count)d.", item=name, count=row.returnable)
    if choice.quantity == 0:
        return None
    if choice.reason not in RETURN_REASONS:
        return _("%(item)s: please tell us why you are returning it.", item=name)
    if resolution != "exchange":
        return None
    offered = {stock.sku: stock for stock in row.options}
    if not offered:
        return _(
            "%(item)s cannot be exchanged: no other size or colour is in stock. "
            "Choose a refund or keep it.",
            item=name,
        )
    stock = offered.get(choice.exchange_sku)
    if stock is None:
        return _("%(item)s: choose the size or colour you want instead.", item=name)
    if stock.quantity < choice.quantity:
        return _(
            "%(item)s: only %(count)d of that size are in stock.", item=name, count=stock.quantity
        )
    return None


def _lines(rows: list[ItemRow], choices: dict[int, Choice], resolution: str) -> list[ReturnLine]:
    return [
        ReturnLine(
            row.item,
            choices[row.item.id].quantity,
            choices[row.item.id].reason,
            exchange_sku=choices[row.item.id].exchange_sku if resolution == "exchange" else None,
        )
        for row in rows
        if choices[row.item.id].quantity > 0
    ]


# --- what the templates show ------------------------------------------------------------------


def variant_label(size: str | None, colour: str | None, sku: str) -> str:
    return " · ".join(part for part in (size, colour) if part) or sku


def exchange_label(return_: Return, sku: str | None) -> str:
    if not sku:
        return ""
    stock = db.session.get(Stock, (return_.order.shop_id, sku))
    return variant_label(stock.size, stock.colour, sku) if stock else sku


def when(value: str | datetime) -> str:
    """A moment in the page's language and the shop's time zone."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    locale = get_locale()
    language = locale.language if locale else "en"
    return format_datetime(moment, DATE_TIME_FORMATS.get(language, DATE_TIME_FORMATS["en"]))


def day(value: datetime) -> str:
    """A day in the page's language, as customers read it in our e-mails."""
    locale = get_locale()
    language = locale.language if locale else "en"
    return format_date(value, DATE_FORMATS.get(language, DATE_FORMATS["en"]))


def money(cents: int, currency: str) -> str:
    return format_currency(cents / 100, currency)


@bp.context_processor
def portal_helpers() -> dict:
    return {
        "reason_label": lambda slug: str(REASON_LABELS.get(slug, slug)),
        "resolution_label": lambda slug: str(RESOLUTION_LABELS.get(slug, slug)),
        "status_label": lambda slug: str(STATUS_LABELS.get(slug, slug)),
        "reasons": RETURN_REASONS,
        "variant_label": variant_label,
        "exchange_label": exchange_label,
        "when": when,
        "day": day,
        "money": money,
    }


# --- the pages --------------------------------------------------------------------------------


@bp.route("/returns", methods=["GET", "POST"])
def lookup():
    """Step 1: find the order."""
    form = LookupForm()
    if not form.validate_on_submit():
        return render_template("portal/lookup.html", form=form), 422 if form.is_submitted() else 200
    now = utcnow()
    number = normal_order_number(form.order_number.data)
    ip = request.remote_addr or "unknown"  # behind a proxy: needs ProxyFix to be the client's
    until = blocked_until(ip, number, now)
    if until is not None:
        seconds = max(1, math.ceil((until - now).total_seconds()))
        error = _(
            "Too many attempts. Please try again at %(time)s (in %(minutes)d min).",
            time=format_datetime(until, "HH:mm"),
            minutes=math.ceil(seconds / 60),
        )
        page = render_template("portal/lookup.html", form=form, error=error)
        return page, 429, {"Retry-After": str(seconds)}
    order = find_order(number, form.contact.data)
    if order is None:
        record_event(LOOKUP_FAILED, actor="portal", ip=ip, order_number=number)
        db.session.commit()
        error = _(
            "We could not find an order with these details. Please check the order "
            "number and the e-mail address or postcode."
        )
        return render_template("portal/lookup.html", form=form, error=error), 422
    record_event(
        "portal.lookup", customer=order.customer, actor="portal", ip=ip, order_number=order.number
    )
    db.session.commit()
    session["portal_order"] = {"order_id": order.id, "since": now.isoformat()}
    return redirect(url_for("portal.choose_items"))


@bp.route("/returns/items", methods=["GET", "POST"])
def choose_items():
    """Step 2: which items go back, why, and refund or exchange."""
    order = _order_in_session(utcnow())
    if order is None:
        return redirect(url_for("portal.lookup"))
    order_id, rows = order.id, _rows(order)
    if request.method == "GET":
        return render_template(
            "portal/items.html", order=order, rows=rows, choices={}, resolution="refund", errors=[]
        )
    resolution = request.form.get("resolution", "")
    choices = _read_choices(rows, request.form)
    errors = _check_choices(rows, choices, resolution)
    if not errors:
        try:
            return_ = register_return(
                order,
                _lines(rows, choices, resolution),
                resolution=resolution,
                source="portal",
                actor="portal",
            )
            db.session.commit()
            return redirect(url_for("portal.confirmation", token=status_token(return_.id)))
        except InvalidInput:  # stock or another return changed between page and submit
            db.session.rollback()
            order = db.session.get(Order, order_id)
            rows = _rows(order)
            message = _("What can be returned or exchanged has just changed. Check your choices.")
            errors = [(None, message)]
    return render_template(
        "portal/items.html",
        order=order,
        rows=rows,
        choices=choices,
        resolution=resolution,
        errors=errors,
    ), 422


@bp.get("/returns/done/<token>")
def confirmation(token: str):
    """Step 3: the return is registered; what happens next."""
    return_ = _return_for(token)
    return render_template("portal/confirmation.html", return_=return_, token=token)


@bp.get("/returns/status/<token>")
def status(token: str):
    """Where the return is: its items, the resolution and each step so far."""
    return_ = _return_for(token)
    return render_template("portal/status.html", return_=return_)


@bp.errorhandler(404)
def not_found(error):
    message = _("We could not find this page. Please check the link from your e-mail.")
    return render_template("portal/error.html", message=message), 404


@bp.errorhandler(CSRFError)
def form_expired(error):
    message = _("This page was open for too long. Please go back, reload it and try again.")
    return render_template("portal/error.html", message=message), 400
