"""Beside a ticket: its order, shipments, invoice and returns, and the answers that fit.

The ticket page includes `_commerce_panel.html`, which asks `commerce_panel(ticket)`
for what to show. The forms post here; each view calls one service and turns a
refusal (an illegal return step, nothing to pause) into a message on the page.
Social media managers see the panel but may not move returns or pause reminders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import Invoice, Order, Return, Ticket
from helpdesk.services import dunning
from helpdesk.services.canned import Facts, Suggestion, facts_for, status_reached_at, suggestions
from helpdesk.services.inbox import get_ticket
from helpdesk.services.order_links import link_by_agent
from helpdesk.services.replies import add_reply
from helpdesk.services.returns import TRANSITIONS, transition
from helpdesk.services.templating import DATE_FORMATS, LOCALES, SHOP_TIME_ZONE
from helpdesk.web.auth import roles_required

bp = Blueprint("ticket_commerce", __name__)
ALL_ROLES = ("agent", "lead", "social", "admin")
#: Who may move returns and pause reminders (admins may everything).
CARE_ROLES = ("agent", "lead")
HOLD_REASON_LENGTH = Invoice.hold_reason.type.length

LABELS = {
    "return_status": {
        "requested": _l("Requested"),
        "label_created": _l("Label created"),
        "in_transit": _l("On its way back"),
        "received": _l("Received"),
        "refunded": _l("Refunded"),
        "exchanged": _l("Exchanged"),
        "rejected": _l("Rejected"),
    },
    # The buttons that move a return on.
    "return_step": {
        "label_created": _l("Label created"),
        "in_transit": _l("Mark as on its way"),
        "received": _l("Mark as received"),
        "refunded": _l("Mark as refunded"),
        "exchanged": _l("Exchange shipped"),
        "rejected": _l("Reject"),
    },
    "reason": {
        "too_small": _l("Too small"),
        "too_big": _l("Too big"),
        "changed_mind": _l("Changed mind"),
        "style": _l("Style"),
        "not_as_described": _l("Not as described"),
        "defective": _l("Defective"),
        "other": _l("Other"),
    },
    "resolution": {"refund": _l("Refund"), "exchange": _l("Exchange")},
    "shipment_status": {
        "label_created": _l("Label created"),
        "in_transit": _l("In transit"),
        "out_for_delivery": _l("Out for delivery"),
        "delivered": _l("Delivered"),
        "exception": _l("Delivery problem"),
    },
    "invoice_status": {"open": _l("Open"), "paid": _l("Paid"), "cancelled": _l("Cancelled")},
    "order_status": {"open": _l("Open"), "cancelled": _l("Cancelled")},
    "order_link": {
        "entity": _l("named in a message"),
        "recent": _l("the customer's latest order"),
        "agent": _l("chosen by an agent"),
        "return": _l("the return's order"),
    },
}
#: "Return R-12 received on 23.11.2026": the return's state in the reminder banner.
_RETURN_SINCE = {
    "requested": _l("Return %(number)s registered on %(date)s"),
    "label_created": _l("Return %(number)s: label created on %(date)s"),
    "in_transit": _l("Return %(number)s on its way since %(date)s"),
    "received": _l("Return %(number)s received on %(date)s"),
    "refunded": _l("Return %(number)s refunded on %(date)s"),
    "exchanged": _l("Return %(number)s exchanged on %(date)s"),
    "rejected": _l("Return %(number)s rejected on %(date)s"),
}


@dataclass
class CommercePanel:
    """What the panel shows for one ticket and one signed-in user."""

    ticket: Ticket
    facts: Facts
    may_change: bool
    banner: str | None = None
    suggestions: list[Suggestion] = field(default_factory=list)
    customer_orders: list = field(default_factory=list)  # rows: number, placed_at, total, currency

    @property
    def order(self) -> Order | None:
        return self.facts.order

    def next_steps(self, return_: Return) -> list[str]:
        """The steps the state machine allows from here, as buttons."""
        return [
            step
            for step in TRANSITIONS[return_.status]
            if step != "exchanged" or return_.resolution == "exchange"
        ]


def commerce_panel(ticket: Ticket, filled: list[Suggestion] | None = None) -> CommercePanel:
    """The panel; `filled` are the suggestions the composer already filled in for this
    request (rendering every canned response twice per page cost more than its queries)."""
    facts = facts_for(ticket)
    return CommercePanel(
        ticket=ticket,
        facts=facts,
        may_change=current_user.has_role(*CARE_ROLES),
        banner=reminder_banner(ticket, facts),
        suggestions=filled if filled is not None else suggestions(ticket, agent=current_user),
        # Rows, not Order objects: the choice shows four columns of each.
        customer_orders=db.session.execute(
            select(Order.number, Order.placed_at, Order.total_cents, Order.currency)
            .where(Order.customer_id == ticket.customer_id)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(20)
        ).all(),
    )


def reminder_banner(ticket: Ticket, facts: Facts) -> str | None:
    """For a customer who got a payment reminder while sending goods back: where the
    return is and whether reminders are paused, in one line."""
    return_ = facts.return_
    if "payment_reminder" not in ticket.intents or return_ is None:
        return None
    when = status_reached_at(return_, return_.status) or return_.status_changed_at
    state = {"number": return_.number, "date": agent_date(when)}
    parts = [str(_RETURN_SINCE[return_.status]) % state]
    invoice = facts.invoice
    if invoice is not None and invoice.on_hold:
        since = agent_date(invoice.hold_since)
        parts.append(str(_l("reminders paused since %(date)s")) % {"date": since})
    elif invoice is not None and invoice.status == "open" and invoice.amount_due_cents > 0:
        parts.append(str(_l("reminders are not paused")))
    return " · ".join(parts)


# --- formatting in the agent's language --------------------------------------------------


def _language() -> str:
    locale = get_locale()
    language = locale.language if locale is not None else "en"
    return language if language in LOCALES else "en"


@bp.app_template_filter("agent_money")
def agent_money(cents: int | None, currency: str = "EUR") -> str:
    """ "49,95 €" for German agents, "€49.95" for English ones."""
    if cents is None:
        return ""
    return format_currency(cents / 100, currency, locale=LOCALES[_language()])


@bp.app_template_filter("agent_date")
def agent_date(value: date | datetime | str | None, with_time: bool = False) -> str:
    """A day (or moment) as the agent reads it, in the shop's time zone."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)  # the return history keeps ISO strings
    language = _language()
    if isinstance(value, datetime):
        value = value.astimezone(SHOP_TIME_ZONE)
        if with_time:
            pattern = DATE_FORMATS[language] + (" HH:mm" if language == "de" else ", HH:mm")
            return format_datetime(value, pattern, tzinfo=SHOP_TIME_ZONE, locale=LOCALES[language])
        value = value.date()
    return format_date(value, DATE_FORMATS[language], locale=LOCALES[language])


@bp.app_template_global("commerce_label")
def commerce_label(kind: str, value: str | None) -> str:
    if value is None:
        return ""
    return str(LABELS.get(kind, {}).get(value, value))


@bp.app_template_test("web_link")
def is_web_link(url: str | None) -> bool:
    """Links from shop data are shown only when they lead to a web page (no `javascript:`)."""
    return bool(url) and url.strip().lower().startswith(("https://", "http://"))


@bp.app_context_processor
def _panel_builder() -> dict:
    return {"commerce_panel": commerce_panel}


# --- what agents do from the panel -------------------------------------------------------


def _back(number: int):
    return redirect(url_for("ticket.show", number=number))


def _refused(error: InvalidInput) -> None:
    """Nothing of the refused change stays; the agent reads why."""
    db.session.rollback()
    flash(str(error), "error")


@bp.post("/tickets/<int:number>/order")
@roles_required(*ALL_ROLES)
def link_order(number: int):
    """Link the ticket to another order (the customer's first), or to none."""
    ticket = get_ticket(current_user, number)
    wanted = request.form.get("order", "")
    try:
        order = link_by_agent(ticket, current_user, wanted)
    except InvalidInput as error:
        _refused(error)
        return _back(number)
    db.session.commit()
    if order is None:
        flash(_("The ticket is linked to no order."), "info")
    else:
        flash(_("Linked to order %(number)s.", number=order.number), "info")
    return _back(number)


@bp.post("/tickets/<int:number>/returns/<int:return_id>/transition")
@roles_required(*CARE_ROLES)
def move_return(number: int, return_id: int):
    ticket = get_ticket(current_user, number)
    return_ = _of_ticket(db.session.get(Return, return_id), ticket)
    note = request.form.get("note", "").strip() or None
    try:
        transition(return_, request.form.get("to", ""), user=current_user, note=note)
    except InvalidInput as error:  # IllegalTransition says which steps are allowed
        _refused(error)
        return _back(number)
    db.session.commit()
    flash(_("Return %(number)s is now: %(status)s.", number=return_.number,
             status=commerce_label("return_status", return_.status)), "info")  # fmt: skip
    return _back(number)


@bp.post("/tickets/<int:number>/invoices/<int:invoice_id>/hold")
@roles_required(*CARE_ROLES)
def pause_reminders(number: int, invoice_id: int):
    ticket = get_ticket(current_user, number)
    invoice = _of_ticket(db.session.get(Invoice, invoice_id), ticket)
    reason = request.form.get("reason", "")
    try:
        if len(reason.strip()) > HOLD_REASON_LENGTH:
            raise InvalidInput(f"say why in at most {HOLD_REASON_LENGTH} characters")
        dunning.hold_by_agent(invoice, current_user, reason)
    except InvalidInput as error:
        _refused(error)
        return _back(number)
    db.session.commit()
    flash(_("Reminders for invoice %(number)s are paused.", number=invoice.number), "info")
    return _back(number)


@bp.post("/tickets/<int:number>/invoices/<int:invoice_id>/release")
@roles_required(*CARE_ROLES)
def resume_reminders(number: int, invoice_id: int):
    ticket = get_ticket(current_user, number)
    invoice = _of_ticket(db.session.get(Invoice, invoice_id), ticket)
    try:
        dunning.release_by_agent(invoice, current_user)
    except InvalidInput as error:
        _refused(error)
        return _back(number)
    db.session.commit()
    flash(_("Reminders for invoice %(number)s may go out again.", number=invoice.number), "info")
    return _back(number)


@bp.post("/tickets/<int:number>/reply")
@roles_required(*ALL_ROLES)
def reply(number: int):
    """Send a (canned, edited) answer; it leaves through the outbox after the commit."""
    ticket = get_ticket(current_user, number)
    try:
        message = add_reply(ticket, current_user, request.form.get("text", ""))
    except InvalidInput as error:
        _refused(error)
        return _back(number)
    shortcut = request.form.get("response", "").strip()
    if shortcut:  # which prepared answer was used, for later figures
        message.details = {**(message.details or {}), "canned_response": shortcut[:40]}
    db.session.commit()
    flash(_("Your reply is on its way."), "info")
    return _back(number)


def _of_ticket(row: Return | Invoice | None, ticket: Ticket):
    """`row` if it belongs to the ticket's order: no reaching other orders by id."""
    if row is None or ticket.order_id is None or row.order_id != ticket.order_id:
        abort(404)
    return row
