"""Live updates and collision detection: a server-sent event stream per page, and beats.

`GET /live/stream?inbox=1` and `?ticket=<n>` stream what happens, read from the event
trail in the database (helpdesk/services/live_feed.py), so any gunicorn worker can
serve any browser. A stream polls every `LIVE_POLL_SECONDS`, sends a heartbeat every
`LIVE_HEARTBEAT_SECONDS` and ends after `LIVE_STREAM_SECONDS`; the browser's
EventSource then reconnects with `Last-Event-ID`, so no worker thread is held for long
and nothing is missed. A stream holds a thread while it runs: gunicorn must run threaded
workers (`helpdesk run` does: gthread). PostgreSQL's LISTEN/NOTIFY would save the
polls but needs a connection per listener or a per-process dispatcher thread; a range
read on the primary key every second is cheaper than either at our scale.

The views check access when the stream opens; the generator then runs outside the
request (no request or application context), with what it needs passed in.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, g, render_template, request
from flask_login import current_user
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import Message, User
from helpdesk.services import mentions, presence
from helpdesk.services.chat_list import waiting_query
from helpdesk.services.inbox import get_ticket
from helpdesk.services.live_feed import Audience, EventFeed, latest_event_id, latest_event_query
from helpdesk.web.auth import roles_required

log = logging.getLogger(__name__)
bp = Blueprint("live", __name__)
ALL_ROLES = ("agent", "lead", "social", "admin")
#: Who sees the "split off" button on messages, as on the ticket page (admins may everything).
CARE_ROLES = ("agent", "lead")
#: Pages whose live position is taken before their content is read (see `_mark_position`).
LIVE_PAGES = frozenset({"inbox.index", "ticket.show"})
DEFAULTS = {
    "LIVE_POLL_SECONDS": 1.0,
    "LIVE_HEARTBEAT_SECONDS": 15.0,
    "LIVE_STREAM_SECONDS": 60.0,
    "LIVE_RETRY_MS": 2000,
}
#: Messages one timeline fetch returns at most; the browser asks again for more.
TIMELINE_BATCH = 50


@dataclass(frozen=True, slots=True)
class StreamSettings:
    poll: float
    heartbeat: float
    lifetime: float
    retry_ms: int

    @classmethod
    def from_config(cls, config) -> StreamSettings:
        value = {name: config.get(name, default) for name, default in DEFAULTS.items()}
        return cls(
            poll=float(value["LIVE_POLL_SECONDS"]),
            heartbeat=float(value["LIVE_HEARTBEAT_SECONDS"]),
            lifetime=float(value["LIVE_STREAM_SECONDS"]),
            retry_ms=int(value["LIVE_RETRY_MS"]),
        )


@bp.before_app_request
def _mark_position() -> None:
    """Pages that go live note the trail's end before they read their content, so an
    event in between comes again (harmless) rather than never."""
    if is_live_page():
        _read_top_bar()


def _read_top_bar() -> None:
    """The trail's end and the top bar's badges (chats waiting, unread mentions) in one
    round trip: these are the most visited pages, and three small queries cost more in
    round trips than in work. `waiting_chats` and `unread_mentions` use them when set.
    Signed-in users' figures usually came with the user (`load_user_with_top_bar`)."""
    signed_in = current_user.is_authenticated  # loads the user, and with it the figures
    if "live_since" in g:
        return
    user_id = current_user.id if signed_in else None
    waiting = signed_in and current_user.has_role("agent", "lead")
    for name, value in (
        db.session.execute(select(*_top_bar(user_id, waiting))).one()._mapping.items()
    ):
        setattr(g, name, value or 0)


def _top_bar(user_id: int | None, waiting: bool) -> list:
    """The trail's end, and for a signed-in user their unread mentions and (`waiting`)
    the chats waiting for a person, as labelled scalar subqueries."""
    columns = [latest_event_query().scalar_subquery().label("live_since")]
    if user_id is not None:
        columns.append(mentions.unread_query(user_id).scalar_subquery().label("unread_mentions"))
    if waiting:
        columns.append(waiting_query().scalar_subquery().label("waiting_chats"))
    return columns


def load_user_with_top_bar(user_id: int) -> User | None:
    """Flask-Login's user for a live page, read together with the top bar's figures (the
    role is not known yet: chats waiting are read for everyone, shown to care roles)."""
    columns = _top_bar(user_id, waiting=True)
    row = db.session.execute(select(User, *columns).where(User.id == user_id)).one_or_none()
    if row is None:
        return None
    for name, value in row._mapping.items():
        if name != "User":
            setattr(g, name, value or 0)
    return row.User


def is_live_page() -> bool:
    return request.method == "GET" and request.endpoint in LIVE_PAGES


@bp.app_template_global("live_since")
def live_since() -> int:
    """Where this page's stream starts reading the trail."""
    if "live_since" not in g:
        g.live_since = latest_event_id(db.session)
    return g.live_since


@bp.get("/live/stream")
@roles_required(*ALL_ROLES)
def stream():
    """Server-sent events for the inbox (`?inbox=1`) or one ticket (`?ticket=<n>`)."""
    ticket_id = request.args.get("ticket", type=int)
    if ticket_id is None and request.args.get("inbox") != "1":
        raise InvalidInput("say which stream: ?inbox=1 or ?ticket=<number>")
    if ticket_id is not None:
        get_ticket(current_user, ticket_id)  # 404 or 403 before anything streams
    since = _resume_position()
    if since is None:
        since = latest_event_id(db.session)
    audience = Audience(user_id=current_user.id, role=current_user.role, ticket_id=ticket_id)
    settings = StreamSettings.from_config(current_app.config)
    return Response(
        _event_stream(db.engine, EventFeed(audience, high=since), settings),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _resume_position() -> int | None:
    """`Last-Event-ID` when the browser reconnects, else `?since=` from the page."""
    for raw in (request.headers.get("Last-Event-ID"), request.args.get("since")):
        if raw is None or raw == "":
            continue
        try:
            position = int(raw)
        except ValueError:
            raise InvalidInput("Last-Event-ID and since must be event numbers") from None
        if position < 0:
            raise InvalidInput("Last-Event-ID and since must be event numbers")
        return position
    return None


def _event_stream(engine: Engine, feed: EventFeed, settings: StreamSettings) -> Iterator[str]:
    """Poll the trail (and, on a ticket, who else is there) until the stream's time is up.

    Each event's SSE id is the feed's watermark, not the event's own id: resuming from
    it may repeat an event (the browser skips ids it has seen) but never loses one.
    """
    started = time.monotonic()
    last_heartbeat = started
    shown_presence: list[dict] | None = None
    ticket_id = feed.audience.ticket_id
    yield f"retry: {settings.retry_ms}\n\n"
    while True:
        try:
            with Session(engine) as session:
                if engine.dialect.name == "postgresql":
                    # Never queue behind a migration or a TRUNCATE: give up and reconnect.
                    session.execute(text("SET LOCAL lock_timeout = '200ms'"))
                events = feed.poll(session)
                others = (
                    presence.present_on(session, ticket_id, excluding=feed.audience.user_id)
                    if ticket_id is not None
                    else None
                )
                session.rollback()  # read only; on SQLite, do not keep the lock
        except SQLAlchemyError as error:
            # The browser reconnects after `retry`; by then the database may be back.
            log.warning("live stream stops: the event trail cannot be read: %s", error)
            return
        for event in events:
            yield _message(json.dumps(event.as_json()), event_id=feed.watermark)
        if others is not None:
            people = [{"id": p.user_id, "name": p.name, "state": p.state} for p in others]
            if people != shown_presence:
                shown_presence = people
                yield _message(json.dumps(people), kind="presence")
        now = time.monotonic()
        if now - started >= settings.lifetime:
            yield f"id: {feed.watermark}\n\n"
            return
        if now - last_heartbeat >= settings.heartbeat:
            last_heartbeat = now
            # A comment keeps proxies from closing an idle connection; the bare id moves
            # the browser's resume position past events it was not allowed to see.
            yield f": heartbeat\nid: {feed.watermark}\n\n"
        time.sleep(settings.poll)


def _message(data: str, *, kind: str | None = None, event_id: int | None = None) -> str:
    lines = []
    if kind:
        lines.append(f"event: {kind}")
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"data: {data}")  # json.dumps never writes a newline
    return "\n".join(lines) + "\n\n"


@bp.post("/live/presence")
@roles_required(*ALL_ROLES)
def beat():
    """A browser says its user is viewing or typing on a ticket, or has left it."""
    number = request.form.get("ticket", type=int)
    if number is None:
        raise InvalidInput("say which ticket: ticket=<number>")
    ticket = get_ticket(current_user, number)
    state, tab = request.form.get("state", ""), request.form.get("tab", "")
    if state == "gone":
        presence.leave(ticket, current_user, tab=tab)
    else:
        presence.beat(ticket, current_user, state, tab=tab)
    db.session.commit()
    return "", 204


@bp.get("/tickets/<int:number>/timeline")
@roles_required(*ALL_ROLES)
def timeline(number: int):
    """The ticket's messages after `?after=<message id>`, rendered as on the ticket page,
    for live.js to append without a reload."""
    ticket = get_ticket(current_user, number)
    after = request.args.get("after", type=int)
    if after is None:
        raise InvalidInput("say after which message: ?after=<message id>")
    messages = db.session.scalars(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.id > after)
        .options(selectinload(Message.attachments), selectinload(Message.author))
        .order_by(Message.id)
        .limit(TIMELINE_BATCH)
    ).all()
    return render_template(
        "_live_messages.html",
        ticket=ticket,
        messages=messages,
        may_restructure=current_user.has_role(*CARE_ROLES),
    )
