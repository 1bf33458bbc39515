"""/csat/<token>: the customer's one-click satisfaction rating, public by design.

The token is signed (helpdesk/services/csat.py) and names one survey; a link with a
rating records it when opened (one click in the e-mail), and the page offers a comment.
Opening another rating's link changes the answer. Nothing about the ticket is shown.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models.surveys import RATINGS
from helpdesk.services import csat

bp = Blueprint("csat", __name__)


@bp.get("/csat/<token>")
def survey(token: str):
    found, rating = csat.read_token(token)
    if rating is not None and found.rating != rating:
        csat.answer(found, rating)
        db.session.commit()
    return render_template(
        "csat/survey.html",
        survey=found,
        ratings=RATINGS,
        links={r: url_for("csat.survey", token=csat.token_for(found, r)) for r in RATINGS},
        token=csat.token_for(found),
    )


@bp.post("/csat/<token>")
def comment(token: str):
    found, _rating = csat.read_token(token)
    try:
        csat.answer(found, None, request.form.get("comment", ""))
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("csat.survey", token=token))
    db.session.commit()
    flash(_("Thank you for your feedback!"), "info")
    return redirect(url_for("csat.survey", token=csat.token_for(found)))
