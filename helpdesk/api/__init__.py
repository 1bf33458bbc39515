"""The REST API for shop systems and scripts, at /api/v1.

Callers authenticate with `Authorization: Bearer <token>`, a personal token made by
`helpdesk users token EMAIL --name NAME`; the token acts with its user's role. Only
the token's SHA-256 is stored, so the lookup is by hash (no secret is compared
character by character). No cookies are read, which is why CSRF protection, meant
for browsers carrying a session, is off for this blueprint.

Errors are JSON: {"error": {"code": "...", "message": "..."}}.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from helpdesk.errors import HelpdeskError
from helpdesk.extensions import csrf, db
from helpdesk.models import ApiToken, User
from helpdesk.models.types import utcnow

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
F = TypeVar("F", bound=Callable[..., Any])
TOKEN_PREFIX = "hd_"


class ApiError(HelpdeskError):
    """An error with a machine-readable code, answered as JSON."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status
        self.code = code


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    return jsonify(error={"code": code, "message": message}), status, headers or {}


def _code_for(error: HelpdeskError) -> str:
    """ "IllegalTransition" -> "illegal_transition"."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


@bp.errorhandler(HelpdeskError)
def _helpdesk_error(error: HelpdeskError):
    from helpdesk.services.returns import IllegalTransition

    if isinstance(error, ApiError):
        headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else None
        return error_response(error.status_code, error.code, str(error), headers)
    if isinstance(error, IllegalTransition):  # the request is fine; the return's state is not
        return error_response(409, "illegal_transition", str(error))
    return error_response(error.status_code, _code_for(error), str(error))


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    code = re.sub(r"\W+", "_", (error.name or "error").lower()).strip("_")
    return error_response(error.code or 500, code, error.description or error.name)


# --- tokens -----------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(user: User, name: str) -> str:
    """Create a token for `user`; the plain token is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ApiError(422, "invalid_input", "name the token (1 to 100 characters)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, name=name, token_sha256=token_digest(token)))
    return token


def _authenticate() -> tuple[ApiToken, User]:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
    digest = token_digest(token)
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_sha256 == digest))
    # The hash was looked up, not the token; compare_digest keeps the last step constant-time.
    if row is None or not hmac.compare_digest(row.token_sha256, digest):
        raise ApiError(401, "unauthorized", "unknown token")
    if row.revoked_at is not None:
        raise ApiError(401, "unauthorized", "this token was revoked")
    if not row.user.active:
        raise ApiError(401, "unauthorized", "the token's user is deactivated")
    return row, row.user


def token_required(*roles: str) -> Callable[[F], F]:
    """Let through a valid token whose user has one of `roles` (admins always)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            token, user = _authenticate()
            if not user.has_role(*roles):
                raise ApiError(
                    403, "forbidden", f"this needs the role {' or '.join(roles)}, not {user.role}"
                )
            token.last_used_at = utcnow()
            db.session.commit()
            g.api_token, g.api_user = token, user
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def json_body() -> dict[str, Any]:
    """The request's JSON object. Decimals stay exact: "19.99" must not become a float."""
    try:
        body = json.loads(request.get_data(), parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_request", "the body must be JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    return body


# The modules add their routes to bp (and, through spec.py, to the OpenAPI document).
from helpdesk.api import (  # noqa: E402,F401
    commerce_docs,
    customers,
    kpis,
    messages,
    orders,
    responses,
    returns,
    spec,
    tickets,
)
