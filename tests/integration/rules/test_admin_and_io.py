"""Rules as data: the admin pages (save with clear errors, dry run that changes nothing),
JSON export and import (all or nothing, every mistake named) and the CLI."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Draft, Event, Rule, Ticket
from helpdesk.services.rules import RuleInvalid
from helpdesk.services.rules.defaults import install_default_rules
from helpdesk.services.rules.store import export_rules, import_rules
from tests.conftest import csrf_token
from tests.factories import Classified, inbound
from tests.integration.rules.helpers import returned_order, team_with

GOOD = {
    "name": "Reminders to returns",
    "events": ["message.received"],
    "conditions": {"all": [{"field": "intent", "op": "has", "value": "payment_reminder"}]},
    "actions": [{"type": "set_priority", "priority": "high"}],
}


def test_import_names_every_mistake_and_imports_nothing(app):
    bad = {
        "version": 1,
        "rules": [
            GOOD,
            {
                "name": "",
                "events": ["message.recieved"],
                "conditions": {
                    "all": [
                        {"field": "intnet", "op": "has", "value": "x"},
                        {"field": "intent", "op": "is", "value": "payment_reminder"},
                        {"field": "intent", "op": "has", "value": "refund", "min_confidence": 2},
                    ],
                },
                "actions": [
                    {"type": "set_priority", "priority": "sehr hoch"},
                    {"type": "send_sms"},
                    {"type": "set_team", "team": "Nobody"},
                    {"type": "canned_response", "response": "order-status"},
                ],
            },
            GOOD,
        ],
    }
    with pytest.raises(RuleInvalid) as raised:
        import_rules(json.dumps(bad))
    errors = raised.value.errors
    expected = [
        "rules[1].name: give the rule a name",
        "rules[1].events: unknown event 'message.recieved'",
        "rules[1].conditions.all[0].field: unknown field 'intnet'",
        "rules[1].conditions.all[1].op: intent allows has, has_not, has_any, not 'is'",
        "rules[1].conditions.all[2].value: 'refund' is not a intent",
        "rules[1].conditions.all[2].min_confidence: a number from 0 to 1",
        "rules[1].actions[0].priority: one of low, normal, high, urgent",
        "rules[1].actions[1].type: unknown action 'send_sms'",
        "rules[1].actions[3].mode: canned_response needs mode",
    ]
    for text in expected:
        assert any(e.startswith(text) for e in errors), (text, errors)
    assert db.session.scalar(select(func.count(Rule.id))) == 0

    with pytest.raises(RuleInvalid) as raised:
        import_rules({"version": 1, "rules": [GOOD, GOOD]})
    assert raised.value.errors == ["rules: the name 'Reminders to returns' is used twice"]
    with pytest.raises(RuleInvalid, match="not JSON"):
        import_rules("{rules: ")
    with pytest.raises(RuleInvalid, match="there is no team 'Nobody'"):
        import_rules([{**GOOD, "actions": [{"type": "set_team", "team": "Nobody"}]}])


def test_export_then_import_round_trips_and_updates_by_name(app):
    install_default_rules()
    db.session.commit()
    exported = export_rules()
    assert len(exported["rules"]) == 4
    exported["rules"][0]["enabled"] = False
    assert import_rules(json.dumps(exported)) == (0, 4)
    db.session.commit()
    assert export_rules() == exported
    assert import_rules([{**GOOD}]) == (1, 0)


def test_admin_saves_a_rule_and_refuses_a_broken_one_with_clear_errors(admin_client):
    token = csrf_token(admin_client, "/admin/rules/new")
    page = admin_client.post("/admin/rules/new", data={
        "csrf_token": token, "name": "VIP", "events": ["message.received"],
        "conditions": '{"all": [{"field": "channel", "op": "is", "value": "fax"}]}',
        "actions": "[{\"type\": \"add_tags\", \"tags\": [\"vip\"]}", "action": "save",
    })  # fmt: skip
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "actions: not valid JSON" in text
    assert db.session.scalar(select(func.count(Rule.id))) == 0

    page = admin_client.post("/admin/rules/new", data={
        "csrf_token": token, "name": "VIP", "events": ["message.received"],
        "conditions": '{"all": [{"field": "channel", "op": "is", "value": "fax"}]}',
        "actions": '[{"type": "add_tags", "tags": ["vip"]}]', "action": "save",
    })  # fmt: skip
    assert page.status_code == 422
    assert "&#39;fax&#39; is not a channel" in page.get_data(as_text=True)

    page = admin_client.post("/admin/rules/new", data={
        "csrf_token": token, "name": "VIP", "events": ["message.received"], "enabled": "on",
        "conditions": '{"all": [{"field": "channel", "op": "is", "value": "email"}]}',
        "actions": '[{"type": "add_tags", "tags": ["vip"]}]', "action": "save",
    })  # fmt: skip
    assert page.status_code == 302
    saved = db.session.scalar(select(Rule))
    assert saved.name == "VIP" and saved.enabled and saved.actions == [
        {"type": "add_tags", "tags": ["vip"]}]  # fmt: skip
    assert "VIP" in admin_client.get("/admin/rules").get_data(as_text=True)
    exported = admin_client.get("/admin/rules/export")
    assert exported.headers["Content-Disposition"].startswith("attachment")
    assert exported.get_json()["rules"][0]["name"] == "VIP"


def test_dry_run_shows_matches_and_what_would_happen_and_changes_nothing(admin_client):
    install_default_rules()
    team_with("Returns", "jana@shop.example")
    returned_order()
    rule = db.session.scalar(select(Rule).where(Rule.name.like("Payment reminder%")))
    rule.enabled = False  # off while the tickets arrive; the dry run must not act either
    db.session.commit()
    ingest(inbound(sender="helga.brandt@example.de", text="Retoure da, trotzdem Mahnung"),
           classifier=Classified("payment_reminder", "return_status"))  # fmt: skip
    for n in range(3):
        ingest(inbound(sender=f"other{n}@example.com", text="Frage zur Größe"),
               classifier=Classified("product_question"))  # fmt: skip
    db.session.commit()
    before = (db.session.scalar(select(func.count(Event.id))),
              [(t.priority, t.team_id, t.assignee_id) for t in
               db.session.scalars(select(Ticket).order_by(Ticket.id))])  # fmt: skip

    token = csrf_token(admin_client, f"/admin/rules/{rule.id}")
    form = {
        "csrf_token": token, "name": rule.name, "events": rule.events,
        "conditions": json.dumps(rule.conditions), "actions": json.dumps(rule.actions),
        "action": "dry_run",
    }  # fmt: skip
    page = admin_client.post(f"/admin/rules/{rule.id}", data=form)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    tickets = db.session.scalar(select(func.count(Ticket.id)))  # with the return's notice
    assert f"Of the last {tickets} tickets, 1 would have matched." in text
    assert "draft reminder-return" in text and "set priority priority=high" in text

    after = (db.session.scalar(select(func.count(Event.id))),
             [(t.priority, t.team_id, t.assignee_id) for t in
              db.session.scalars(select(Ticket).order_by(Ticket.id))])  # fmt: skip
    assert after == before
    assert db.session.scalar(select(func.count(Draft.id))) == 0


def test_admin_import_reports_errors_then_imports(admin_client):
    token = csrf_token(admin_client, "/admin/rules")
    page = admin_client.post("/admin/rules/import", data={
        "csrf_token": token, "json": json.dumps([{**GOOD, "events": []}])})  # fmt: skip
    assert page.status_code == 422
    assert "Nothing was imported" in page.get_data(as_text=True)
    page = admin_client.post("/admin/rules/import", data={
        "csrf_token": token, "json": json.dumps([GOOD])})  # fmt: skip
    assert page.status_code == 302
    assert db.session.scalar(select(Rule.name)) == GOOD["name"]


def test_cli_export_import_and_defaults(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rules", "install-defaults"])
    assert result.exit_code == 0 and "4 default rules added" in result.output
    path = tmp_path / "rules.json"
    assert runner.invoke(args=["rules", "export", str(path)]).exit_code == 0
    assert len(json.loads(path.read_text())["rules"]) == 4
    path.write_text(json.dumps([{**GOOD, "actions": [{"type": "nope"}]}]))
    result = runner.invoke(args=["rules", "import", str(path)])
    assert result.exit_code == 1
    assert "error: rules[0].actions[0].type: unknown action 'nope'" in result.output
    path.write_text(json.dumps([GOOD]))
    result = runner.invoke(args=["rules", "import", str(path)])
    assert result.exit_code == 0 and "imported: 1 new, 0 updated" in result.output
    assert "Reminders to returns" in runner.invoke(args=["rules", "list"]).output


def test_install_defaults_update_brings_shipped_rules_up_to_date_but_not_edited_ones(app):
    """An install from before a release that guarded its rules better keeps the old
    definitions until `install-defaults --update`; what a person changed in the admin stays."""
    from helpdesk.models import User
    from helpdesk.services.rules.defaults import default_rules

    runner = app.test_cli_runner()
    assert runner.invoke(args=["rules", "install-defaults"]).exit_code == 0
    shipped = {data["name"]: data for data in default_rules("Returns", "Care")}
    old, edited = sorted(shipped)[:2]
    as_before = db.session.scalar(select(Rule).where(Rule.name == old))
    as_before.conditions = {"all": []}  # what an older release shipped, say
    as_before.enabled, as_before.position = False, 99
    by_hand = db.session.scalar(select(Rule).where(Rule.name == edited))
    by_hand.conditions = {"all": []}
    by_hand.updated_by_id = db.session.scalar(select(User.id)) or _admin_id()
    db.session.commit()

    result = runner.invoke(args=["rules", "install-defaults", "--update"])
    assert result.exit_code == 0, result.output
    assert f"0 default rules added, 1 brought up to date ({old})" in result.output
    assert f"kept as edited in the admin: {edited}" in result.output
    db.session.expire_all()
    updated = db.session.scalar(select(Rule).where(Rule.name == old))
    assert updated.conditions == shipped[old]["conditions"]
    assert (updated.enabled, updated.position) == (False, 99)  # the shop's choices stay
    assert db.session.scalar(select(Rule.conditions).where(Rule.name == edited)) == {"all": []}
    again = runner.invoke(args=["rules", "install-defaults", "--update"])
    assert "0 brought up to date" in again.output


def _admin_id() -> int:
    from tests.conftest import make_user

    return make_user("admin", "admin@shop.example").id


def test_admin_sets_away_capacity_and_channels_and_refuses_nonsense(admin_client):
    from helpdesk.models import User
    from tests.conftest import make_user

    agent = make_user("agent", "jana@shop.example")
    token = csrf_token(admin_client, "/admin/rules/agents")
    assert "jana@shop.example" in admin_client.get("/admin/rules/agents").get_data(as_text=True)
    page = admin_client.post(f"/admin/rules/agents/{agent.id}", data={
        "csrf_token": token, "away": "on", "max_open_tickets": "12", "max_chats": "",
        "channels": ["email", "chat"]})  # fmt: skip
    assert page.status_code == 302
    db.session.expire_all()
    agent = db.session.get(User, agent.id)
    assert (agent.away, agent.max_open_tickets, agent.max_chats, agent.channels) == (
        True, 12, None, ["email", "chat"])  # fmt: skip
    page = admin_client.post(f"/admin/rules/agents/{agent.id}", data={
        "csrf_token": token, "max_open_tickets": "viele", "all_channels": "on"})  # fmt: skip
    assert page.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, agent.id).max_open_tickets == 12  # nothing changed
    follow = admin_client.get("/admin/rules/agents").get_data(as_text=True)
    assert "max_open_tickets: a whole number" in follow
