"""Route audit: every URL the app answers, for an anonymous visitor and for each role.

The audit walks `app.url_map`, so a route added tomorrow is checked without anyone
listing it here: unless it is in the short list of public routes below, an
anonymous request must be sent to the sign-in page (or get 401), and a route
under /admin must refuse every role but admin with 403. Routes that only some
roles may use are listed in RESTRICTED. The last tests show that the audit
itself fails for a route that forgets its check.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask_login import login_required
from werkzeug.routing import Rule

from helpdesk import create_app
from helpdesk.extensions import db
from tests.conftest import IsolatedClient, csrf_token, log_in, make_user, signed_in_client

ROLES = ("agent", "lead", "social", "admin")

#: Endpoints anyone may reach, and why.
PUBLIC_ENDPOINTS = {
    "auth.login": "the sign-in page itself",
    "auth.set_language": "switches the language of the sign-in page too",
    "system.root": "only redirects to the inbox, which asks for the sign-in",
    "system.healthz": "load balancers ask it; says only 'ok'",
    "metrics.readyz": "load balancers ask it; says only whether the schema is current",
    "metrics.metrics": "bearer token or loopback only (tests/integration/test_metrics.py)",
    "static": "stylesheets and scripts",
    "chat.demo_shop": "the demo shop page a customer chats from (no data, the widget only)",
    "chat.faq_page": "the shop's public FAQ, the same entries the chatbot answers with",
    "api.openapi": "the API's reference document; it describes routes and holds no data",
}
#: URL prefixes open to the world, and why.
PUBLIC_PREFIXES = {
    "/returns": "the customers' returns portal: order number with e-mail or postcode",
    "/webhooks/": "senders sign every delivery; the signature is checked before anything",
    "/csat/": "customers rate our help from the survey e-mail; the link's token is signed",
    "/chat/": "the shop's visitors: the widget's files; its API asks for the signed visitor token",
}
#: Prefixes whose callers authenticate with a token instead of a session: 401 without.
TOKEN_PREFIXES = ("/api/",)
#: Prefixes for admins only.
ADMIN_PREFIXES = ("/admin",)
#: Signing out ends the session the role audit walks with (its anonymous check stays).
SIGN_OUT = {"auth.logout"}
#: Endpoints outside /admin that only some roles may use (admins may everything).
RESTRICTED = {
    # Chats are answered by care; social media managers hand over, admins may everything.
    "chats.index": ("agent", "lead"),
    # Social media managers see tickets and returns but do not change them.
    "ticket.merge": ("agent", "lead"),
    "ticket.unmerge": ("agent", "lead"),
    "ticket.split": ("agent", "lead"),
    "ticket_commerce.move_return": ("agent", "lead"),
    "ticket_commerce.pause_reminders": ("agent", "lead"),
    "ticket_commerce.resume_reminders": ("agent", "lead"),
    # Calls and customer merges are care's; social media managers escalate instead.
    "calls.log_on_ticket": ("agent", "lead"),
    "customers.log_call": ("agent", "lead"),
    "customers.merge": ("agent", "lead"),
    "customers.unmerge": ("agent", "lead"),
    # KPIs are for team leads (and admins).
    "kpis.dashboard": ("lead",),
    "kpis.export": ("lead",),
    "kpis.spike_settings": ("lead",),
    "kpis.save_spike_settings": ("lead",),
    # The wall of pain and ideas: agents and leads; only leads set an entry's status.
    "wall.index": ("agent", "lead"),
    "wall.create": ("agent", "lead"),
    "wall.vote": ("agent", "lead"),
    "wall.pin": ("agent", "lead"),
    "wall.status": ("lead",),
    "wall.pin_form": ("agent", "lead"),
    "wall.pin_from_ticket": ("agent", "lead"),
}


def _sample_url(rule: Rule) -> str:
    """The rule's URL with 1 for every argument (it suits numbers and strings alike; the
    record need not exist: access is checked before anything is looked up)."""
    return rule.build(dict.fromkeys(rule.arguments, 1), append_unknown=False)[1]


def routes(app: Flask) -> Iterator[tuple[Rule, str, str]]:
    """(rule, method, url) for every method of every route (HEAD and OPTIONS aside)."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method, _sample_url(rule)


def is_public(rule: Rule) -> bool:
    return rule.endpoint in PUBLIC_ENDPOINTS or rule.rule.startswith(tuple(PUBLIC_PREFIXES))


def allowed_roles(rule: Rule) -> tuple[str, ...]:
    if rule.rule.startswith(ADMIN_PREFIXES):
        return ("admin",)
    return (*RESTRICTED[rule.endpoint], "admin") if rule.endpoint in RESTRICTED else ROLES


def _request(client, method: str, url: str, token: str):
    """One request, with a valid CSRF token so that what answers is the access check."""
    headers = {"Accept": "text/html"}
    if method == "GET":
        response = client.open(url, method=method, headers=headers)
    else:
        response = client.open(url, method=method, headers=headers, data={"csrf_token": token})
    status, location = response.status_code, response.headers.get("Location", "")
    response.close()
    return status, urlsplit(location).path


def anonymous_violations(app: Flask) -> list[str]:
    """Routes an anonymous visitor gets into instead of being sent to sign in."""
    client = app.test_client()
    token = csrf_token(client, "/login")
    found = []
    for rule, method, url in routes(app):
        if is_public(rule):
            continue
        status, location = _request(client, method, url, token)
        if rule.rule.startswith(TOKEN_PREFIXES):
            if status != 401:
                found.append(f"{method} {url}: {status} without a token, expected 401")
        elif not (status == 401 or (status == 302 and location == "/login")):
            found.append(f"{method} {url}: {status} {location} for an anonymous visitor")
    return found


def role_violations(app: Flask, client, role: str) -> list[str]:
    """Routes `role` gets into though it must not, or is refused though it may use."""
    token = csrf_token(client, "/search")
    found = []
    for rule, method, url in routes(app):
        if is_public(rule) or rule.rule.startswith(TOKEN_PREFIXES) or rule.endpoint in SIGN_OUT:
            continue
        status, location = _request(client, method, url, token)
        if role not in allowed_roles(rule):
            if status != 403:
                found.append(f"{method} {url}: {status} for {role}, expected 403")
        elif status in (401, 403) or (status == 302 and location == "/login"):
            found.append(f"{method} {url}: {status} {location} for {role}, who may use it")
        elif status >= 500:
            found.append(f"{method} {url}: server error {status} for {role}")
    return found


def test_every_route_asks_anonymous_visitors_to_sign_in(app):
    assert anonymous_violations(app) == []


def test_public_routes_are_few_and_exist(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(PUBLIC_ENDPOINTS) <= endpoints, "a public route in the list is gone: remove it"
    public = [rule.rule for rule in app.url_map.iter_rules() if is_public(rule)]
    assert not [path for path in public if path.startswith(ADMIN_PREFIXES)]


@pytest.mark.parametrize("role", ROLES)
def test_every_route_checks_the_role(app, role):
    client = signed_in_client(app, role)
    assert role_violations(app, client, role) == []


# --- the audit fails when a route forgets its check --------------------------------------


def _app_with_careless_routes(app: Flask) -> Flask:
    url = db.engine.url.render_as_string(hide_password=False)
    careless = create_app({**{k: app.config[k] for k in ("TESTING", "SECRET_KEY", "CLASSIFIER")},
                           "SQLALCHEMY_DATABASE_URI": url})  # fmt: skip
    careless.test_client_class = IsolatedClient

    @careless.get("/forgotten")
    def forgotten():
        return "anyone can read this"

    @careless.post("/admin/oops")
    @login_required
    def signed_in_only():
        return "any signed-in user can do this"

    return careless


def test_the_audit_catches_a_route_without_a_check(app):
    careless = _app_with_careless_routes(app)
    assert anonymous_violations(careless) == ["GET /forgotten: 200  for an anonymous visitor"]


def test_the_audit_catches_an_admin_route_open_to_agents(app):
    careless = _app_with_careless_routes(app)
    client = careless.test_client()
    make_user("agent")
    assert log_in(client, "agent@shop.example").status_code == 302
    violations = role_violations(careless, client, "agent")
    assert "POST /admin/oops: 200 for agent, expected 403" in violations
