"""Configuration: defaults, then `HELPDESK_*` environment variables, then a test mapping."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = PROJECT_ROOT / "instance"

DEFAULTS: dict[str, Any] = {
    "ENV": "production",
    "SECRET_KEY": None,
    "SQLALCHEMY_DATABASE_URI": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    # Durability over speed: a committed message must survive a power cut,
    # because the IMAP copy is flagged seen right after the commit.
    "SQLITE_SYNCHRONOUS": "FULL",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
    "LANGUAGES": ("de", "en"),
    "BABEL_DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Berlin",
    "INBOX_PAGE_SIZE": 50,
    "ATTACHMENT_MAX_BYTES": 20 * 1024 * 1024,
    "WORKER_SCHEDULE": True,
    # "text" for people, "json" (one object per line) for log collectors.
    "LOG_FORMAT": "text",
    # A stand-by worker checks this often whether the running one has gone.
    "WORKER_LOCK_SECONDS": 15,
    # Workers sharing this name (and database) take turns; another name runs beside them.
    "WORKER_LOCK_NAME": "helpdesk",
    # "model": the current trained version from classifiers/models; "none": do not classify.
    "CLASSIFIER": "model",
    # Hours between retrains with agents' corrections (only when there are new ones); 0: never.
    "CLASSIFIER_RETRAIN_HOURS": 24,
    # A message on a ticket solved longer ago than this starts a linked follow-up.
    "FOLLOW_UP_AFTER_DAYS": 14,
    # Loop guard: automatic acknowledgements one address may receive per hour.
    "ACKNOWLEDGEMENTS_PER_HOUR": 1,
    # Rules: one automatic answer per customer within this many hours (then drafts).
    "AUTO_REPLY_HOURS": 12,
    # Round-robin skips agents at capacity: open tickets, and open chats (per agent
    # when set on the user).
    "ASSIGN_MAX_OPEN_TICKETS": 50,
    "ASSIGN_MAX_CHATS": 3,
    # Outgoing mail: SMTP server (smtp://user:pass@host:587, smtps://..., smtp+plain://host:25)
    # and the From address used when no mailbox is configured.
    "SMTP_URL": None,
    "MAIL_FROM": None,
    # Where customers reach this helpdesk (links in e-mails, e.g. the satisfaction survey).
    "PUBLIC_URL": "http://127.0.0.1:5000",
    # Satisfaction surveys: sent this long after a ticket is solved, at most one per
    # customer per period; a rating at or below CSAT_LOW_RATING notifies the leads.
    "CSAT_ENABLED": True,
    "CSAT_DELAY_MINUTES": 60,
    "CSAT_PERIOD_DAYS": 30,
    "CSAT_LOW_RATING": 2,
    "IMAP_CA_FILE": None,
    # Phone: numbers without a country code are read as this region's (ISO 3166 code);
    # Twilio signs the URL it calls, so behind a proxy name it here (the auth token comes
    # from HELPDESK_TWILIO_AUTH_TOKEN).
    "PHONE_REGION": "DE",
    "TWILIO_VOICE_URL": None,
    "SMTP_CA_FILE": None,
    # Social DMs (channel_adapters/social). Secrets and tokens only from the environment:
    # HELPDESK_META_APP_SECRET, _META_VERIFY_TOKEN, _META_PAGE_ACCESS_TOKEN,
    # _INSTAGRAM_ACCESS_TOKEN (default: the page token), _WHATSAPP_APP_SECRET (default: the
    # Meta app secret), _WHATSAPP_VERIFY_TOKEN, _WHATSAPP_ACCESS_TOKEN, _X_CONSUMER_SECRET,
    # _X_ACCESS_TOKEN. A channel without its token receives but does not send.
    "META_API_BASE": "https://graph.facebook.com",
    "META_GRAPH_VERSION": "v21.0",
    # Whether Meta granted the app the HUMAN_AGENT tag (replies up to 7 days, not 24 hours).
    "META_HUMAN_AGENT_TAG": True,
    "WHATSAPP_API_BASE": None,  # default: META_API_BASE
    "WHATSAPP_PHONE_NUMBER_ID": None,
    "X_API_BASE": "https://api.x.com",
    # Larger webhook bodies are refused with 413 (Meta's batches are a few kB).
    "SOCIAL_WEBHOOK_MAX_BYTES": 1024 * 1024,
    # Live chat: origins allowed to call /chat/api/ ("*" or a comma-separated list), the
    # visitor token's lifetime, limits per visitor and per client address, the largest
    # request body, and how recently an agent must have been seen to count as online.
    "CHAT_ALLOWED_ORIGINS": "*",
    "CHAT_TOKEN_MAX_AGE_DAYS": 30,
    "CHAT_MESSAGES_PER_MINUTE": 20,
    "CHAT_STARTS_PER_IP_PER_HOUR": 30,
    "CHAT_MAX_BODY_BYTES": 16 * 1024,
    "CHAT_AGENT_ONLINE_SECONDS": 150,
}

# Environment variables whose value is not a plain string.
_BOOLEAN = {"WORKER_SCHEDULE", "SESSION_COOKIE_SECURE", "META_HUMAN_AGENT_TAG", "CSAT_ENABLED"}
_INTEGER = {
    "INBOX_PAGE_SIZE",
    "ATTACHMENT_MAX_BYTES",
    "MAX_CONTENT_LENGTH",
    "FOLLOW_UP_AFTER_DAYS",
    "ACKNOWLEDGEMENTS_PER_HOUR",
    "AUTO_REPLY_HOURS",
    "ASSIGN_MAX_OPEN_TICKETS",
    "ASSIGN_MAX_CHATS",
    "CLASSIFIER_RETRAIN_HOURS",
    "WORKER_LOCK_SECONDS",
    "SOCIAL_WEBHOOK_MAX_BYTES",
    "CHAT_TOKEN_MAX_AGE_DAYS",
    "CHAT_MESSAGES_PER_MINUTE",
    "CHAT_STARTS_PER_IP_PER_HOUR",
    "CHAT_MAX_BODY_BYTES",
    "CHAT_AGENT_ONLINE_SECONDS",
    "CSAT_DELAY_MINUTES",
    "CSAT_PERIOD_DAYS",
    "CSAT_LOW_RATING",
}


class ConfigurationError(RuntimeError):
    """The application cannot start with this configuration; the message says how to fix it."""


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith("HELPDESK_"):
            continue
        key = name.removeprefix("HELPDESK_")
        if key in _BOOLEAN:
            values[key] = raw.strip().lower() in {"1", "true", "yes", "on"}
        elif key in _INTEGER:
            values[key] = int(raw)
        else:
            values[key] = raw
    if environ.get("DATABASE_URL"):
        values["SQLALCHEMY_DATABASE_URI"] = environ["DATABASE_URL"]
    return values


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the operator chose."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def build_config(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Merge defaults, environment and `overrides`, and refuse settings that cannot work."""
    config = dict(DEFAULTS)
    config.update(_from_environment(os.environ if environ is None else environ))
    config.update(overrides or {})

    if not config["SQLALCHEMY_DATABASE_URI"]:
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{INSTANCE_PATH / 'helpdesk.sqlite'}"
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])

    if str(config["SQLITE_SYNCHRONOUS"]).upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ConfigurationError(
            "HELPDESK_SQLITE_SYNCHRONOUS must be one of OFF, NORMAL, FULL, EXTRA "
            f"(got {config['SQLITE_SYNCHRONOUS']!r})."
        )

    if not config["SECRET_KEY"]:
        if config["ENV"] not in {"development", "testing"} and not config.get("TESTING"):
            raise ConfigurationError(
                "HELPDESK_SECRET_KEY is not set. Set it to a long random value, e.g. "
                "export HELPDESK_SECRET_KEY=$(python3 -c 'import secrets; "
                "print(secrets.token_hex(32))'), or set HELPDESK_ENV=development for a demo."
            )
        config["SECRET_KEY"] = _development_secret()
    return config


def _development_secret() -> str:
    """A random key kept in instance/, so a demo's web workers and restarts share it."""
    path = INSTANCE_PATH / "development-secret-key"
    INSTANCE_PATH.mkdir(exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
