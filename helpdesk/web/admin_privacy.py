"""A customer's data for admins (GDPR): download everything we hold as JSON, or erase it.

Both reuse services/privacy.py, as `helpdesk customers export|erase` does. Erasure
cannot be undone, so the form asks for the customer's number typed again and a reason;
the reason is kept in the audit log (an event without the customer's personal data).
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.extensions import db
from helpdesk.models import Customer
from helpdesk.services import audit
from helpdesk.services.privacy import erase_customer, export_customer
from helpdesk.web.auth import roles_required

bp = Blueprint("admin_privacy", __name__, url_prefix="/admin")
REASON_LENGTH = (5, 500)


def _customer(customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        abort(404)
    return customer


@bp.get("/customers/<int:customer_id>/privacy")
@roles_required("admin")
def page(customer_id: int):
    customer = _customer(customer_id)
    return render_template("admin/privacy.html", customer=customer, reason_length=REASON_LENGTH)


@bp.get("/customers/<int:customer_id>/export")
@roles_required("admin")
def export(customer_id: int):
    customer = _customer(customer_id)
    data = export_customer(customer)
    audit.record("customer.exported", by=current_user, customer_number=customer.id)
    db.session.commit()
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return (
        body,
        200,
        {
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": f"attachment; filename=customer-{customer.id}.json",
            "X-Content-Type-Options": "nosniff",
        },
    )


@bp.post("/customers/<int:customer_id>/erase")
@roles_required("admin")
def erase(customer_id: int):
    customer = _customer(customer_id)
    confirmation = request.form.get("confirm", "").strip()
    reason = " ".join(request.form.get("reason", "").split())
    problem = None
    if confirmation != str(customer.id):
        problem = _("Type the customer's number %(number)s to confirm.", number=customer.id)
    elif not REASON_LENGTH[0] <= len(reason) <= REASON_LENGTH[1]:
        problem = _("Give the reason for the erasure (%(low)s to %(high)s characters).",
                    low=REASON_LENGTH[0], high=REASON_LENGTH[1])  # fmt: skip
    if problem:
        flash(problem, "error")
        return render_template("admin/privacy.html", customer=customer, reason=reason,
                               reason_length=REASON_LENGTH), 422  # fmt: skip
    number = customer.id
    removed = erase_customer(customer, actor=f"user:{current_user.id}")
    audit.record("customer.erasure_requested", by=current_user, customer_number=number,
                 reason=reason, **removed)  # fmt: skip
    db.session.commit()
    flash(_("Customer %(number)s and their tickets are erased.", number=number), "info")
    return redirect(url_for("admin_audit.index", area="customer"))
