"""Templates written by shop staff (notifications, canned responses), rendered sandboxed.

Such a template may use the values it is given and nothing else: Jinja2's
SandboxedEnvironment refuses attribute tricks that reach Python internals, and
the app's config is never in the context. Money and dates are formatted for
the language the text is written in: `{{ invoice.amount_due_cents | money(invoice.currency) }}`
gives "49,95 €" in German and "€49.95" in English; `{{ value | date }}` gives
"23.11.2026" or "23 Nov 2026".
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_currency
from jinja2 import FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from helpdesk.config import PROJECT_ROOT

#: The locale behind each language the helpdesk writes in.
LOCALES = {"de": "de_DE", "en": "en_GB"}
SHOP_TIME_ZONE = ZoneInfo("Europe/Berlin")
#: Dates customers read, per language.
DATE_FORMATS = {"de": "dd.MM.yyyy", "en": "d MMM yyyy"}


#: The longest text or list a template may build by repetition (`"x" * n`).
MAX_REPEATED = 100_000


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox also refuses sums that would eat the worker's memory or time:
    `'x' * 10**9` or `9 ** 9 ** 9` in a canned response must fail, not hang the server."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise SecurityError("the exponent is too large for a template")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                repeats = isinstance(sequence, str | list | tuple) and isinstance(times, int)
                if repeats and len(sequence) * times > MAX_REPEATED:
                    raise SecurityError("the text would be too long for a template")
        return super().call_binop(context, operator, left, right)


@cache
def _environment() -> SandboxedEnvironment:
    environment = BoundedSandbox(
        loader=FileSystemLoader(PROJECT_ROOT / "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    environment.filters["money"] = _money
    environment.filters["date"] = _date
    return environment


def render_text(name: str, language: str | None, **context: Any) -> str:
    """Render `templates/<name>.<language>.txt`, falling back to English."""
    environment = _environment()
    candidates = [f"{name}.{language}.txt", f"{name}.en.txt"] if language else [f"{name}.en.txt"]
    template = environment.select_template(candidates)
    language = language if template.name == f"{name}.{language}.txt" else "en"
    return template.render(language=language, **context).strip() + "\n"


def render_string(source: str, language: str | None, **context: Any) -> str:
    """Render a template kept in the database (a canned response); errors propagate as
    jinja2's TemplateError (undefined placeholders, syntax, sandbox violations)."""
    template = _environment().from_string(source)
    return template.render(language=language or "en", **context).strip() + "\n"


def _language(context: Context) -> str:
    language = context.get("language")
    return language if language in LOCALES else "en"


@pass_context
def _money(context: Context, cents: int | None, currency: str = "EUR") -> str:
    if cents is None:
        return ""
    return format_currency(cents / 100, currency, locale=LOCALES[_language(context)])


@pass_context
def _date(context: Context, value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(SHOP_TIME_ZONE).date()  # stored in UTC, read in the shop's day
    language = _language(context)
    return format_date(value, DATE_FORMATS[language], locale=LOCALES[language])
