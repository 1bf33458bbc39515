"""Every response carries the headers that keep injected code and framing out."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/login", "/returns", "/healthz", "/no-such-page"])
def test_every_response_has_a_strict_content_security_policy(client, path):
    headers = client.get(path).headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers, "HSTS only over HTTPS"


def test_hsts_behind_tls(client):
    headers = client.get("/login", base_url="https://helpdesk.example").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_pages_carry_no_inline_script_or_style(app, client):
    from helpdesk.ingest import ingest
    from tests import factories
    from tests.conftest import signed_in_client

    ticket = ingest(factories.inbound()).ticket_id
    agent = signed_in_client(app, "agent")
    pages = [client.get("/login"), client.get("/returns"), agent.get("/inbox")]
    pages.append(agent.get(f"/tickets/{ticket}"))
    for page in pages:
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert 'style="' not in html
        assert "<script>" not in html and " onclick=" not in html and "<style" not in html
