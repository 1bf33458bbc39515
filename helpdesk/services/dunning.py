"""The dunning hold: no payment reminder for goods that are on their way back.

While a return is open, the order's unpaid invoice is on hold for the returned
amount, and the payment provider hears of it through the signed outbound
webhooks `dunning.hold` and `dunning.release`. The hold ends when the refund is
booked against the invoice, when the return is rejected, or when the exchange
is done. An agent can also pause reminders by hand (the customer says they sent
it back, but no return is registered yet); such a hold stays until an agent
releases it or the invoice is paid.
"""

from __future__ import annotations

from datetime import datetime

from helpdesk.errors import InvalidInput
from helpdesk.models import Invoice, Order, Return, User
from helpdesk.models.types import utcnow
from helpdesk.services import webhooks_out
from helpdesk.services.events import record_event


def sync_hold(
    order: Order, *, actor: str = "system", user: User | None = None, now: datetime | None = None
) -> None:
    """Make the holds of `order`'s invoices match its open returns."""
    from helpdesk.services.returns import open_returns  # returns calls us; import late

    now = now or utcnow()
    returns = open_returns(order)
    value = sum(r.value_cents for r in returns)
    # Return numbers only: the reason is shown to agents in their language and sent to the
    # payment provider, so it carries no words.
    reason = ", ".join(r.number for r in returns) if returns else None
    for invoice in order.invoices:
        if invoice.status != "open" or invoice.amount_due_cents <= 0:
            if invoice.on_hold:
                _release(invoice, "the invoice is settled", actor=actor, user=user, now=now)
            continue
        if invoice.on_hold and invoice.hold_source == "agent":
            continue
        if value > 0:
            amount = min(value, invoice.amount_due_cents)
            if not invoice.on_hold or (invoice.hold_cents, invoice.hold_reason) != (amount, reason):
                _hold(invoice, amount, reason, "return", actor=actor, user=user, now=now)
        elif invoice.on_hold:
            _release(invoice, "no return is open any more", actor=actor, user=user, now=now)


def settle_refund(
    return_: Return, *, actor: str = "system", user: User | None = None, now: datetime | None = None
) -> None:
    """Book the refund against what the customer still owes, oldest invoice first."""
    left = return_.refund_cents or 0
    for invoice in return_.order.invoices:
        if left <= 0 or invoice.status != "open" or invoice.amount_due_cents <= 0:
            continue
        credited = min(left, invoice.amount_due_cents)
        invoice.amount_due_cents -= credited
        left -= credited
        if invoice.amount_due_cents == 0:
            invoice.status = "paid"
        record_event(
            "invoice.credited",
            customer=return_.order.customer,
            user=user,
            actor=actor,
            invoice=invoice.number,
            order=return_.order.number,
            **{"return": return_.number},
            credited_cents=credited,
            amount_due_cents=invoice.amount_due_cents,
        )
    sync_hold(return_.order, actor=actor, user=user, now=now)


def hold_by_agent(
    invoice: Invoice, user: User, reason: str, *, now: datetime | None = None
) -> None:
    """Pause reminders for the whole amount due, by hand."""
    if invoice.status != "open" or invoice.amount_due_cents <= 0:
        raise InvalidInput(f"invoice {invoice.number} has nothing due")
    if invoice.on_hold:
        raise InvalidInput(f"invoice {invoice.number} is on hold already")
    if not reason.strip():
        raise InvalidInput("say why reminders are paused, e.g. 'customer sent it back on 3 Nov'")
    _hold(invoice, invoice.amount_due_cents, reason.strip(), "agent", actor=f"user:{user.id}",
          user=user, now=now or utcnow())  # fmt: skip


def release_by_agent(invoice: Invoice, user: User, *, now: datetime | None = None) -> None:
    """End a hold an agent set. A return's hold ends with the return, not by hand."""
    if not invoice.on_hold:
        raise InvalidInput(f"invoice {invoice.number} is not on hold")
    if invoice.hold_source == "return":
        raise InvalidInput(
            f"reminders are paused while return {invoice.hold_reason} is open; "
            "they resume when it is refunded, exchanged or rejected"
        )
    now = now or utcnow()
    _release(invoice, f"released by {user.name}", actor=f"user:{user.id}", user=user, now=now)
    sync_hold(invoice.order, actor=f"user:{user.id}", user=user, now=now)  # an open return's


def _hold(
    invoice: Invoice,
    cents: int,
    reason: str | None,
    source: str,
    *,
    actor: str,
    user: User | None,
    now: datetime,
) -> None:
    invoice.hold_cents = cents
    invoice.hold_reason = reason
    invoice.hold_source = source
    invoice.hold_since = invoice.hold_since or now
    data = _payload(invoice)
    record_event("dunning.hold", customer=invoice.order.customer, user=user, actor=actor, **data)
    webhooks_out.emit("dunning.hold", data, now=now)


def _release(invoice: Invoice, why: str, *, actor: str, user: User | None, now: datetime) -> None:
    data = {**_payload(invoice), "released_because": why}
    invoice.hold_cents = invoice.hold_reason = invoice.hold_source = invoice.hold_since = None
    record_event("dunning.release", customer=invoice.order.customer, user=user, actor=actor, **data)
    webhooks_out.emit("dunning.release", data, now=now)


def _payload(invoice: Invoice) -> dict:
    """What the payment provider needs to pause or resume reminders."""
    return {
        "invoice": invoice.number,
        "order": invoice.order.number,
        "customer_email": invoice.order.email,
        "currency": invoice.currency,
        "amount_due_cents": invoice.amount_due_cents,
        "hold_cents": invoice.hold_cents,
        "reason": invoice.hold_reason,
        "source": invoice.hold_source,
        "since": invoice.hold_since.isoformat() if invoice.hold_since else None,
        "reminder_level": invoice.reminder_level,
    }
