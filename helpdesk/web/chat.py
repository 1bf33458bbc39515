"""The public side of live chat: the widget's files, its JSON endpoints and event stream,
the demo shop page that carries it, and the public FAQ page.

The widget authenticates with the visitor token it got from `POST /chat/api/start`
(header `X-Chat-Token`; the event stream, which cannot send headers, takes `?token=`).
No cookie is involved, so CSRF protection does not apply and the endpoints may be
called from the shop's own domain (CORS, `HELPDESK_CHAT_ALLOWED_ORIGINS`, default any).

Errors are JSON `{"error": {"status", "title", "detail"}}`: 400 for a body that is not
JSON or not what is expected, 401 for a missing or forged token, 413 for a body over
`HELPDESK_CHAT_MAX_BODY_BYTES`, 422 for a field that is wrong, 429 over the limits.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

from helpdesk.config import PROJECT_ROOT
from helpdesk.errors import HelpdeskError
from helpdesk.extensions import csrf, db
from helpdesk.models import ChatSession
from helpdesk.models.types import utcnow
from helpdesk.services import chat as chats
from helpdesk.services import chatbot, faq
from helpdesk.web.live import StreamSettings

log = logging.getLogger(__name__)
bp = Blueprint("chat", __name__)
csrf.exempt(bp)
STATIC = PROJECT_ROOT / "helpdesk" / "static" / "chat"
LANGUAGES = ("de", "en")


# --- errors and CORS --------------------------------------------------------------------------


def _error(status: int, title: str, detail: str, headers: dict | None = None):
    response = jsonify(error={"status": status, "title": title, "detail": detail})
    response.status_code = status
    response.headers.update(headers or {})
    return response


@bp.errorhandler(HelpdeskError)
def _helpdesk_error(error: HelpdeskError):
    headers = {}
    if isinstance(error, chats.TooManyRequests):
        headers["Retry-After"] = str(error.retry_after)
    return _error(error.status_code, type(error).__name__, str(error), headers)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    if not request.path.startswith("/chat/api/"):
        return error  # pages answer as the rest of the app does
    return _error(error.code or 500, error.name, error.description or "")


@bp.after_request
def _cors(response: Response) -> Response:
    """Shops call the API from their own domain; Flask answers the browser's OPTIONS
    question itself, and every answer says who may read it."""
    if request.path.startswith("/chat/api/"):
        allowed = str(current_app.config.get("CHAT_ALLOWED_ORIGINS", "*"))
        origin = request.headers.get("Origin")
        if allowed == "*":
            response.headers["Access-Control-Allow-Origin"] = "*"
        elif origin and origin in {o.strip() for o in allowed.split(",")}:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, X-Chat-Token"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Cache-Control"] = "no-store"
    return response


def _json_body() -> dict:
    """The request's JSON object: 413 when too large (read no further), 400 when not JSON."""
    limit = chats.setting("CHAT_MAX_BODY_BYTES")
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(f"a chat request has at most {limit} bytes")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise RequestEntityTooLarge(f"a chat request has at most {limit} bytes")
    try:
        body = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(f"the body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _field(body: dict, name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(f"{name!r} is missing")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name!r} must be a string")
    return value


def _language(value: str | None) -> str:
    if value in LANGUAGES:
        return value
    return request.accept_languages.best_match(LANGUAGES) or "de"


def _chat() -> ChatSession:
    return chats.chat_for_token(request.headers.get("X-Chat-Token") or request.args.get("token"))


def _state(chat: ChatSession) -> dict:
    return {
        "state": chat.state,
        "language": chat.language,
        "name": chat.name,
        "email": chat.email,
        "agents_online": chats.agents_online(),
    }


# --- the widget's files -------------------------------------------------------------------


@bp.get("/chat/widget.js")
def widget_js():
    """The one file a shop includes: `<script src=".../chat/widget.js" defer></script>`."""
    return _static("widget.js")


@bp.get("/chat/widget.css")
def widget_css():
    return _static("widget.css")


def _static(name: str):
    response = send_from_directory(STATIC, name, max_age=300)
    # Shops load these from their own pages.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/chat/api/texts")
def texts():
    """Every word the widget shows, in `?lang=` (the widget holds no text of its own)."""
    language = _language(request.args.get("lang"))
    with force_locale(language):
        words = {
            "open": _("Chat with us"),
            "title": _("Nordlicht Mode customer service"),
            "close": _("Close the chat"),
            "placeholder": _("Type your message…"),
            "send": _("Send"),
            "name": _("Name (optional)"),
            "email": _("E-mail (optional)"),
            "start": _("Start chat"),
            "intro": _(
                "Ask us anything. Name and e-mail are optional; with an e-mail address we "
                "can also answer you later."
            ),
            "typing": _("%(name)s is typing…", name="%(name)s"),
            "someone": _("A colleague"),
            "bot": _("Chatbot"),
            "you": _("You"),
            "offline": _("No colleague is online right now: we answer by e-mail."),
            "error": _("The message could not be sent. Please try again."),
            "restart": _("New conversation"),
        }
    return jsonify(language=language, texts=words, greeting=chatbot.greeting(language))


# --- the conversation -----------------------------------------------------------------------


@bp.post("/chat/api/start")
def start():
    """A new conversation: `{"name", "email", "language", "page"}`, all optional."""
    body = _json_body()
    chat = chats.start_chat(
        address=request.remote_addr,
        language=_language(_field(body, "language")),
        name=_field(body, "name"),
        email=_field(body, "email"),
        page=_field(body, "page"),
    )
    db.session.commit()
    return jsonify(token=chats.token_for(chat), messages=[], **_state(chat)), 201


@bp.get("/chat/api/messages")
def messages():
    """The conversation so far (after `?after=<message id>`), e.g. after a reload."""
    chat = _chat()
    after = request.args.get("after", default=0, type=int)
    lines = chats.conversation(db.session, chat.visitor, after=max(after, 0))
    _handed_over(lines)
    return jsonify(messages=[line.as_json() for line in lines], **_state(chat))


def _handed_over(lines: list[chats.ChatLine]) -> None:
    """Our replies among `lines` reach the visitor with this answer: they are delivered."""
    ours = [line.id for line in lines if line.author == "agent"]
    if ours and chats.mark_delivered(db.session, ours, utcnow()):
        db.session.commit()


@bp.post("/chat/api/messages")
def send():
    """The visitor writes: `{"id": "<browser's message id>", "text": "..."}`. Answers
    with what is new in the conversation since `after` (the bot's answer included)."""
    chat = _chat()
    body = _json_body()
    text = _field(body, "text", required=True)
    client_id = _field(body, "id", required=True)
    after = body.get("after", 0)
    if not isinstance(after, int):
        raise BadRequest("'after' must be a message id")
    chats.visitor_says(chat, client_id=client_id, text=text)
    state = _state(chat)  # before the commit, which would have the chat read again
    db.session.commit()
    lines = chats.conversation(db.session, chat.visitor, after=max(after, 0))
    _handed_over(lines)
    return jsonify(messages=[line.as_json() for line in lines], **state)


@bp.post("/chat/api/identify")
def identify():
    """Name and e-mail given later: `{"name", "email"}`."""
    chat = _chat()
    body = _json_body()
    chats.identify(chat, name=_field(body, "name"), email=_field(body, "email"))
    db.session.commit()
    return jsonify(**_state(chat))


@bp.get("/chat/api/stream")
def stream():
    """Server-sent events: `message` (one chat line), `typing` (true/false) and `state`.

    Read from the store every `LIVE_POLL_SECONDS` like the agents' stream, so any web
    worker serves any visitor; it ends after `LIVE_STREAM_SECONDS` and the browser
    reconnects with `Last-Event-ID` (the last message id), missing nothing."""
    chat = _chat()
    after = request.headers.get("Last-Event-ID") or request.args.get("after") or "0"
    try:
        position = max(int(after), 0)
    except ValueError:
        raise BadRequest("after / Last-Event-ID must be a message id") from None
    settings = StreamSettings.from_config(current_app.config)
    return Response(
        _visitor_stream(db.engine, chat.visitor, position, settings),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _visitor_stream(
    engine: Engine, visitor: str, after: int, settings: StreamSettings
) -> Iterator[str]:
    started = last_beat = time.monotonic()
    shown_typing: bool | None = None
    shown_state: str | None = None
    yield f"retry: {settings.retry_ms}\n\n"
    while True:
        try:
            with Session(engine) as session:
                now = utcnow()
                lines = chats.conversation(session, visitor, after=after)
                row = session.execute(
                    select(ChatSession.ticket_id, ChatSession.state).where(
                        ChatSession.visitor == visitor
                    )
                ).first()
                typing = chats.agent_typing(session, row.ticket_id if row else None, now)
                ours = [line.id for line in lines if line.author == "agent"]
                if ours:
                    chats.mark_delivered(session, ours, now)
                    session.commit()
                else:
                    session.rollback()  # read only; on SQLite, do not keep the lock
        except SQLAlchemyError as error:
            log.warning("chat stream stops: the store cannot be read: %s", error)
            return
        for line in lines:
            after = line.id
            yield f"event: message\nid: {line.id}\ndata: {json.dumps(line.as_json())}\n\n"
        if row is None:
            return
        if typing != shown_typing:
            shown_typing = typing
            yield f"event: typing\ndata: {json.dumps(typing)}\n\n"
        if row.state != shown_state:
            shown_state = row.state
            yield f"event: state\ndata: {json.dumps(row.state)}\n\n"
        now_mono = time.monotonic()
        if now_mono - started >= settings.lifetime:
            return
        if now_mono - last_beat >= settings.heartbeat:
            last_beat = now_mono
            yield ": heartbeat\n\n"
        time.sleep(settings.poll)


# --- public pages ---------------------------------------------------------------------------


@bp.get("/demo/shop")
def demo_shop():
    """A shop page of "Nordlicht Mode" with the chat widget, as a shop would include it."""
    language = _language(request.args.get("lang"))
    with force_locale(language):
        return render_template("chat/shop.html", language=language)


@bp.get("/faq")
def faq_page():
    """The public FAQ, from the same entries the chatbot answers with."""
    language = _language(request.args.get("lang"))
    with force_locale(language):
        return render_template(
            "chat/faq.html", language=language, entries=faq.entries(language=language)
        )
