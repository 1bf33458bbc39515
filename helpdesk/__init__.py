"""helpdesk: an omnichannel customer-care helpdesk for online shops."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

from helpdesk.config import INSTANCE_PATH, PROJECT_ROOT, build_config
from helpdesk.database import configure_engine, end_transaction
from helpdesk.extensions import babel, csrf, db, login_manager, migrate
from helpdesk.logs import configure_logging, register_request_ids
from helpdesk.security import register_security_headers
from helpdesk.web.labels import label

MIGRATIONS_DIR = str(PROJECT_ROOT / "helpdesk" / "migrations")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then `HELPDESK_*` variables, then `config`."""
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_PATH),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.update(build_config(config))
    INSTANCE_PATH.mkdir(exist_ok=True)
    configure_logging(app.config["LOG_FORMAT"])
    register_request_ids(app)

    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_security_headers(app)
    register_cli(app)
    return app


def select_locale() -> str:
    """The language chosen in this session, else the user's, else the browser's preference."""
    languages = list(current_app.config["LANGUAGES"])
    if session.get("language") in languages:
        return session["language"]
    if current_user and current_user.is_authenticated:
        return current_user.language
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    # Runs before Flask-SQLAlchemy's session removal (teardowns run in reverse order).
    app.teardown_appcontext(lambda error: end_transaction(db.session(), error))
    from helpdesk.services.rules import install_listeners

    install_listeners()  # rules run on the ticket events the services record
    with app.app_context():
        configure_engine(db.engine, app.config)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(PROJECT_ROOT / "helpdesk" / "translations"),
    )

    app.jinja_env.globals.update(get_locale=get_locale, label=label)

    from helpdesk.web.auth import load_user

    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"


def register_blueprints(app: Flask) -> None:
    from helpdesk.web import admin, auth, inbox, portal, system

    app.register_blueprint(admin.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(system.bp)
    from helpdesk.web import metrics

    app.register_blueprint(metrics.bp)
    from helpdesk import api, webhooks

    app.register_blueprint(api.bp)
    app.register_blueprint(webhooks.bp)
    from helpdesk.services.social_send import window_notice

    app.add_template_global(window_notice, "social_window_notice")  # the composer's hint
    from helpdesk.web import admin_audit, admin_privacy, admin_webhooks

    app.register_blueprint(admin_audit.bp)
    app.register_blueprint(admin_privacy.bp)
    app.register_blueprint(admin_webhooks.bp)
    from helpdesk.web import ticket, ticket_commerce

    app.register_blueprint(ticket.bp)
    app.register_blueprint(ticket_commerce.bp)
    from helpdesk.web import admin_responses, search

    app.register_blueprint(search.bp)
    app.register_blueprint(admin_responses.bp)
    from helpdesk.web import live

    app.register_blueprint(live.bp)
    from helpdesk.web import admin_rules

    app.register_blueprint(admin_rules.bp)
    from helpdesk.web import admin_sla, csat, kpis, wall

    app.register_blueprint(kpis.bp)
    app.register_blueprint(csat.bp)
    app.register_blueprint(wall.bp)
    app.register_blueprint(admin_sla.bp)
    from helpdesk.web import chat, chats

    app.register_blueprint(chat.bp)
    app.register_blueprint(chats.bp)
    from helpdesk.web import calls, customers, escalation

    app.register_blueprint(calls.bp)
    app.register_blueprint(customers.bp)
    app.register_blueprint(escalation.bp)


def register_error_handlers(app: Flask) -> None:
    from helpdesk.errors import register_error_handlers as register

    register(app)


def register_cli(app: Flask) -> None:
    from helpdesk.cli import register_commands

    register_commands(app)
