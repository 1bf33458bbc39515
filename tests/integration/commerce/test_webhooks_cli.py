"""Admins subscribe the payment provider to dunning events from the command line."""

from __future__ import annotations

from helpdesk.extensions import db
from helpdesk.models import WebhookEndpoint
from helpdesk.services.returns import ReturnLine, register_return
from tests import factories


def test_an_endpoint_added_on_the_command_line_hears_of_the_next_hold(app, monkeypatch):
    monkeypatch.delenv("PAYMENT_HOOK_SECRET", raising=False)
    runner = app.test_cli_runner()
    added = runner.invoke(
        args=["webhooks", "add", "payments", "--url", "https://pay.example/h",
              "--secret-env", "PAYMENT_HOOK_SECRET", "--event", "dunning.*"]
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "set PAYMENT_HOOK_SECRET where the worker runs" in added.output

    order = factories.order()
    register_return(order, [ReturnLine(order.items[0], 1, "too_small")])
    db.session.commit()
    listing = runner.invoke(args=["webhooks", "list"])
    assert "payments (on): https://pay.example/h <- dunning.*" in listing.output
    assert "1 pending, 0 sent, 0 dead" in listing.output


def test_bad_endpoints_are_refused_with_what_to_fix(app):
    runner = app.test_cli_runner()
    for args, message in [
        (["--url", "ftp://pay.example", "--secret-env", "S", "--event", "x"], "not an http(s) URL"),
        (["--url", "https://p.example", "--secret-env", "lower", "--event", "x"],
         "names an environment variable"),
    ]:  # fmt: skip
        result = runner.invoke(args=["webhooks", "add", "p", *args])
        assert result.exit_code == 1 and message in result.output
    assert db.session.query(WebhookEndpoint).count() == 0


def test_a_shop_switches_return_notifications_off_from_the_command_line(app):
    from helpdesk.models import Message
    from helpdesk.services.returns import transition

    factories.shop("nordlicht", "Nordlicht Mode")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["shops", "set", "nordlicht", "--return-notifications", "off"])
    assert result.exit_code == 0, result.output
    assert "return notifications off" in runner.invoke(args=["shops", "list"]).output

    order = factories.order(shop=factories.shop("nordlicht"))
    transition(register_return(order, [ReturnLine(order.items[0], 1, "style")]), "in_transit")
    db.session.commit()
    assert db.session.query(Message).count() == 0
    missing = runner.invoke(args=["shops", "set", "nope", "--name", "x"])
    assert missing.exit_code == 1 and "helpdesk shops list" in missing.output
