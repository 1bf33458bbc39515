"""Moving a return through its state machine from outside: the warehouse, the shop.

POST /api/v1/returns/<id>/transitions  {"status", "tracking_number"?, "carrier"?,
                                        "refund_cents"?, "note"?}
<id> is the return's id or its number ("R-12"). Any role but social may do this.
An illegal step is 409 with the steps that are allowed.
"""

from __future__ import annotations

from typing import Any

from flask import g

from helpdesk.api import ApiError, bp, json_body, token_required
from helpdesk.extensions import db
from helpdesk.models import Return
from helpdesk.services.returns import transition

_TEXT_FIELDS = {"tracking_number": 64, "carrier": 40, "note": 2000}


@bp.post("/returns/<ref>/transitions")
@token_required("agent", "lead")
def transition_return(ref: str):
    return_ = _find(ref)
    body = json_body()
    status = body.get("status")
    if not isinstance(status, str) or not status.strip():
        raise ApiError(422, "invalid_input", 'status: required, e.g. "received"')
    options: dict[str, Any] = {}
    for name, limit in _TEXT_FIELDS.items():
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > limit:
            raise ApiError(422, "invalid_input", f"{name}: text of at most {limit} characters")
        options[name] = value.strip() or None
    refund = body.get("refund_cents")
    if refund is not None:
        if isinstance(refund, bool) or not isinstance(refund, int) or refund < 0:
            raise ApiError(422, "invalid_input", "refund_cents: a whole number of cents, >= 0")
        options["refund_cents"] = refund
    changed = transition(return_, status.strip(), user=g.api_user, **options)
    db.session.commit()
    return {"return": return_json(return_), "changed": changed}


def _find(ref: str) -> Return:
    digits = ref.upper().removeprefix("R-")
    found = digits.isdigit() and len(digits) < 10  # beyond that, no id of ours
    return_ = db.session.get(Return, int(digits)) if found else None
    if return_ is None:
        raise ApiError(404, "not_found", f"no return {ref}")
    return return_


def return_json(return_: Return) -> dict[str, Any]:
    return {
        "id": return_.id,
        "number": return_.number,
        "order": return_.order.number,
        "external_id": return_.external_id,
        "status": return_.status,
        "resolution": return_.resolution,
        "carrier": return_.carrier,
        "tracking_number": return_.tracking_number,
        "refund_cents": return_.refund_cents,
        "value_cents": return_.value_cents,
        "note": return_.note,
        "history": return_.history,
        "items": [
            {
                "sku": item.order_item.sku,
                "name": item.order_item.name,
                "quantity": item.quantity,
                "reason": item.reason,
                "exchange_sku": item.exchange_sku,
            }
            for item in return_.items
        ],
    }
