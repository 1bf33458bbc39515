"""The OpenAPI document against the code: schemathesis sends generated requests to every
operation on both databases; no answer may be a server error, and every answer must be
one the document lists, in its shape. The example count is bounded to keep it short."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from helpdesk.api.spec import OPERATIONS
from helpdesk.extensions import db
from helpdesk.models import CannedResponse
from tests.integration.api.conftest import bearer, token_for

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


#: Generated requests per operation; a dozen operations on two databases stay well under
#: a minute on this machine.
EXAMPLES = 12


def test_the_api_keeps_what_its_document_promises(app, store):
    """Each documented operation with generated parameters and bodies, as an admin token
    (every operation is open to admins). schemathesis's pytest plugin does not load on
    pytest 9, so the operations are walked here, one Hypothesis run each."""
    headers = bearer(token_for("admin"))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(OPERATIONS)
    response_id = db.session.scalar(select(CannedResponse.id))
    known = {  # records that exist, so that most requests reach past the look-up
        "number": [store.email_ticket, store.second_ticket, store.social_ticket],
        "id": [store.customer, response_id],
        "ticket": [store.email_ticket, store.social_ticket],
    }
    for operation in operations:

        @given(case=operation.as_strategy(), real=st.integers(0, 3), pick=st.integers(0, 2))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def run(case, real, pick):
            if real:  # three in four
                for where in (case.path_parameters, case.query):
                    for name in set(where or {}) & set(known):
                        where[name] = known[name][pick % len(known[name])]
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()


def test_every_route_of_the_api_is_in_the_document(app):
    documented = {(o.method, "/api/v1" + o.path) for o in OPERATIONS}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi":
            path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routed.add((method, path))
    assert routed == documented


def test_the_document_is_valid_openapi(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(document)  # refuses a document that is not OpenAPI
