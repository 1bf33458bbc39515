"""A stand-in for the platforms' send APIs (a real HTTP server on loopback), and helpers
to deliver signed webhooks."""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from channel_adapters.social.common import hub_signature, x_signature

APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "verify-token-for-tests"
WHATSAPP_VERIFY_TOKEN = "wa-verify-token-for-tests"
CONSUMER_SECRET = "x-consumer-secret-for-tests"
PAGE_TOKEN = "EAAG-page-token"
WHATSAPP_TOKEN = "EAAG-system-user-token"
X_TOKEN = "x-user-access-token"
VERSION = "v21.0"

#: What the platforms accept: method, path and the token each path needs.
ROUTES = [
    (re.compile(rf"^/{VERSION}/me/messages$"), PAGE_TOKEN),
    (re.compile(rf"^/{VERSION}/\d+/messages$"), WHATSAPP_TOKEN),
    (re.compile(r"^/2/dm_conversations/with/\d+/messages$"), X_TOKEN),
    # Public replies: to a Facebook comment ("<post>_<comment>"), to an Instagram comment.
    (re.compile(rf"^/{VERSION}/\d+_\d+/comments$"), PAGE_TOKEN),
    (re.compile(rf"^/{VERSION}/\d+/replies$"), PAGE_TOKEN),
]


class FakePlatform:
    """Answers POSTs like Graph API and X API do: a wrong path is 404, a wrong token 401
    (Graph's error shape), a body that is not JSON 400; otherwise the next queued answer.
    Every request is recorded with its method, path, headers and JSON body."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: deque[tuple[int, dict]] = deque()
        #: GET /{version}/{id}: the profile Graph returns for a user id (else 400, as
        #: Graph answers for an id it does not know or will not show).
        self.profiles: dict[str, tuple[int, dict]] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, status: int, body: dict) -> None:
        self.answers.append((status, body))

    def start(self) -> FakePlatform:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                platform.requests.append(
                    {"method": "POST", "path": self.path, "headers": dict(self.headers),
                     "json": body}
                )  # fmt: skip
                token = next((t for pattern, t in ROUTES if pattern.match(self.path)), None)
                if token is None:
                    return self._send(404, {"error": {"message": "Unknown path", "code": 803}})
                if self.headers.get("Authorization") != f"Bearer {token}":
                    return self._send(
                        401,
                        {
                            "error": {
                                "message": "Invalid OAuth access token",
                                "type": "OAuthException",
                                "code": 190,
                            }
                        },
                    )
                if body is None or "json" not in (self.headers.get("Content-Type") or ""):
                    return self._send(400, {"error": {"message": "Expected JSON", "code": 100}})
                status, answer = platform.answers.popleft() if platform.answers else (200, {})
                return self._send(status, answer)

            def do_GET(self):
                path, _, query = self.path.partition("?")
                platform.requests.append(
                    {"method": "GET", "path": path, "query": query, "headers": dict(self.headers)}
                )
                found = re.match(rf"^/{VERSION}/(\d+)$", path)
                if found is None:
                    return self._send(404, {"error": {"message": "Unknown path", "code": 803}})
                if self.headers.get("Authorization") != f"Bearer {PAGE_TOKEN}":
                    error = {"message": "Invalid OAuth access token", "code": 190}
                    return self._send(401, {"error": error})
                unknown = {"error": {"message": "Unsupported get request.", "code": 100}}
                return self._send(*platform.profiles.get(found.group(1), (400, unknown)))

            def _send(self, status: int, answer: dict):
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # quiet
                pass

        return Handler


@pytest.fixture
def social_config(app, monkeypatch):
    """Webhook secrets and tokens set, as an operator would in the environment."""
    for key, value in {
        "META_APP_SECRET": APP_SECRET,
        "META_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_VERIFY_TOKEN": WHATSAPP_VERIFY_TOKEN,
        "X_CONSUMER_SECRET": CONSUMER_SECRET,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    return app


@pytest.fixture
def platform(app, social_config, monkeypatch):
    """The send APIs at a local server; tokens configured for all four channels."""
    fake = FakePlatform().start()
    for key, value in {
        "META_API_BASE": fake.url,
        "X_API_BASE": fake.url,
        "META_GRAPH_VERSION": VERSION,
        "META_PAGE_ACCESS_TOKEN": PAGE_TOKEN,
        "WHATSAPP_ACCESS_TOKEN": WHATSAPP_TOKEN,
        "X_ACCESS_TOKEN": X_TOKEN,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    yield fake
    fake.stop()


def post_meta(client, payload, *, path="/webhooks/meta", signature=None, secret=APP_SECRET):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"X-Hub-Signature-256": hub_signature(secret, raw) if signature is None
               else signature}  # fmt: skip
    if signature == "":
        headers = {}
    return client.post(path, data=raw, headers=headers, content_type="application/json")


def post_x(client, payload, *, signature=None):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sent = x_signature(CONSUMER_SECRET, raw) if signature is None else signature
    return client.post("/webhooks/x", data=raw, content_type="application/json",
                       headers={"x-twitter-webhooks-signature": sent})  # fmt: skip
