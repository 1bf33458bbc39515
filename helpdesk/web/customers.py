"""The customer page: identities on every channel, tickets, one timeline across channels,
merging two customers (with undo), likely duplicates to confirm, and logging a call.

Social media managers see the page too, but only the content of social tickets: of the
others they see number, channel and status (enough to know care has an open ticket).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import Customer, CustomerMerge
from helpdesk.services import calls, customer_merge
from helpdesk.services.customers import customer_tickets, customer_timeline
from helpdesk.services.inbox import may_see
from helpdesk.web.auth import roles_required

bp = Blueprint("customers", __name__)
ALL_ROLES = ("agent", "lead", "social", "admin")
#: Who may merge and unmerge customers and log calls.
CARE_ROLES = ("agent", "lead")


def _customer(customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        abort(404)
    return customer


@bp.get("/customers/<int:customer_id>")
@roles_required(*ALL_ROLES)
def show(customer_id: int):
    customer = _customer(customer_id)
    if customer.merged_into_id is not None:
        flash(_("Customer #%(number)s is merged into this one.", number=customer.id), "info")
        survivor = customer_merge.surviving(customer)
        return redirect(url_for("customers.show", customer_id=survivor.id))
    tickets = customer_tickets(customer)
    readable = [t for t in tickets if may_see(current_user, t)]
    may_change = current_user.has_role(*CARE_ROLES)
    return render_template(
        "customers/show.html",
        customer=customer,
        tickets=tickets,
        readable_ids={t.id for t in readable},
        timeline=customer_timeline(customer, tickets),
        merges=customer_merge.merges_into(customer),
        suggestions=customer_merge.likely_duplicates(customer) if may_change else [],
        may_change=may_change,
        outcomes=calls.OUTCOMES,
        outcome_label=calls.outcome_label,
    )


@bp.post("/customers/<int:customer_id>/merge")
@roles_required(*CARE_ROLES)
def merge(customer_id: int):
    """Merge the customer the form names into this one."""
    keep = _customer(customer_id)
    raw = request.form.get("other", "").strip().lstrip("#")
    if not raw.isdigit() or len(raw) > 9:
        flash(_("Give the number of the customer to merge into this one."), "error")
        return redirect(url_for("customers.show", customer_id=customer_id))
    other = db.session.get(Customer, int(raw))
    if other is None:
        flash(_("Customer #%(number)s does not exist.", number=raw), "error")
        return redirect(url_for("customers.show", customer_id=customer_id))
    try:
        record = customer_merge.merge_by_agent(keep, other, current_user)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("customers.show", customer_id=customer_id))
    db.session.commit()
    flash(_("Customer #%(other)s is merged into this one; you can undo it below.",
            other=record.merged_id), "info")  # fmt: skip
    return redirect(url_for("customers.show", customer_id=record.kept_id))


@bp.post("/customers/merges/<int:merge_id>/undo")
@roles_required(*CARE_ROLES)
def unmerge(merge_id: int):
    record = db.session.get(CustomerMerge, merge_id)
    if record is None:
        abort(404)
    kept_id = record.kept_id
    try:
        restored = customer_merge.unmerge(record, current_user)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("customers.show", customer_id=kept_id))
    db.session.commit()
    flash(_("The merge is undone: customer #%(number)s stands on its own again.",
            number=restored.id), "info")  # fmt: skip
    return redirect(url_for("customers.show", customer_id=kept_id))


@bp.post("/customers/<int:customer_id>/calls")
@roles_required(*CARE_ROLES)
def log_call(customer_id: int):
    customer = customer_merge.surviving(_customer(customer_id))
    try:
        message = calls.log_call_for_customer(
            customer, current_user, calls.parse_call(request.form)
        )
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("customers.show", customer_id=customer.id) + "#log-call")
    db.session.commit()
    flash(_("The call is recorded."), "info")
    return redirect(url_for("ticket.show", number=message.ticket_id) + f"#message-{message.id}")
