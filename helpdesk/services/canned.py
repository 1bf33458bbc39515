"""Canned responses that fit a ticket, filled in with what the shop knows about it.

A response is offered when it is active, written in the ticket's language (else
the customer's), shares an intent with the ticket (one without intents is always
offered, after the others), may be used on the ticket's channel, and the facts it
`requires` exist: "order", "invoice", "return", "shipment" and "hold" (the
invoice's reminders are paused). It is rendered sandboxed (services.templating)
from plain copies of those facts, never from the rows themselves: a template
written by shop staff can read an order, not change or delete one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from flask import has_request_context, request
from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import (
    LANGUAGES,
    CannedResponse,
    Invoice,
    Order,
    Return,
    Shipment,
    Ticket,
    User,
)
from helpdesk.services.returns import FINAL_STATUSES
from helpdesk.services.templating import render_string

log = logging.getLogger(__name__)

#: What a response may require; "hold" means the invoice's reminders are paused.
FACTS: tuple[str, ...] = ("order", "invoice", "return", "shipment", "hold")
#: Written in when neither the ticket nor the customer has a language we write in.
DEFAULT_LANGUAGE = "de"


@dataclass(frozen=True)
class Facts:
    """What the shop knows beside a ticket: its order and the latest of everything else."""

    order: Order | None = None
    shipment: Shipment | None = None
    invoice: Invoice | None = None
    return_: Return | None = None

    @property
    def present(self) -> frozenset[str]:
        found = {
            "order": self.order,
            "shipment": self.shipment,
            "invoice": self.invoice,
            "return": self.return_,
        }
        names = {name for name, value in found.items() if value is not None}
        if self.invoice is not None and self.invoice.on_hold:
            names.add("hold")
        return frozenset(names)


@dataclass(frozen=True)
class Suggestion:
    """A response for a ticket: `text` filled in and ready to send, or, when that was not
    possible, empty with `missing` saying why (a placeholder without a value, an error)."""

    response: CannedResponse
    text: str
    missing: str | None = None


def facts_for(ticket: Ticket) -> Facts:
    """The linked order, its latest shipment, its first open invoice (else the latest)
    and its latest open return (else the latest)."""
    order = ticket.order
    if order is None:
        return Facts()
    invoices = order.invoices
    open_invoices = [i for i in invoices if i.status == "open"]
    returns = order.returns
    open_returns = [r for r in returns if r.status not in FINAL_STATUSES]
    return Facts(
        order=order,
        shipment=order.shipments[-1] if order.shipments else None,
        invoice=open_invoices[0] if open_invoices else (invoices[-1] if invoices else None),
        return_=open_returns[-1] if open_returns else (returns[-1] if returns else None),
    )


def status_reached_at(return_: Return, status: str) -> datetime | None:
    """When `return_` reached `status`, from its history (the last time, if repeated)."""
    for step in reversed(return_.history or []):
        if step.get("status") == status:
            return datetime.fromisoformat(step["at"])
    if return_.status == status:
        return return_.status_changed_at
    return None


def response_language(ticket: Ticket) -> str:
    if ticket.language in LANGUAGES:
        return ticket.language  # the customer is loaded only when asked for
    customer = ticket.customer
    if customer is not None and customer.language in LANGUAGES:
        return customer.language
    return DEFAULT_LANGUAGE


def suggestions(ticket: Ticket, *, agent: User | None = None) -> list[Suggestion]:
    """The responses that fit `ticket`, best first, each filled in for it."""
    facts = facts_for(ticket)
    present = facts.present
    intents = set(ticket.intents)
    candidates = db.session.scalars(
        select(CannedResponse)
        .where(
            CannedResponse.active.is_(True), CannedResponse.language == response_language(ticket)
        )
        .order_by(CannedResponse.title, CannedResponse.id)
    ).all()
    fitting = []
    for response in candidates:
        wanted = set(response.intents or ())
        if wanted and not wanted & intents:
            continue
        if response.channels and ticket.channel not in response.channels:
            continue
        if not set(response.requires or ()) <= present:
            continue
        # Sharing more intents and needing more facts means more specific: first.
        rank = (not wanted, -len(wanted & intents), -len(response.requires or ()))
        fitting.append((rank, response))
    fitting.sort(key=lambda pair: pair[0])  # stable: titles stay in order within a rank
    context = template_context(ticket, facts, agent)
    return [fill_in(response, context) for _, response in fitting]


def fill_in(response: CannedResponse, context: dict[str, Any]) -> Suggestion:
    """Render `response` with `context`; a broken template becomes a message, not an error."""
    try:
        return Suggestion(response, render_string(response.body, response.language, **context))
    except UndefinedError as error:
        why = f"a placeholder has no value for this ticket ({error.message})"
    except SecurityError as error:
        why = f"the template tries something that is not allowed ({error.message})"
    except TemplateSyntaxError as error:
        why = f"the template has an error in line {error.lineno}: {error.message}"
    except TemplateError as error:
        why = f"the template could not be filled in ({error.message})"
    except (ArithmeticError, LookupError, TypeError, ValueError) as error:
        # Shop staff write these templates; a mistake in one must not break the ticket page.
        why = f"the template could not be filled in ({type(error).__name__}: {error})"
    log.info("canned response %s (%s) not filled in: %s", response.shortcut, response.id, why)
    return Suggestion(response, "", why)


def template_context(ticket: Ticket, facts: Facts, agent: User | None) -> dict[str, Any]:
    """Plain, detached copies of the facts: what a template may read, and nothing to call."""
    order = facts.order
    customer = ticket.customer
    return {
        "customer": _plain(
            name=customer.name if customer else None,
            email=customer.identity("email") if customer else None,
            language=customer.language if customer else None,
        ),
        "order": _order(order) if order is not None else None,
        "shop": _plain(name=order.shop.name) if order is not None else None,
        "shipment": _shipment(facts.shipment) if facts.shipment is not None else None,
        "invoice": _invoice(facts.invoice) if facts.invoice is not None else None,
        "return": _return(facts.return_) if facts.return_ is not None else None,
        "ticket": _plain(
            number=ticket.number,
            subject=ticket.subject,
            channel=ticket.channel,
            language=ticket.language,
        ),
        "agent": _plain(name=agent.name, email=agent.email) if agent is not None else None,
        "portal_url": portal_url(),
    }


def portal_url() -> str:
    """Where customers register returns themselves, as a link they can follow."""
    root = request.host_url if has_request_context() else "/"
    return root.rstrip("/") + "/returns"


def _plain(**values: Any) -> SimpleNamespace:
    # Attributes, not a dict: `order.items` must be the items, not dict.items.
    return SimpleNamespace(**values)


def _order(order: Order) -> SimpleNamespace:
    return _plain(
        number=order.number,
        placed_at=order.placed_at,
        status=order.status,
        financial_status=order.financial_status,
        fulfillment_status=order.fulfillment_status,
        total_cents=order.total_cents,
        currency=order.currency,
        items=[
            _plain(
                sku=i.sku,
                name=i.name,
                size=i.size,
                colour=i.colour,
                quantity=i.quantity,
                price_cents=i.price_cents,
            )
            for i in order.items
        ],
    )


def _shipment(shipment: Shipment) -> SimpleNamespace:
    return _plain(
        kind=shipment.kind,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        tracking_url=shipment.tracking_url,
        status=shipment.status,
        shipped_at=shipment.shipped_at,
        delivered_at=shipment.delivered_at,
    )


def _invoice(invoice: Invoice) -> SimpleNamespace:
    return _plain(
        number=invoice.number,
        currency=invoice.currency,
        amount_cents=invoice.amount_cents,
        amount_due_cents=invoice.amount_due_cents,
        due_date=invoice.due_date,
        reminder_level=invoice.reminder_level,
        status=invoice.status,
        on_hold=invoice.on_hold,
        hold_cents=invoice.hold_cents,
        hold_reason=invoice.hold_reason,
        hold_since=invoice.hold_since,
    )


def _return(return_: Return) -> SimpleNamespace:
    return _plain(
        number=return_.number,
        status=return_.status,
        resolution=return_.resolution,
        requested_at=return_.requested_at,
        received_at=status_reached_at(return_, "received"),
        status_changed_at=return_.status_changed_at,
        value_cents=return_.value_cents,
        refund_cents=return_.refund_cents,
        carrier=return_.carrier,
        tracking_number=return_.tracking_number,
        label_url=return_.label_url,
        note=return_.note,
        items=[
            _plain(
                sku=i.order_item.sku,
                name=i.order_item.name,
                size=i.order_item.size,
                colour=i.order_item.colour,
                quantity=i.quantity,
                reason=i.reason,
                exchange_sku=i.exchange_sku,
            )
            for i in return_.items
        ],
    )


# --- the responses every shop starts with ------------------------------------------------


def install_default_responses() -> int:
    """Add the default responses a shop does not have yet (by shortcut and language);
    responses it has, perhaps edited, stay as they are. Returns how many were added."""
    have = set(db.session.execute(select(CannedResponse.shortcut, CannedResponse.language)).all())
    added = 0
    for shortcut, intents, requires, titles, bodies in DEFAULT_RESPONSES:
        for language in LANGUAGES:
            if (shortcut, language) in have:
                continue
            db.session.add(
                CannedResponse(
                    shortcut=shortcut,
                    language=language,
                    title=titles[language],
                    intents=list(intents),
                    requires=list(requires),
                    channels=[],
                    body=bodies[language].strip() + "\n",
                    active=True,
                )
            )
            added += 1
    db.session.flush()
    return added


_GREETING = {
    "de": "Guten Tag{% if customer.name %} {{ customer.name }}{% endif %},\n\n",
    "en": "Hello{% if customer.name %} {{ customer.name }}{% endif %},\n\n",
}
_SIGNATURE = {
    "de": "\n\nFreundliche Grüße\n{% if agent %}{{ agent.name }}\n{% endif %}"
    "{% if shop %}Ihr Kundenservice von {{ shop.name }}{% else %}Ihr Kundenservice{% endif %}",
    "en": "\n\nKind regards\n{% if agent %}{{ agent.name }}\n{% endif %}"
    "{% if shop %}{{ shop.name }} customer care{% else %}Customer care{% endif %}",
}

# Where the return is, in one sentence; shared by the reminder and return-status answers.
_RETURN_STATE = {
    "de": """\
{% if return.status == "requested" %}Ihre Retoure {{ return.number }} haben wir am \
{{ return.requested_at | date }} registriert; sobald das Paket unterwegs ist, sagen wir Ihnen \
Bescheid.\
{% elif return.status == "label_created" %}Für Ihre Retoure {{ return.number }} liegt das \
Rücksendeetikett bereit{% if return.label_url %}: {{ return.label_url }}{% endif %}.\
{% elif return.status == "in_transit" %}Ihre Retoure {{ return.number }} ist auf dem Weg zu \
uns{% if return.tracking_number %} (Sendungsnummer {{ return.tracking_number }}){% endif %}.\
{% elif return.status == "received" %}Ihre Retoure {{ return.number }} ist am \
{{ return.received_at | date }} bei uns eingegangen; wir prüfen die Ware gerade.\
{% elif return.status == "refunded" %}Ihre Retoure {{ return.number }} ist abgeschlossen: \
Am {{ return.status_changed_at | date }} haben wir Ihnen \
{{ return.refund_cents | money(order.currency) }} erstattet.\
{% elif return.status == "exchanged" %}Ihre Retoure {{ return.number }} ist abgeschlossen: \
Der Ersatz ist am {{ return.status_changed_at | date }} an Sie rausgegangen.\
{% else %}Ihre Retoure {{ return.number }} konnten wir leider nicht annehmen\
{% if return.note %} ({{ return.note }}){% endif %}.{% endif %}""",
    "en": """\
{% if return.status == "requested" %}We registered your return {{ return.number }} on \
{{ return.requested_at | date }}; we will let you know as soon as the parcel is on its way.\
{% elif return.status == "label_created" %}The return label for your return \
{{ return.number }} is ready{% if return.label_url %}: {{ return.label_url }}{% endif %}.\
{% elif return.status == "in_transit" %}Your return {{ return.number }} is on its way to us\
{% if return.tracking_number %} (tracking number {{ return.tracking_number }}){% endif %}.\
{% elif return.status == "received" %}Your return {{ return.number }} arrived with us on \
{{ return.received_at | date }}; we are checking the items now.\
{% elif return.status == "refunded" %}Your return {{ return.number }} is complete: we refunded \
{{ return.refund_cents | money(order.currency) }} on {{ return.status_changed_at | date }}.\
{% elif return.status == "exchanged" %}Your return {{ return.number }} is complete: the \
replacement left us on {{ return.status_changed_at | date }}.\
{% else %}Unfortunately we could not accept your return {{ return.number }}\
{% if return.note %} ({{ return.note }}){% endif %}.{% endif %}""",
}

_REMINDER = {
    "de": _GREETING["de"]
    + """\
danke für Ihre Nachricht, und bitte entschuldigen Sie die Zahlungserinnerung.

"""
    + _RETURN_STATE["de"]
    + """
{% if return.status == "rejected" %}{% if invoice and invoice.amount_due_cents > 0 %}Der Betrag \
von {{ invoice.amount_due_cents | money(invoice.currency) }} zur Rechnung {{ invoice.number }} \
ist deshalb weiterhin offen.{% endif %}\
{% elif invoice and invoice.on_hold %}Die Zahlungserinnerungen zur Rechnung {{ invoice.number }} \
sind seit dem {{ invoice.hold_since | date }} pausiert. Für die zurückgeschickten Artikel müssen \
Sie nichts bezahlen; die Erinnerung können Sie als gegenstandslos betrachten.\
{% else %}Für die zurückgeschickten Artikel müssen Sie nichts bezahlen; die Erinnerung können \
Sie als gegenstandslos betrachten.{% endif %}"""
    + _SIGNATURE["de"],
    "en": _GREETING["en"]
    + """\
thank you for your message, and please excuse the payment reminder.

"""
    + _RETURN_STATE["en"]
    + """
{% if return.status == "rejected" %}{% if invoice and invoice.amount_due_cents > 0 %}The amount \
of {{ invoice.amount_due_cents | money(invoice.currency) }} on invoice {{ invoice.number }} is \
therefore still due.{% endif %}\
{% elif invoice and invoice.on_hold %}Payment reminders for invoice {{ invoice.number }} have \
been paused since {{ invoice.hold_since | date }}. You do not need to pay for the items you sent \
back; please disregard the reminder.\
{% else %}You do not need to pay for the items you sent back; please disregard the reminder.\
{% endif %}"""
    + _SIGNATURE["en"],
}

_RETURN_STATUS = {
    "de": _GREETING["de"] + "danke für Ihre Nachricht.\n\n" + _RETURN_STATE["de"]
    + _SIGNATURE["de"],
    "en": _GREETING["en"] + "thank you for your message.\n\n" + _RETURN_STATE["en"]
    + _SIGNATURE["en"],
}  # fmt: skip

_REFUND_STATUS = {
    "de": _GREETING["de"]
    + """\
{% if return and return.status == "refunded" %}wir haben Ihnen am \
{{ return.status_changed_at | date }} {{ return.refund_cents | money(order.currency) }} \
erstattet. Je nach Zahlungsart sehen Sie das Geld nach drei bis fünf Bankarbeitstagen auf Ihrem \
Konto.\
{% elif return %}danke für Ihre Nachricht. """
    + _RETURN_STATE["de"]
    + """\
{% if return.status not in ("exchanged", "rejected") %} {% if return.resolution == "exchange" %}\
Sie haben einen Umtausch gewählt: Den Ersatz schicken wir Ihnen, sobald die Ware geprüft ist.\
{% else %}Sobald die Ware geprüft ist, erstatten wir Ihnen \
{{ return.value_cents | money(order.currency) }} auf dem Weg, auf dem Sie bezahlt haben.\
{% endif %}{% endif %}\
{% else %}sobald Ihre Rücksendung bei uns eingegangen und geprüft ist, erstatten wir Ihnen den \
Betrag auf dem Weg, auf dem Sie bezahlt haben. Wenn Sie uns Ihre Bestellnummer nennen, sehen wir \
gern nach.{% endif %}"""
    + _SIGNATURE["de"],
    "en": _GREETING["en"]
    + """\
{% if return and return.status == "refunded" %}we refunded \
{{ return.refund_cents | money(order.currency) }} on {{ return.status_changed_at | date }}. \
Depending on how you paid, the money reaches your account within three to five business days.\
{% elif return %}thank you for your message. """
    + _RETURN_STATE["en"]
    + """\
{% if return.status not in ("exchanged", "rejected") %} {% if return.resolution == "exchange" %}\
You chose an exchange: we send the replacement as soon as we have checked the items.\
{% else %}As soon as we have checked the items, we refund \
{{ return.value_cents | money(order.currency) }} the way you paid.{% endif %}{% endif %}\
{% else %}as soon as your return has arrived and been checked, we refund the amount the way you \
paid. If you tell us your order number, we will gladly look it up.{% endif %}"""
    + _SIGNATURE["en"],
}

_ORDER_STATUS = {
    "de": _GREETING["de"]
    + """\
{% if shipment.status == "delivered" %}Ihre Bestellung {{ order.number }} wurde \
{% if shipment.delivered_at %}am {{ shipment.delivered_at | date }} {% endif %}zugestellt.\
{% else %}Ihre Bestellung {{ order.number }} ist {% if shipment.shipped_at %}seit dem \
{{ shipment.shipped_at | date }} {% endif %}unterwegs{% if shipment.carrier %} mit \
{{ shipment.carrier }}{% endif %}.{% endif %}\
{% if shipment.tracking_number %} Die Sendungsnummer ist {{ shipment.tracking_number }}\
{% if shipment.tracking_url %}; den aktuellen Stand sehen Sie hier: \
{{ shipment.tracking_url }}{% endif %}.{% endif %}"""
    + _SIGNATURE["de"],
    "en": _GREETING["en"]
    + """\
{% if shipment.status == "delivered" %}your order {{ order.number }} was delivered\
{% if shipment.delivered_at %} on {{ shipment.delivered_at | date }}{% endif %}.\
{% else %}your order {{ order.number }} is on its way{% if shipment.carrier %} with \
{{ shipment.carrier }}{% endif %}{% if shipment.shipped_at %} since \
{{ shipment.shipped_at | date }}{% endif %}.{% endif %}\
{% if shipment.tracking_number %} The tracking number is {{ shipment.tracking_number }}\
{% if shipment.tracking_url %}; you can follow it here: {{ shipment.tracking_url }}{% endif %}.\
{% endif %}"""
    + _SIGNATURE["en"],
}

_RETURN_HOWTO = {
    "de": _GREETING["de"]
    + """\
Sie können Ihre Rücksendung ganz einfach selbst anmelden: {{ portal_url }}
Geben Sie dort {% if order %}Ihre Bestellnummer {{ order.number }}{% else %}Ihre \
Bestellnummer{% endif %} und Ihre E-Mail-Adresse ein, wählen Sie die Artikel und den Grund aus, \
und Sie erhalten sofort eine Bestätigung. Zahlungserinnerungen für die zurückgeschickten Artikel \
pausieren wir, solange die Retoure läuft."""
    + _SIGNATURE["de"],
    "en": _GREETING["en"]
    + """\
you can register your return yourself here: {{ portal_url }}
Enter {% if order %}your order number {{ order.number }}{% else %}your order number{% endif %} \
and your e-mail address, choose the items and the reason, and you get a confirmation right \
away. We pause payment reminders for the returned items while the return is open."""
    + _SIGNATURE["en"],
}

_EXCHANGE_HOWTO = {
    "de": _GREETING["de"]
    + """\
gern tauschen wir Ihren Artikel um. Melden Sie die Rücksendung hier an: {{ portal_url }}
Wählen Sie dort „Umtausch“ und die Größe oder Farbe, die Sie stattdessen möchten; angeboten \
werden nur Varianten, die wir auf Lager haben. Wir legen den Ersatz sofort für Sie zurück und \
schicken ihn los, sobald Ihre Rücksendung bei uns ist."""
    + _SIGNATURE["de"],
    "en": _GREETING["en"]
    + """\
we are happy to exchange your item. Register the return here: {{ portal_url }}
Choose "exchange" and the size or colour you would like instead; only variants we have in stock \
are offered. We set the replacement aside for you right away and send it as soon as your return \
has arrived."""
    + _SIGNATURE["en"],
}

#: (shortcut, intents, requires, titles, bodies) of the responses every shop starts with.
DEFAULT_RESPONSES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], dict, dict], ...] = (
    (
        "reminder-return",
        ("payment_reminder",),
        ("return",),
        {"de": "Zahlungserinnerung trotz Retoure", "en": "Payment reminder while a return is open"},
        _REMINDER,
    ),
    (
        "return-status",
        ("return_status",),
        ("return",),
        {"de": "Stand der Retoure", "en": "Return status"},
        _RETURN_STATUS,
    ),
    (
        "refund-status",
        ("refund_status",),
        (),
        {"de": "Stand der Erstattung", "en": "Refund status"},
        _REFUND_STATUS,
    ),
    (
        "order-status",
        ("order_status",),
        ("shipment",),
        {"de": "Bestellung unterwegs", "en": "Order on its way"},
        _ORDER_STATUS,
    ),
    (
        "return-howto",
        ("return_request",),
        (),
        {"de": "So funktioniert die Rücksendung", "en": "How to return"},
        _RETURN_HOWTO,
    ),
    (
        "exchange-howto",
        ("exchange_request",),
        (),
        {"de": "So funktioniert der Umtausch", "en": "How to exchange"},
        _EXCHANGE_HOWTO,
    ),
)
