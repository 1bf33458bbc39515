"""The shared inbox: views with counts, filters and sorts kept in the URL, keyset pages,
bulk actions. The ticket page lives in helpdesk/web/ticket.py."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode as _urlencode

from babel import Locale
from babel.dates import DateTimePattern, parse_pattern
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_number, get_locale, get_timezone, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import literal, select, union_all

from channel_adapters.base import CHANNELS
from classifiers.base import INTENTS
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import TICKET_STATUSES, Team, User
from helpdesk.models.types import utcnow
from helpdesk.services.inbox import (
    SOCIAL_CHANNELS,
    SORTS,
    VIEWS,
    Filters,
    checked_sort,
    default_sort,
    list_tickets,
)
from helpdesk.services.inbox_bulk import BULK_STATUSES, BulkChange, bulk_update
from helpdesk.services.inbox_counts import count_views
from helpdesk.services.inbox_rows import Row
from helpdesk.web.auth import roles_required
from helpdesk.web.labels import LABELS

bp = Blueprint("inbox", __name__)
ALL_ROLES = ("agent", "lead", "social", "admin")

VIEW_LABELS = {
    "unassigned": _l("Unassigned"),
    "mine": _l("Mine"),
    "open": _l("All open"),
    "new": _l("New"),
    "pending": _l("Pending"),
    "on_hold": _l("On hold"),
    "due_soon": _l("SLA due soon"),
    "escalated": _l("Escalated from social"),
    "solved": _l("Solved"),
}
SORT_LABELS = {
    "activity": _l("Last activity"),
    "sla": _l("SLA due time"),
    "priority": _l("Priority"),
}


@bp.get("/inbox")
@roles_required(*ALL_ROLES)
def index():
    view = request.args.get("view") or "open"
    sort = checked_sort(view, request.args.get("sort") or None)
    filters = Filters.parse(request.args)
    counts = count_views(current_user)
    page = list_tickets(
        current_user,
        view=view,
        filters=filters,
        sort=sort,
        cursor=request.args.get("cursor") or None,
        limit=current_app.config["INBOX_PAGE_SIZE"],
    )
    channels = SOCIAL_CHANNELS if current_user.role == "social" else CHANNELS
    colleagues, teams = _colleagues_and_teams()
    inbox_url = _url_builder(view, page.sort, filters)
    return render_template(
        "inbox.html",
        page=page,
        view=view,
        filters=filters,
        inbox_url=inbox_url,
        sidebar=_sidebar(view, filters, counts, channels, inbox_url),
        view_labels=VIEW_LABELS,
        sorts=SORTS,
        sort_labels=SORT_LABELS,
        channels=channels,
        intents=INTENTS,
        statuses=TICKET_STATUSES,
        bulk_statuses=BULK_STATUSES,
        colleagues=colleagues,
        teams=teams,
        languages=current_app.config["LANGUAGES"],
        row_html=_row_renderer(utcnow()),
    )


@dataclass(frozen=True, slots=True)
class SidebarLink:
    """One view, channel or intent in the inbox's sidebar: where it leads, its count."""

    href: str
    label: str
    count: str
    active: bool
    value: str


def _sidebar(
    view: str, filters: Filters, counts, channels: tuple[str, ...], inbox_url
) -> dict[str, list[SidebarLink]]:
    """The views and the open tickets by channel and by intent, as links with their
    counts, prepared here: thirty links of macro and url_for calls cost a page a
    millisecond."""
    open_view = view == "open"
    return {
        "views": [
            SidebarLink(inbox_url(view=name, sort=None), str(VIEW_LABELS[name]),
                        _count(counts.views[name]) + ("+" if name in counts.capped else ""),
                        name == view, name)
            for name in VIEWS
        ],
        "channels": [
            SidebarLink(inbox_url(view="open", channel=name),
                        str(LABELS["channel"].get(name, name)), _count(counts.channels[name]),
                        open_view and name == filters.channel, name)
            for name in channels
        ],
        "intents": [
            SidebarLink(inbox_url(view="open", intent=name),
                        str(LABELS["intent"].get(name, name)), _count(counts.intents[name]),
                        open_view and name == filters.intent, name)
            for name in INTENTS
        ],
    }  # fmt: skip


def _count(number: int) -> str:
    """A count in the user's locale; below a thousand every locale writes plain digits."""
    return str(number) if 0 <= number < 1000 else format_number(number)


def _colleagues_and_teams() -> tuple[list, list]:
    """Active users and all teams (id, name) for the filters, in one statement."""
    rows = db.session.execute(
        union_all(
            select(literal("u").label("kind"), User.id, User.name).where(User.active.is_(True)),
            select(literal("t").label("kind"), Team.id, Team.name),
        ).order_by("kind", "name")
    ).all()
    return [r for r in rows if r.kind == "u"], [r for r in rows if r.kind == "t"]


def _row_helpers() -> dict[str, object]:
    """Labels and a time formatter resolved once per request, for the rows of the list."""
    locale, zone = get_locale(), get_timezone()
    combined, date_pattern, time_pattern = _short_patterns(str(locale))

    def short_time(value: datetime) -> str:
        local = value.astimezone(zone)
        return combined.replace("{0}", time_pattern.apply(local, locale)).replace(
            "{1}", date_pattern.apply(local, locale)
        )

    return {
        "labels": {
            kind: {value: str(text) for value, text in LABELS[kind].items()}
            for kind in ("channel", "status", "priority", "intent")
        },
        "short_time": short_time,
        "select_label": _("Select"),
        "language_label": _("Language"),
        "no_subject": _("(no subject)"),
    }


#: Rendered rows by everything they show (the row, overdue or not, language and time
#: zone): most of an inbox's rows are the same from one request to the next, and
#: rendering fifty of them was a third of the page's time. Emptied when full.
_ROWS: dict[tuple, Markup] = {}
ROWS_KEPT = 5_000


def _row_renderer(now: datetime) -> Callable[[Row], Markup]:
    """`row_html(row)`: the row's <tr>, from templates/inbox/row.html or kept."""
    helpers: dict[str, object] | None = None
    template = current_app.jinja_env.get_template("inbox/row.html")
    keep = not current_app.jinja_env.auto_reload  # a template being edited: render anew
    where = (str(get_locale()), str(get_timezone()))

    def row_html(row: Row) -> Markup:
        nonlocal helpers
        overdue = (
            row.sla_due_at is not None
            and row.sla_due_at < now
            and row.status not in ("solved", "closed")
        )
        key = (where, row, overdue)
        html = _ROWS.get(key) if keep else None
        if html is None:
            helpers = helpers or _row_helpers()
            html = Markup(template.render(ticket=row, overdue=overdue, **helpers))
            if keep:
                if len(_ROWS) >= ROWS_KEPT:
                    _ROWS.clear()
                _ROWS[key] = html
        return html

    return row_html


@functools.cache
def _short_patterns(locale_name: str) -> tuple[str, DateTimePattern, DateTimePattern]:
    """The locale's "short" date and time, parsed once: babel's format_datetime parses its
    patterns on every call (a third of a 50-row page's formatting time)."""
    locale = Locale.parse(locale_name)
    return (
        locale.datetime_formats["short"].replace("'", ""),
        parse_pattern(locale.date_formats["short"].pattern),
        parse_pattern(locale.time_formats["short"].pattern),
    )


#: What werkzeug's url_for leaves unquoted in a query, so the links read as before.
_URL_SAFE = "!$'()*,/:;?@"


def _url_builder(view: str, sort: str, filters: Filters) -> Callable[..., str]:
    """`inbox_url(**changes)`: this inbox's address with some arguments changed (None
    drops one); the cursor is only kept when given."""

    def inbox_url(**changes: str | None) -> str:
        args: dict[str, str | None] = {
            "view": view,
            "sort": None if sort == default_sort(view) else sort,
            **filters.as_args(),
            **changes,
        }
        query = _urlencode([(k, v) for k, v in args.items() if v], safe=_URL_SAFE)
        return f"{request.script_root}/inbox?{query}" if query else f"{request.script_root}/inbox"

    return inbox_url


@bp.post("/inbox/bulk")
@roles_required(*ALL_ROLES)
def bulk():
    """Change the selected tickets; a refusal (403, 404) changes none of them, a mistake
    in the form is shown on the inbox it came from."""
    back = _inbox_address(request.form.get("next"))
    try:
        change = BulkChange(
            action=request.form.get("action", ""),
            assignee=request.form.get("assignee") or None,
            status=request.form.get("status") or None,
            tag=request.form.get("tag") or None,
            target=_number(request.form.get("target")),
        )
        changed = bulk_update(current_user, _numbers(request.form.getlist("ticket")), change)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back)
    db.session.commit()
    flash(ngettext("%(num)d ticket changed.", "%(num)d tickets changed.", changed))
    return redirect(back)


def _numbers(values: list[str]) -> list[int]:
    return [n for n in (_number(v) for v in values) if n is not None]


def _number(value: str | None) -> int | None:
    value = (value or "").strip().lstrip("#")
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise InvalidInput(_("%(value)s is not a ticket number.", value=value))
    return int(value)


def _inbox_address(target: str | None) -> str:
    """Back to the inbox with its view and filters; never anywhere else."""
    if target and target.startswith("/inbox") and "//" not in target and "\\" not in target:
        return target
    return url_for("inbox.index")
