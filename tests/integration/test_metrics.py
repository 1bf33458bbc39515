"""Operators scrape the same complete numbers from any web worker, and ask whether to route."""

from __future__ import annotations

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import ChannelState, OutboxItem
from tests import factories


def scrape(client, **headers) -> str:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_metrics_count_what_the_store_holds(app, client):
    ingest(factories.inbound("email"))
    ingest(factories.inbound("whatsapp", sender="+4915112345678"))
    db.session.add(OutboxItem(kind="webhook", payload={}, status="dead", last_error="HTTP 500"))
    db.session.add(ChannelState(kind="email", name="service", last_error="LOGIN failed", config={}))
    db.session.commit()

    text = scrape(client)
    assert 'helpdesk_messages_ingested_total{channel="email"} 1.0' in text
    assert 'helpdesk_messages_ingested_total{channel="whatsapp"} 1.0' in text
    assert 'helpdesk_outbox_items{kind="webhook",status="dead"} 1.0' in text
    assert 'helpdesk_channel_up{kind="email",name="service"} 0.0' in text
    assert 'helpdesk_tickets{status="new"} 2.0' in text


def test_metrics_need_the_token_when_one_is_set(app, client):
    app.config["METRICS_TOKEN"] = "s3cret-scraper"
    try:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert "helpdesk_tickets" in scrape(client, Authorization="Bearer s3cret-scraper")
    finally:
        app.config.pop("METRICS_TOKEN")
    far = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert far.status_code == 404, "without a token only the machine itself may scrape"


def test_ready_when_the_schema_is_current(app, client):
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_not_ready_after_a_deploy_until_the_database_is_upgraded(app, client):
    from sqlalchemy import text

    with db.engine.begin() as connection:
        current = connection.scalar(text("SELECT version_num FROM alembic_version"))
        connection.execute(text("UPDATE alembic_version SET version_num = '6cf31e7e16b1'"))
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "run `helpdesk db upgrade`" in response.get_json()["problems"][0]
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
