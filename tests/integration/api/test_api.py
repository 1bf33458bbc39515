"""The REST API for tickets, messages, customers and canned responses, on both databases."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Event, Message, OutboxItem, Ticket
from tests.integration.api.conftest import bearer, token_for


def test_list_pages_by_cursor_and_filters(client, store):
    headers = bearer(token_for("agent"))
    first = client.get("/api/v1/tickets?limit=2", headers=headers)
    assert first.status_code == 200, first.json
    assert len(first.json["tickets"]) == 2 and first.json["next_cursor"]
    rest = client.get(f"/api/v1/tickets?limit=2&cursor={first.json['next_cursor']}",
                      headers=headers)  # fmt: skip
    numbers = [t["number"] for t in first.json["tickets"] + rest.json["tickets"]]
    assert sorted(numbers) == sorted([store.email_ticket, store.second_ticket, store.social_ticket])
    assert rest.json["next_cursor"] is None
    social = client.get("/api/v1/tickets?channel=instagram", headers=headers).json["tickets"]
    assert [t["number"] for t in social] == [store.social_ticket]


def test_bad_filters_and_cursors_are_clear_errors(client, store):
    headers = bearer(token_for("agent"))
    wrong = client.get("/api/v1/tickets?channel=fax", headers=headers)
    assert wrong.status_code == 422
    assert (
        wrong.json["error"]["code"] == "invalid_input"
        and "channel" in wrong.json["error"]["message"]
    )
    broken = client.get("/api/v1/tickets?cursor=abc", headers=headers)
    assert broken.status_code == 400 and broken.json["error"]["code"] == "invalid_query"
    assert client.get("/api/v1/tickets/999999", headers=headers).status_code == 404


def test_social_tokens_see_social_tickets_only(client, store):
    headers = bearer(token_for("social"))
    listed = client.get("/api/v1/tickets", headers=headers).json["tickets"]
    assert [t["number"] for t in listed] == [store.social_ticket]
    refused = client.get(f"/api/v1/tickets/{store.email_ticket}", headers=headers)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "permission_denied"
    assert client.get("/api/v1/customers", headers=headers).status_code == 403


def test_an_agent_token_cannot_use_admin_endpoints(client, store):
    headers = bearer(token_for("agent"))
    response = client.post("/api/v1/orders", json={"number": "1"}, headers=headers)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_update_changes_fields_with_events(client, store):
    headers = bearer(token_for("lead"))
    lead_id = db.session.scalar(select(Ticket.id))  # any id works as a probe below
    assert lead_id
    response = client.patch(
        f"/api/v1/tickets/{store.email_ticket}",
        json={"status": "pending", "priority": "urgent", "team_id": store.team,
              "tags": ["Eilig Retoure", "vip"]},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 200, response.json
    ticket = response.json["ticket"]
    assert (ticket["status"], ticket["priority"]) == ("pending", "urgent")
    assert ticket["team"]["id"] == store.team
    assert ticket["tags"] == ["eilig-retoure", "vip"]
    kinds = set(db.session.scalars(select(Event.kind).where(Event.ticket_id == store.email_ticket)))
    assert {"ticket.status_changed", "ticket.priority_changed", "ticket.team_changed",
            "ticket.tag_added"} <= kinds  # fmt: skip
    again = client.patch(f"/api/v1/tickets/{store.email_ticket}", json={"tags": ["vip"]},
                         headers=headers)  # fmt: skip
    assert again.json["ticket"]["tags"] == ["vip"]


def test_update_refuses_bad_input_and_changes_nothing(client, store):
    headers = bearer(token_for("agent"))
    url = f"/api/v1/tickets/{store.email_ticket}"
    for body, field in (
        ({"status": "gone"}, "status"),
        ({"priority": "urgent", "tags": ["!!"]}, "tags"),
        ({"assignee_id": 424242}, "assignee_id"),
        ({"team_id": 424242}, "team_id"),
        ({"colour": "red"}, "colour"),
        ({}, ""),
    ):
        response = client.patch(url, json=body, headers=headers)
        assert response.status_code == 422, body
        assert field in response.json["error"]["message"]
    db.session.expire_all()
    assert db.session.get(Ticket, store.email_ticket).priority == "normal"
    not_json = client.patch(url, data="status=open", headers=headers)
    assert not_json.status_code == 400 and not_json.json["error"]["code"] == "bad_request"


def test_assign_to_a_colleague(client, store):
    headers = bearer(token_for("agent"))
    me = client.get("/api/v1/tickets?assignee=me", headers=headers).json["tickets"]
    assert me == []
    from helpdesk.models import User

    agent = db.session.scalar(select(User).where(User.role == "agent"))
    response = client.patch(f"/api/v1/tickets/{store.second_ticket}",
                            json={"assignee_id": agent.id}, headers=headers)  # fmt: skip
    assert response.json["ticket"]["assignee"] == {"id": agent.id, "name": agent.name}
    mine = client.get("/api/v1/tickets?assignee=me", headers=headers).json["tickets"]
    assert [t["number"] for t in mine] == [store.second_ticket]


def test_reply_goes_to_the_outbox_and_note_does_not(client, store):
    headers = bearer(token_for("agent"))
    url = f"/api/v1/tickets/{store.email_ticket}/messages"
    reply = client.post(url, json={"kind": "reply", "text": "Ist unterwegs.", "status": "solved"},
                        headers=headers)  # fmt: skip
    assert reply.status_code == 201, reply.json
    message = reply.json["message"]
    assert (message["direction"], message["channel"], message["delivery"]) == (
        "outbound", "email", "pending")  # fmt: skip
    assert db.session.scalar(select(OutboxItem).where(OutboxItem.message_id == message["id"]))
    assert db.session.get(Ticket, store.email_ticket).status == "solved"
    note = client.post(url, json={"kind": "note", "text": "Kundin ruft oft an"}, headers=headers)
    assert note.status_code == 201 and note.json["message"]["direction"] == "note"
    assert not db.session.scalar(
        select(OutboxItem).where(OutboxItem.message_id == note.json["message"]["id"])
    )
    listed = client.get(url + "?limit=2", headers=headers).json
    assert [m["direction"] for m in listed["messages"]] == ["inbound", "outbound"]
    after = client.get(url + f"?cursor={listed['next_cursor']}", headers=headers).json
    assert [m["direction"] for m in after["messages"]] == ["note"]


def test_reply_on_a_channel_the_customer_lacks_is_refused(client, store):
    headers = bearer(token_for("agent"))
    url = f"/api/v1/tickets/{store.email_ticket}/messages"
    response = client.post(url, json={"kind": "reply", "text": "Hi", "channel": "whatsapp"},
                           headers=headers)  # fmt: skip
    assert response.status_code == 422
    assert db.session.scalar(select(Message.id).where(Message.direction == "outbound")) is None
    blank = client.post(url, json={"kind": "note", "text": "   "}, headers=headers)
    assert blank.status_code == 422


def test_customers_search_and_detail(client, store):
    headers = bearer(token_for("agent"))
    found = client.get("/api/v1/customers?q=HELGA", headers=headers).json["customers"]
    assert [c["id"] for c in found] == [store.customer]
    assert found[0]["identities"][0] == {"kind": "email", "value": "helga.brandt@example.de",
                                         "display_name": "Helga Brandt"}  # fmt: skip
    by_address = client.get("/api/v1/customers?q=sam@example", headers=headers).json
    assert len(by_address["customers"]) == 1
    assert client.get("/api/v1/customers?q=%25", headers=headers).json["customers"] == []
    detail = client.get(f"/api/v1/customers/{store.customer}", headers=headers).json["customer"]
    assert [t["number"] for t in detail["tickets"]] == [store.email_ticket]


def test_canned_responses_list_and_render(client, store):
    headers = bearer(token_for("agent"))
    listed = client.get("/api/v1/responses?language=de", headers=headers).json["responses"]
    assert listed and {r["language"] for r in listed} == {"de"}
    suggestions = client.get(f"/api/v1/tickets/{store.email_ticket}/responses", headers=headers)
    assert suggestions.status_code == 200
    first = listed[0]
    rendered = client.get(f"/api/v1/responses/{first['id']}/render?ticket={store.email_ticket}",
                          headers=headers)  # fmt: skip
    assert rendered.status_code == 200
    body = rendered.json
    assert body["response"]["id"] == first["id"]
    assert body["text"] or body["missing"]
    missing_ticket = client.get(f"/api/v1/responses/{first['id']}/render", headers=headers)
    assert missing_ticket.status_code == 422 and "ticket" in missing_ticket.json["error"]["message"]


def test_errors_have_one_shape(client, store):
    headers = bearer(token_for("agent"))
    for response in (
        client.get("/api/v1/nothing-here", headers=headers),
        client.delete("/api/v1/tickets", headers=headers),
        client.get("/api/v1/tickets"),
        client.get("/api/v1/tickets/1", headers={"Authorization": "Bearer hd_wrong"}),
    ):
        assert set(response.json) == {"error"}
        assert set(response.json["error"]) == {"code", "message"}


def test_kpis_for_leads_not_agents(client, store):
    lead = client.get("/api/v1/kpis?group_by=channel", headers=bearer(token_for("lead")))
    assert lead.status_code == 200, lead.json
    assert lead.json["total"]["tickets"] >= 0 and lead.json["group_by"] == "channel"
    agent = client.get("/api/v1/kpis", headers=bearer(token_for("agent")))
    assert agent.status_code == 403
    bad = client.get("/api/v1/kpis?start=2026-13-01", headers=bearer(token_for("admin")))
    assert bad.status_code == 422 and "start" in bad.json["error"]["message"]


def test_a_body_over_the_size_limit_is_a_clear_json_error(app, client, store, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    headers = bearer(token_for("agent"))
    response = client.post(f"/api/v1/tickets/{store.email_ticket}/messages", headers=headers,
                           json={"kind": "note", "text": "x" * 5000})  # fmt: skip
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_entity_too_large"
    assert db.session.scalar(select(Message.id).where(Message.direction == "note")) is None
