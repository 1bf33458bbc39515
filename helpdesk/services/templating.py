"""Templates written by shop staff (notifications, canned responses), rendered sandboxed.

Such a template may use the values it is given and nothing else: Jinja2's
SandboxedEnvironment refuses attribute tricks that reach Python internals, and
the app's config is never in the context.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from helpdesk.config import PROJECT_ROOT


@cache
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(PROJECT_ROOT / "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )


def render_text(name: str, language: str | None, **context: Any) -> str:
    """Render `templates/<name>.<language>.txt`, falling back to English."""
    environment = _environment()
    candidates = [f"{name}.{language}.txt", f"{name}.en.txt"] if language else [f"{name}.en.txt"]
    return environment.select_template(candidates).render(**context).strip() + "\n"
