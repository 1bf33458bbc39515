"""Writing canned responses: validation on save, and a preview against a real ticket.

A body is a Jinja2 template rendered in the sandbox (services.templating). On save
its syntax must parse; placeholders the ticket context never provides (a typo such
as `{{ oder.number }}`) are warnings, because the response is still saved and the
preview shows what they do. The names a template may use come from the context
services.canned builds for a ticket, so the two never drift apart.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import cache
from types import SimpleNamespace
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import TemplateSyntaxError, nodes
from jinja2.meta import find_undeclared_variables
from sqlalchemy import select

from channel_adapters.base import CHANNELS
from classifiers.base import INTENTS
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import (
    LANGUAGES,
    CannedResponse,
    Customer,
    Invoice,
    Order,
    Return,
    Shipment,
    Shop,
    Ticket,
    User,
)
from helpdesk.services.canned import FACTS, Facts, facts_for, fill_in, template_context
from helpdesk.services.events import record_event
from helpdesk.services.templating import _environment

log = logging.getLogger(__name__)

SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
TITLE_LENGTH = CannedResponse.title.type.length
SHORTCUT_LENGTH = CannedResponse.shortcut.type.length
MAX_BODY = 20_000
#: Set by the renderer itself, not by the ticket.
RENDERER_NAMES = frozenset({"language"})


@dataclass
class Draft:
    """What the form holds: saved only when it is valid."""

    title: str = ""
    shortcut: str = ""
    language: str = "de"
    intents: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    requires: list[str] = field(default_factory=list)
    body: str = ""
    active: bool = True

    @classmethod
    def of(cls, response: CannedResponse) -> Draft:
        return cls(
            title=response.title,
            shortcut=response.shortcut,
            language=response.language,
            intents=list(response.intents or ()),
            channels=list(response.channels or ()),
            requires=list(response.requires or ()),
            body=response.body,
            active=response.active,
        )


@dataclass(frozen=True, slots=True)
class Checked:
    """A valid draft, and what looks wrong but does not stop saving."""

    draft: Draft
    warnings: list[str]


class InvalidResponse(InvalidInput):
    """The draft cannot be saved; `problems` says why, one line per field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Preview:
    text: str
    error: str | None = None


# --- what a template may use -------------------------------------------------------------


@cache
def known_placeholders() -> dict[str, frozenset[str]]:
    """Each name a template gets, with the attributes it has (empty: a plain value).

    Built from the context of an unsaved sample ticket with every fact present, by
    the same function that fills in responses for real tickets.
    """
    shop = Shop(key="sample", name="Sample")
    order = Order(shop=shop, number="1", currency="EUR", items=[], shipments=[], invoices=[])
    ticket = Ticket(subject="", channel="email", customer=Customer(identities=[]), order=order)
    facts = Facts(order=order, shipment=Shipment(), invoice=Invoice(), return_=Return(items=[]))
    context = template_context(ticket, facts, User(name="", email=""))
    known: dict[str, frozenset[str]] = {name: frozenset() for name in RENDERER_NAMES}
    for name, value in context.items():
        attributes = vars(value) if isinstance(value, SimpleNamespace) else {}
        known[name] = frozenset(attributes)
    return known


def unknown_placeholders(body: str) -> list[str]:
    """Names and attributes the body uses that no ticket provides: `oder`, `order.nubmer`.
    Raises jinja2.TemplateSyntaxError when the body does not compile (also for a filter
    the sandbox does not have)."""
    environment = _environment()  # the very environment responses are rendered in
    environment.compile(body)
    tree = environment.parse(body)
    known = known_placeholders()
    unknown = sorted(name for name in find_undeclared_variables(tree) if name not in known)
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name in known:
            attributes = known[node.node.name]
            if attributes and node.attr not in attributes:
                unknown.append(f"{node.node.name}.{node.attr}")
    return list(dict.fromkeys(unknown))


# --- saving --------------------------------------------------------------------------------


def check(draft: Draft, *, existing: CannedResponse | None = None) -> Checked:
    """Validate `draft`; raises InvalidResponse listing every problem at once."""
    problems = []
    draft.title = " ".join(draft.title.split())
    draft.shortcut = draft.shortcut.strip().lower()
    if not draft.title:
        problems.append(_("A title is needed."))
    elif len(draft.title) > TITLE_LENGTH:
        problems.append(_("The title may be at most %(max)s characters long.", max=TITLE_LENGTH))
    if not SHORTCUT.match(draft.shortcut) or len(draft.shortcut) > SHORTCUT_LENGTH:
        problems.append(
            _(
                "The shortcut is lower-case letters, digits, - and _ (at most %(max)s), e.g."
                " return-status.",
                max=SHORTCUT_LENGTH,
            )
        )
    if draft.language not in LANGUAGES:
        problems.append(_("The language is one of %(languages)s.", languages=", ".join(LANGUAGES)))
    for message, chosen, allowed in (
        (_l("Unknown intent: %(values)s"), draft.intents, INTENTS),
        (_l("Unknown channel: %(values)s"), draft.channels, CHANNELS),
        (_l("Unknown fact: %(values)s"), draft.requires, FACTS),
    ):
        wrong = [value for value in chosen if value not in allowed]
        if wrong:
            problems.append(str(message) % {"values": ", ".join(wrong)})
    clash = db.session.scalar(
        select(CannedResponse).where(
            CannedResponse.shortcut == draft.shortcut, CannedResponse.language == draft.language
        )
    )
    if clash is not None and clash is not existing:
        problems.append(
            _("The shortcut %(shortcut)s is already used in this language (%(title)s).",
              shortcut=draft.shortcut, title=clash.title)
        )  # fmt: skip
    warnings: list[str] = []
    if not draft.body.strip():
        problems.append(_("The text is empty."))
    elif len(draft.body) > MAX_BODY:
        problems.append(_("The text may be at most %(max)s characters long.", max=MAX_BODY))
    else:
        try:
            unknown = unknown_placeholders(draft.body)
        except TemplateSyntaxError as error:
            problems.append(
                _("The text has an error in line %(line)s: %(error)s", line=error.lineno,
                  error=error.message)
            )  # fmt: skip
        else:
            if unknown:
                warnings.append(
                    _("No ticket provides these placeholders: %(names)s (saved anyway; check"
                      " the preview).", names=", ".join(unknown))
                )  # fmt: skip
    if problems:
        raise InvalidResponse(problems)
    return Checked(draft, warnings)


def save(draft: Draft, *, response: CannedResponse | None, by: User) -> Checked:
    """Create (`response` None) or update a response from a valid draft, as an event."""
    checked = check(draft, existing=response)
    creating = response is None
    if response is None:
        response = CannedResponse()
        db.session.add(response)
    before = {} if creating else _snapshot(response)
    for name in ("title", "shortcut", "language", "intents", "channels", "requires", "body"):
        setattr(response, name, getattr(draft, name))
    response.active = draft.active
    db.session.flush()
    changed = sorted(k for k, v in _snapshot(response).items() if before.get(k) != v)
    record_event(
        "canned_response.created" if creating else "canned_response.updated",
        user=by,
        response_id=response.id,
        shortcut=response.shortcut,
        language=response.language,
        changed=changed,
    )
    return checked


def set_active(response: CannedResponse, active: bool, *, by: User) -> None:
    if response.active != active:
        response.active = active
        kind = "canned_response.activated" if active else "canned_response.deactivated"
        record_event(kind, user=by, response_id=response.id, shortcut=response.shortcut,
                     language=response.language)  # fmt: skip


def _snapshot(response: CannedResponse) -> dict[str, Any]:
    return {
        "title": response.title,
        "shortcut": response.shortcut,
        "language": response.language,
        "intents": list(response.intents or ()),
        "channels": list(response.channels or ()),
        "requires": list(response.requires or ()),
        "body": response.body,
        "active": response.active,
    }


# --- preview -------------------------------------------------------------------------------


def preview(draft: Draft, ticket: Ticket, *, agent: User | None) -> Preview:
    """The draft filled in for `ticket`, as an agent would get it, or why it cannot be:
    a missing fact, a placeholder without a value, a syntax or sandbox error."""
    facts = facts_for(ticket)
    missing = [fact for fact in draft.requires if fact not in facts.present]
    sample = CannedResponse(body=draft.body, language=draft.language, shortcut=draft.shortcut)
    try:
        suggestion = fill_in(sample, template_context(ticket, facts, agent))
    except Exception as error:  # a template is staff input: the admin page must stay up
        log.exception("preview of %s failed", draft.shortcut)
        return Preview("", _("The template could not be filled in (%(error)s).",
                             error=type(error).__name__))  # fmt: skip
    finally:
        if sample in db.session:
            db.session.expunge(sample)
    if suggestion.missing:
        return Preview("", suggestion.missing)
    if missing:
        note = _("Not offered for this ticket: it lacks %(facts)s.", facts=", ".join(missing))
        return Preview(suggestion.text, note)
    return Preview(suggestion.text)
