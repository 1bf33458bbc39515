"""Live updates and collision detection over real HTTP, on SQLite and PostgreSQL.

The stream is read as the browser reads it: server-sent events, parsed from the body.
Streams are given a lifetime of 0 (one poll, then the end) or a heartbeat on every poll,
so the tests step through them without waiting on a clock.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.orm import Session

from helpdesk.cli import gunicorn_command
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Event, Message, Presence, Ticket, User
from helpdesk.models.types import utcnow
from helpdesk.services import presence
from helpdesk.services.live_feed import Audience, EventFeed, latest_event_id
from helpdesk.services.replies import add_reply
from tests.conftest import PASSWORD, PROJECT_ROOT, csrf_token, log_in, make_user, signed_in_client
from tests.factories import inbound


@pytest.fixture
def one_poll(app, monkeypatch):
    """Streams poll once and end: what they send is complete when read."""
    monkeypatch.setitem(app.config, "LIVE_STREAM_SECONDS", 0)
    monkeypatch.setitem(app.config, "LIVE_POLL_SECONDS", 0)


def parse(body: str) -> list[dict]:
    """Server-sent event blocks as dicts of their fields (comments under "comment")."""
    blocks = []
    for raw in body.split("\n\n"):
        if not raw.strip():
            continue
        block: dict = {}
        for line in raw.split("\n"):
            field, _, value = line.partition(":")
            block[field or "comment"] = value.removeprefix(" ")
        blocks.append(block)
    return blocks


def read_stream(client: FlaskClient, query: str, **headers) -> list[dict]:
    """The whole stream until the server ends it."""
    response = client.get(f"/live/stream?{query}", headers=headers, buffered=False)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/event-stream"
    try:
        return parse(b"".join(response.response).decode())
    finally:
        response.close()


def events(blocks: list[dict]) -> list[dict]:
    return [json.loads(b["data"]) for b in blocks if "data" in b and "event" not in b]


def presence_updates(blocks: list[dict]) -> list[list[dict]]:
    return [json.loads(b["data"]) for b in blocks if b.get("event") == "presence"]


def new_ticket(channel: str = "email", sender: str = "kunde@example.com", **fields) -> int:
    """A ticket from a customer's message, committed; its number. (Numbers, not objects:
    loading one would open a transaction, and on SQLite that holds the write lock.)"""
    result = ingest(inbound(channel=channel, sender=sender, **fields))
    db.session.commit()
    return result.ticket_id


# --- the stream ----------------------------------------------------------------------------


def test_inbox_stream_sends_what_happened_after_the_last_event_id(agent_client, one_poll):
    before = new_ticket(sender="erste@example.com", subject="Schon gesehen")
    position = latest_event_id(db.session)
    after = new_ticket(sender="zweite@example.com", subject="Neu")

    blocks = read_stream(agent_client, "inbox=1", **{"Last-Event-ID": str(position)})

    assert blocks[0] == {"retry": "2000"}
    got = events(blocks)
    assert {e["ticket"] for e in got} == {after}
    assert before not in {e["ticket"] for e in got}
    assert any(e["new_ticket"] for e in got)
    message = db.session.scalar(select(Message.id).where(Message.ticket_id == after))
    assert [e["message"] for e in got if e["kind"] == "message.received"] == [message]
    # The stream ended (lifetime 0) and told the browser where to resume: past everything.
    assert int(blocks[-1]["id"]) == latest_event_id(db.session)


def test_page_position_is_used_until_the_browser_has_a_last_event_id(agent_client, one_poll):
    first = new_ticket(sender="erste@example.com")
    position = latest_event_id(db.session)
    second = new_ticket(sender="zweite@example.com")

    from_page = events(read_stream(agent_client, f"inbox=1&since={position}"))
    assert {e["ticket"] for e in from_page} == {second}
    resumed = read_stream(
        agent_client,
        f"inbox=1&since={position}",
        **{"Last-Event-ID": str(latest_event_id(db.session))},
    )
    assert events(resumed) == []
    from_start = events(read_stream(agent_client, "inbox=1&since=0"))
    assert {e["ticket"] for e in from_start} == {first, second}


def test_stream_follows_what_happens_while_it_is_open(app, agent_client, monkeypatch):
    """Heartbeat on every poll: the test reads up to a heartbeat, acts, and reads on."""
    monkeypatch.setitem(app.config, "LIVE_HEARTBEAT_SECONDS", 0)
    monkeypatch.setitem(app.config, "LIVE_POLL_SECONDS", 0)
    agent = db.session.scalar(select(User).where(User.role == "agent"))
    ticket = new_ticket(subject="Wo bleibt meine Bestellung?")
    response = agent_client.get(f"/live/stream?ticket={ticket}", buffered=False)
    chunks = iter(response.response)
    try:

        def read_until(wanted: str) -> list[dict]:
            seen = []
            for chunk in chunks:
                seen += parse(chunk.decode())
                if any(wanted in b for b in seen):
                    return seen
            raise AssertionError(f"the stream ended before {wanted!r}")

        read_until("comment")  # one full poll done: nothing new yet
        add_reply(db.session.get(Ticket, ticket), agent, "Ist unterwegs, morgen da.", deliver=False)
        db.session.commit()
        got = events(read_until("data"))
    finally:
        response.close()
    reply = db.session.scalar(select(Message.id).where(Message.direction == "outbound"))
    assert got == [
        {
            "id": got[0]["id"],
            "kind": "message.sent",
            "ticket": ticket,
            "message": reply,
            "new_ticket": False,
            "by_me": True,
            "by_person": True,
        }
    ]


def test_streams_show_social_managers_social_tickets_only(app, one_poll):
    email = new_ticket(sender="kunde@example.com")
    dm = new_ticket(channel="instagram", sender="insta-4711", subject="")
    social = signed_in_client(app, "social")
    agent = signed_in_client(app, "agent")

    assert {e["ticket"] for e in events(read_stream(social, "inbox=1&since=0"))} == {dm}
    assert {e["ticket"] for e in events(read_stream(agent, "inbox=1&since=0"))} == {email, dm}
    assert social.get(f"/live/stream?ticket={email}").status_code == 403
    assert social.get(f"/tickets/{email}/timeline?after=0").status_code == 403
    assert read_stream(social, f"ticket={dm}&since=0")


def test_ticket_stream_tells_only_of_that_ticket(agent_client, one_poll):
    watched = new_ticket(sender="a@example.com")
    other = new_ticket(sender="b@example.com")
    got = events(read_stream(agent_client, f"ticket={watched}&since=0"))
    assert got and {e["ticket"] for e in got} == {watched}
    assert other not in {e["ticket"] for e in got}


def test_stream_refuses_strangers_and_unclear_requests(app, client, agent_client):
    assert client.get("/live/stream?inbox=1").status_code == 302  # to the login
    assert agent_client.get("/live/stream").status_code == 422
    assert agent_client.get("/live/stream?ticket=999").status_code == 404
    refused = agent_client.get(
        "/live/stream?inbox=1", headers={"Last-Event-ID": "yesterday", "Accept": "application/json"}
    )
    assert refused.status_code == 422
    assert "event numbers" in refused.get_json()["error"]["detail"]


# --- the feed behind it: ids that commit out of order --------------------------------------


def _event(conn, event_id: int, ticket_id: int, kind: str = "ticket.tagged") -> None:
    conn.execute(
        insert(Event).values(
            id=event_id, kind=kind, ticket_id=ticket_id, actor="test", data={}, created_at=utcnow()
        )  # fmt: skip
    )


def test_feed_waits_for_an_id_that_commits_late_then_gives_it_up(app):
    ticket = new_ticket()
    start = latest_event_id(db.session)
    db.session.commit()  # SQLite: the connections below write, so release the lock
    clock = [0.0]
    feed = EventFeed(Audience(user_id=0, role="agent"), high=start, clock=lambda: clock[0])

    with db.engine.begin() as conn:
        _event(conn, start + 2, ticket)  # committed before start + 1
    with Session(db.engine) as session:
        assert [e.id for e in feed.poll(session)] == [start + 2]
    assert feed.watermark == start  # resuming from here would not skip start + 1

    with db.engine.begin() as conn:
        _event(conn, start + 1, ticket)
    with Session(db.engine) as session:
        assert [e.id for e in feed.poll(session)] == [start + 1]
        assert feed.watermark == start + 2
        assert feed.poll(session) == []

    with db.engine.begin() as conn:
        _event(conn, start + 4, ticket)  # start + 3 never comes (rolled back)
    with Session(db.engine) as session:
        assert [e.id for e in feed.poll(session)] == [start + 4]
        assert feed.watermark == start + 2
        clock[0] += feed.grace
        assert feed.poll(session) == []
    assert feed.watermark == start + 4


def test_feed_sees_an_event_whose_transaction_commits_after_a_later_one(app, backend):
    """The real race on PostgreSQL: id 1 is taken, id 2 commits, then id 1 commits."""
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer at a time: ids commit in order there")
    ticket = new_ticket()
    feed = EventFeed(Audience(user_id=0, role="agent"), high=latest_event_id(db.session))
    engine = create_engine(db.engine.url)
    try:
        slow = engine.connect()
        slow_tx = slow.begin()
        slow_id = slow.scalar(
            text("INSERT INTO events (kind, ticket_id, actor, data, created_at) VALUES "
                 "('ticket.tagged', :t, 'slow', '{}', now()) RETURNING id"), {"t": ticket}
        )  # fmt: skip
        with engine.begin() as quick:
            quick_id = quick.scalar(
                text("INSERT INTO events (kind, ticket_id, actor, data, created_at) VALUES "
                     "('ticket.tagged', :t, 'quick', '{}', now()) RETURNING id"), {"t": ticket}
            )  # fmt: skip
        assert quick_id > slow_id
        with Session(db.engine) as session:
            assert [e.id for e in feed.poll(session)] == [quick_id]
        slow_tx.commit()
        slow.close()
        with Session(db.engine) as session:
            assert [e.id for e in feed.poll(session)] == [slow_id]
        assert feed.watermark == quick_id
    finally:
        engine.dispose()


# --- presence ------------------------------------------------------------------------------


def _beat(client: FlaskClient, ticket: int, state: str, token: str, tab: str = "tab-1"):
    return client.post(
        "/live/presence", data={"ticket": ticket, "state": state, "tab": tab},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )  # fmt: skip


def _agent(app, email: str, name: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    make_user("agent", email=email, name=name)
    assert log_in(client, email).status_code == 302
    return client, csrf_token(client, "/inbox")


def test_others_see_who_is_viewing_and_typing_but_not_themselves(app, one_poll):
    ticket = new_ticket()
    julia, julia_token = _agent(app, "julia@shop.example", "Julia")
    max_, max_token = _agent(app, "max@shop.example", "Max")

    assert _beat(julia, ticket, "viewing", julia_token).status_code == 204
    assert presence_updates(read_stream(max_, f"ticket={ticket}")) == [
        [{"id": _id("julia@shop.example"), "name": "Julia", "state": "viewing"}]
    ]
    assert _beat(julia, ticket, "typing", julia_token).status_code == 204
    assert _beat(max_, ticket, "viewing", max_token).status_code == 204
    assert presence_updates(read_stream(max_, f"ticket={ticket}")) == [
        [{"id": _id("julia@shop.example"), "name": "Julia", "state": "typing"}]
    ]
    assert presence_updates(read_stream(julia, f"ticket={ticket}")) == [
        [{"id": _id("max@shop.example"), "name": "Max", "state": "viewing"}]
    ]
    # One row per person and ticket: the beats updated it.
    assert db.session.scalar(select(func.count()).select_from(Presence)) == 2

    assert _beat(julia, ticket, "gone", julia_token).status_code == 204
    assert presence_updates(read_stream(max_, f"ticket={ticket}")) == [[]]


def test_goodbye_of_a_page_does_not_remove_the_page_that_replaced_it(app, one_poll):
    """Sending a reply reloads the ticket: the old page's goodbye may arrive after the new
    page's first beat, and must not make the agent vanish for colleagues."""
    ticket = new_ticket()
    julia, token = _agent(app, "julia@shop.example", "Julia")
    max_, _token = _agent(app, "max@shop.example", "Max")

    assert _beat(julia, ticket, "typing", token, tab="old-page").status_code == 204
    assert _beat(julia, ticket, "viewing", token, tab="new-page").status_code == 204
    assert _beat(julia, ticket, "gone", token, tab="old-page").status_code == 204
    assert presence_updates(read_stream(max_, f"ticket={ticket}")) == [
        [{"id": _id("julia@shop.example"), "name": "Julia", "state": "viewing"}]
    ]
    assert _beat(julia, ticket, "gone", token, tab="new-page").status_code == 204
    assert presence_updates(read_stream(max_, f"ticket={ticket}")) == [[]]


def test_a_beat_arriving_after_its_pages_goodbye_does_not_bring_the_agent_back(app, one_poll):
    """A page sends its first beat and goes at once (the agent clicked on): the two
    requests race, and the goodbye may be handled first. The late beat of that page must
    not show the agent for another half minute; a later page of theirs still counts."""
    ticket = new_ticket()
    julia, token = _agent(app, "julia@shop.example", "Julia")
    max_, _token = _agent(app, "max@shop.example", "Max")

    assert _beat(julia, ticket, "viewing", token, tab="page-1").status_code == 204
    assert _beat(julia, ticket, "gone", token, tab="page-2").status_code == 204  # page-1 kept
    assert _beat(julia, ticket, "gone", token, tab="page-1").status_code == 204
    assert _beat(julia, ticket, "gone", token, tab="page-3").status_code == 204  # before its beat
    assert _beat(julia, ticket, "viewing", token, tab="page-3").status_code == 204  # late
    assert presence_updates(read_stream(max_, f"ticket={ticket}")) == [[]]

    assert _beat(julia, ticket, "viewing", token, tab="page-4").status_code == 204
    assert presence_updates(read_stream(max_, f"ticket={ticket}")) == [
        [{"id": _id("julia@shop.example"), "name": "Julia", "state": "viewing"}]
    ]


def test_a_goodbye_kept_as_a_row_counts_as_nobody(app):
    """The goodbye stays in the table until it expires: it is nobody on the ticket and
    nobody online for chats."""
    from helpdesk.services.chat import agents_online

    on = db.session.get(Ticket, new_ticket())
    julia = make_user("agent", email="julia@shop.example", name="Julia")
    presence.beat(on, julia, "viewing", tab="page-1")
    db.session.commit()
    assert agents_online() is True
    presence.leave(on, julia, tab="page-1")
    db.session.commit()
    assert db.session.scalar(select(Presence.state)) == "gone"
    assert presence.present_on(db.session, on.id) == []
    assert agents_online() is False


def _id(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


def test_presence_expires_without_beats_and_typing_fades_to_viewing(app):
    ticket = new_ticket()
    julia = make_user("agent", email="julia@shop.example", name="Julia")
    max_ = make_user("agent", email="max@shop.example", name="Max")
    now = utcnow()

    on = db.session.get(Ticket, ticket)
    presence.beat(on, julia, "typing", at=now - presence.TYPING_EXPIRY - timedelta(seconds=1))
    presence.beat(on, max_, "viewing", at=now - presence.EXPIRY - timedelta(seconds=1))
    db.session.commit()
    assert presence.present_on(db.session, ticket, at=now) == [
        presence.Present(julia.id, "Julia", "viewing")
    ]

    presence.beat(on, julia, "typing", at=now)  # sweeps Max's stale row on the way
    db.session.commit()
    assert db.session.scalars(select(Presence.user_id)).all() == [julia.id]
    assert presence.present_on(db.session, ticket, at=now) == [
        presence.Present(julia.id, "Julia", "typing")
    ]
    assert presence.present_on(db.session, ticket, excluding=julia.id, at=now) == []


def test_presence_is_refused_without_access_token_or_a_known_state(app):
    email = new_ticket()
    social = signed_in_client(app, "social")
    social_token = csrf_token(social, "/inbox")
    assert _beat(social, email, "viewing", social_token).status_code == 403

    agent, token = _agent(app, "julia@shop.example", "Julia")
    assert _beat(agent, email, "viewing", "not-the-token").status_code == 400
    assert _beat(agent, email, "viewing", token).status_code == 204
    refused = _beat(agent, email, "dancing", token)
    assert refused.status_code == 422
    assert "viewing, typing" in refused.get_json()["error"]["detail"]
    assert db.session.scalars(select(Presence.state)).all() == ["viewing"]  # kept as it was
    missing = agent.post("/live/presence", data={"state": "viewing"},
                         headers={"X-CSRFToken": token})  # fmt: skip
    assert missing.status_code == 422


# --- the timeline fragment -----------------------------------------------------------------


def test_timeline_fragment_has_the_messages_after_the_one_given(app, agent_client):
    ticket = new_ticket(text="Erste Nachricht")
    first = db.session.scalar(select(Message.id).where(Message.ticket_id == ticket))
    agent = db.session.scalar(select(User).where(User.role == "agent"))
    add_reply(db.session.get(Ticket, ticket), agent, "Antwort <script>", deliver=False)
    db.session.commit()

    page = agent_client.get(f"/tickets/{ticket}/timeline?after={first}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Antwort &lt;script&gt;" in html
    assert "<script>" not in html
    assert "Erste Nachricht" not in html
    assert html.count("data-message-id=") == 1
    everything = agent_client.get(f"/tickets/{ticket}/timeline?after=0").get_data(as_text=True)
    assert everything.index("Erste Nachricht") < everything.index("Antwort")
    assert agent_client.get(f"/tickets/{ticket}/timeline").status_code == 422


# --- several gunicorn workers, as `helpdesk run` starts them -------------------------------


class Browser:
    """Just enough of a browser over http.client: a session cookie and the CSRF token."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""
        self.token = ""

    def request(self, method: str, path: str, body: str | None = None, **headers):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": self.cookie, **headers}
        if body is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return conn, response

    def sign_in(self, email: str) -> None:
        conn, page = self.request("GET", "/login")
        html = page.read().decode()
        conn.close()
        self.token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        form = urlencode({"email": email, "password": PASSWORD, "csrf_token": self.token})
        conn, done = self.request("POST", "/login", form)
        assert done.status == 302, done.read()
        conn.close()

    def open_stream(self, query: str):
        conn, response = self.request("GET", f"/live/stream?{query}")
        assert response.status == 200
        return conn, response

    @staticmethod
    def next_block(response) -> dict:
        lines = []
        while True:
            line = response.readline().decode()
            assert line, "the stream ended"
            if line == "\n":
                if lines:
                    return parse("".join(lines).rstrip("\n"))[0]
                continue
            lines.append(line)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn(app):
    """`helpdesk run`'s gunicorn (2 threaded workers) on the test database."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "HELPDESK_SECRET_KEY": "tests-only",
        "HELPDESK_CLASSIFIER": "none",
        "HELPDESK_LIVE_POLL_SECONDS": "0.1",
        "HELPDESK_LIVE_HEARTBEAT_SECONDS": "0.2",
    }
    server = subprocess.Popen(
        gunicorn_command("127.0.0.1", port, workers=2, threads=4),
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _attempt in range(300):  # until it listens (or gives up)
            if server.poll() is not None:
                pytest.fail(f"gunicorn stopped: {server.stderr.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()  # open streams would hold a graceful stop for up to 30 s
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_gunicorn_workers_serve_more_streams_than_workers_and_share_what_happens(app, gunicorn):
    """Three open streams on two workers, and still room for a beat: threaded workers.
    The beat (in whichever worker) and a message stored by this test process reach every
    stream: nothing is kept in one process's memory."""
    ticket = new_ticket(subject="Gunicorn")
    make_user("agent", email="julia@shop.example", name="Julia")
    make_user("agent", email="max@shop.example", name="Max")
    julia, max_ = Browser(gunicorn), Browser(gunicorn)
    julia.sign_in("julia@shop.example")
    max_.sign_in("max@shop.example")

    streams = [max_.open_stream(f"ticket={ticket}") for _ in range(3)]
    for _conn, response in streams:
        assert Browser.next_block(response) == {"retry": "2000"}
        assert Browser.next_block(response) == {"event": "presence", "data": "[]"}

    beat = urlencode({"ticket": ticket, "state": "typing"})
    conn, answer = julia.request("POST", "/live/presence", beat, **{"X-CSRFToken": julia.token})
    assert answer.status == 204
    conn.close()
    ingest(inbound(subject=f"Re: Gunicorn [#{ticket}]", text="Noch eine Frage"))
    db.session.commit()
    message = db.session.scalar(select(func.max(Message.id)))
    db.session.commit()  # SQLite: a reading transaction here would hold the write lock

    for conn, response in streams:
        seen_typing = seen_message = False
        while not (seen_typing and seen_message):
            block = Browser.next_block(response)
            if block.get("event") == "presence":
                assert [p["name"] for p in json.loads(block["data"])] == ["Julia"]
                seen_typing = json.loads(block["data"])[0]["state"] == "typing"
            elif "data" in block:
                seen_message = seen_message or json.loads(block["data"])["message"] == message
        conn.close()
