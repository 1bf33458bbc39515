"""IMAP mailboxes the helpdesk reads, configured in the database (`ChannelState`, kind email).

A mailbox's settings live in `config`; its password never does: `password_env`
names the environment variable that holds it. What the intake must remember
(UIDVALIDITY, last UID) lives in `state`, its health in `last_success_at` and
`last_error`.
"""

from __future__ import annotations

import os
import re

from flask import current_app
from sqlalchemy import select

from channel_adapters.email.imap import ImapSettings
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import ChannelState
from helpdesk.services.events import record_event

SECURITY = ("ssl", "starttls", "none")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def add_mailbox(
    name: str,
    *,
    address: str,
    host: str,
    port: int,
    security: str,
    username: str,
    password_env: str,
    folder: str = "INBOX",
    processed_folder: str | None = None,
    from_name: str | None = None,
    acknowledge: bool = False,
) -> ChannelState:
    """Register a mailbox to read. Raises `InvalidInput` for settings that cannot work."""
    if security not in SECURITY:
        raise InvalidInput(f"security must be one of {', '.join(SECURITY)}")
    if "@" not in address:
        raise InvalidInput(f"{address!r} is not an e-mail address")
    if not _ENV_NAME.match(password_env):
        raise InvalidInput(
            f"--password-env takes the NAME of an environment variable (e.g. "
            f"HELPDESK_IMAP_SERVICE_PASSWORD), not {password_env!r}"
        )
    if db.session.scalar(
        select(ChannelState).where(ChannelState.kind == "email", ChannelState.name == name)
    ):
        raise InvalidInput(f"a mailbox named {name!r} exists already")
    mailbox = ChannelState(
        kind="email",
        name=name,
        config={
            "address": address.strip().lower(),
            "host": host,
            "port": port,
            "security": security,
            "username": username,
            "password_env": password_env,
            "folder": folder,
            "processed_folder": processed_folder,
            "from_name": from_name,
            "acknowledge": acknowledge,
        },
        state={},
    )
    db.session.add(mailbox)
    record_event("mailbox.added", actor="cli", name=name, address=address)
    return mailbox


def mailboxes(*, enabled_only: bool = True) -> list[ChannelState]:
    query = select(ChannelState).where(ChannelState.kind == "email").order_by(ChannelState.name)
    if enabled_only:
        query = query.where(ChannelState.enabled.is_(True))
    return list(db.session.scalars(query))


def get_mailbox(name: str) -> ChannelState:
    for mailbox in mailboxes(enabled_only=False):
        if mailbox.name == name:
            return mailbox
    raise InvalidInput(f"no mailbox named {name!r}; `helpdesk mailbox list` shows them")


def mailbox_for_address(address: str | None) -> ChannelState | None:
    """The mailbox whose address is `address`, else the first one configured."""
    boxes = mailboxes()
    if address:
        for mailbox in boxes:
            if mailbox.config.get("address") == address.lower():
                return mailbox
    return boxes[0] if boxes else None


def own_addresses() -> set[str]:
    """Addresses the helpdesk sends from; mail from them is our own and never ingested."""
    addresses = {m.config.get("address") for m in mailboxes(enabled_only=False)}
    fallback = current_app.config.get("MAIL_FROM")
    return {a.lower() for a in (*addresses, fallback) if a}


def imap_settings(mailbox: ChannelState) -> ImapSettings:
    """Connection settings, with the password read from the environment variable named."""
    config = mailbox.config
    variable = config["password_env"]
    password = os.environ.get(variable)
    if password is None:
        raise InvalidInput(
            f"mailbox {mailbox.name}: the environment variable {variable} holding its "
            "password is not set"
        )
    return ImapSettings(
        host=config["host"],
        port=int(config["port"]),
        username=config["username"],
        password=password,
        security=config["security"],
        folder=config.get("folder") or "INBOX",
        processed_folder=config.get("processed_folder"),
        ca_file=current_app.config.get("IMAP_CA_FILE"),
    )
