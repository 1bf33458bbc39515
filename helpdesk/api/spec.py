"""One declaration per endpoint: the route, its roles, its inputs and its answers.

`@endpoint(...)` registers the Flask route on the API blueprint, checks the bearer
token's role, parses the query and path parameters and validates the JSON body
against the declared JSON Schema (so what the document promises is what the code
refuses), and records the operation for `/api/v1/openapi.json`. The document is
built from these records alone, which is why it cannot drift from the routes;
tests/integration/api/test_openapi.py runs schemathesis against it on both databases.

The document is OpenAPI 3.1, whose schemas are JSON Schema 2020-12: `"type": ["string",
"null"]` says "may be null", and the same schema validates the request bodies here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import g, jsonify, request
from jsonschema import Draft202012Validator

from helpdesk.api import ApiError, bp, json_body, token_required

#: The largest id the store hands out (a 32-bit integer column on PostgreSQL).
MAX_ID = 2**31 - 1

# --- reusable schemas --------------------------------------------------------------------


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` or null."""
    kind = schema.get("type")
    if kind is None:
        return {"anyOf": [schema, {"type": "null"}]}
    kinds = kind if isinstance(kind, list) else [kind]
    return {**schema, "type": [*kinds, "null"]}


def obj(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object with exactly `properties`, all required unless named in `optional`."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
STRINGS = {"type": "array", "items": STRING}

ERROR = obj(
    {
        "error": obj(
            {
                "code": {"type": "string", "description": "machine-readable, e.g. not_found"},
                "message": {"type": "string", "description": "what to fix, for a person"},
            }
        )
    }
)

#: Answers every operation may give besides its own.
COMMON_ERRORS: dict[int, str] = {
    400: "the request is malformed (a broken cursor, a body that is not JSON)",
    401: "no token, an unknown or revoked one",
    403: "the token's role may not do this",
    404: "no such record, or the URL is wrong",
    405: "the method is not allowed here",
    422: "the input is well-formed but not acceptable; the message says which field",
}

# --- parameters --------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """A path or query parameter; integers are converted before the schema is checked."""

    name: str
    schema: dict[str, Any]
    where: str = "query"
    required: bool = False
    description: str = ""

    def document(self) -> dict[str, Any]:
        found = {
            "name": self.name,
            "in": self.where,
            "required": self.required or self.where == "path",
            "schema": self.schema,
        }
        if self.description:
            found["description"] = self.description
        return found

    def parse(self, raw: str | None) -> Any:
        if raw is None or raw == "":
            if self.required:
                raise ApiError(422, "invalid_input", f"{self.name}: required")
            return self.schema.get("default")
        value: Any = raw
        if self.schema.get("type") == "integer":
            if not re.fullmatch(r"-?[0-9]{1,12}", raw):
                raise ApiError(422, "invalid_input", f"{self.name}: a whole number, not {raw!r}")
            value = int(raw)
        problem = _first_error(self.schema, value)
        if problem:
            raise ApiError(422, "invalid_input", f"{self.name}: {problem}")
        return value


def query(name: str, schema: dict[str, Any], description: str = "", **kw: Any) -> Param:
    return Param(name, schema, "query", description=description, **kw)


def path(name: str, schema: dict[str, Any], description: str = "") -> Param:
    return Param(name, schema, "path", required=True, description=description)


CURSOR = query("cursor", {"type": "string", "maxLength": 500},
               "next_cursor of the previous page; absent for the first page")  # fmt: skip
LIMIT = query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
              "how many per page")  # fmt: skip


def _first_error(schema: dict[str, Any], value: Any) -> str | None:
    errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.path))
    if not errors:
        return None
    error = errors[0]
    where = ".".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


# --- operations --------------------------------------------------------------------------


@dataclass
class Operation:
    method: str
    path: str  # OpenAPI style: /tickets/{number}
    summary: str
    roles: tuple[str, ...]
    params: tuple[Param, ...] = ()
    body: dict[str, Any] | None = None
    responses: dict[int, tuple[str, dict[str, Any] | None]] = field(default_factory=dict)
    description: str = ""
    tag: str = ""

    @property
    def operation_id(self) -> str:
        words = re.sub(r"[{}]", "", self.path).strip("/").replace("/", "_")
        return f"{self.method.lower()}_{words}"

    def document(self) -> dict[str, Any]:
        roles = " or ".join(self.roles) if self.roles != ("admin",) else "admin"
        description = (self.description + "\n\n" if self.description else "") + (
            f"Token role: {roles}" + (" (admins always)." if "admin" not in self.roles else ".")
        )
        found: dict[str, Any] = {
            "operationId": self.operation_id,
            "summary": self.summary,
            "description": description,
            "tags": [self.tag] if self.tag else [],
            "parameters": [p.document() for p in self.params],
            "responses": {},
        }
        if self.body is not None:
            found["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": self.body}},
            }
        for status, (text, schema) in sorted({**_errors(), **self.responses}.items()):
            answer: dict[str, Any] = {"description": text}
            if schema is not None:
                answer["content"] = {"application/json": {"schema": schema}}
            found["responses"][str(status)] = answer
        return found


def _errors() -> dict[int, tuple[str, dict[str, Any]]]:
    return {status: (text, ERROR) for status, text in COMMON_ERRORS.items()}


OPERATIONS: list[Operation] = []


def _flask_rule(openapi_path: str, params: tuple[Param, ...]) -> str:
    def convert(match: re.Match) -> str:
        name = match.group(1)
        param = next(p for p in params if p.name == name and p.where == "path")
        return f"<int:{name}>" if param.schema.get("type") == "integer" else f"<{name}>"

    return re.sub(r"\{(\w+)\}", convert, openapi_path)


def endpoint(
    method: str,
    openapi_path: str,
    *,
    summary: str,
    roles: tuple[str, ...],
    params: tuple[Param, ...] = (),
    body: dict[str, Any] | None = None,
    responses: dict[int, tuple[str, dict[str, Any] | None]],
    description: str = "",
    tag: str = "",
) -> Callable:
    """Register the decorated view at `openapi_path` (relative to /api/v1) and document it.

    The view is called with the parsed query parameters (`query=` dict), the validated
    body (`body=`) when one is declared, and the path parameters as keywords.
    """
    operation = Operation(method.upper(), openapi_path, summary, roles, params, body,
                          responses, description, tag)  # fmt: skip
    OPERATIONS.append(operation)
    rule = _flask_rule(openapi_path, params)
    query_params = [p for p in params if p.where == "query"]
    path_params = [p for p in params if p.where == "path"]

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(**kwargs: Any):
            for param in path_params:  # before the lookup: an id beyond ours is simply unknown
                value = kwargs[param.name]
                if isinstance(value, int) and not 1 <= value <= MAX_ID:
                    raise ApiError(404, "not_found", f"no record {value}")
            found = {p.name: p.parse(request.args.get(p.name)) for p in query_params}
            extra: dict[str, Any] = {"query": found}
            if body is not None:
                data = json_body()
                problem = _first_error(body, data)
                if problem:
                    raise ApiError(422, "invalid_input", problem)
                extra["body"] = data
            return view(**kwargs, **extra)

        bp.add_url_rule(
            rule, view.__name__, token_required(*roles)(wrapped), methods=[operation.method]
        )
        return view

    return decorator


def declare(operation: Operation) -> None:
    """Document a route that is registered by hand (orders, return transitions)."""
    OPERATIONS.append(operation)


# --- the document ------------------------------------------------------------------------


def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method.lower()] = operation.document()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Helpdesk API",
            "version": "1",
            "description": (
                "Tickets, messages, customers, orders, returns, canned responses and KPIs. "
                "Authenticate with `Authorization: Bearer <token>` (`helpdesk users token`); "
                "a token acts with its user's role. Errors are "
                '`{"error": {"code", "message"}}`. Lists are paged by cursor: pass the '
                "`next_cursor` of one page as `cursor` to get the next; null means the end."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR},
        },
        "paths": dict(sorted(paths.items())),
    }


@bp.get("/openapi.json")
def openapi():
    """The API's description; public, like any API reference (it holds no data)."""
    return jsonify(openapi_document())


def api_user():
    return g.api_user
