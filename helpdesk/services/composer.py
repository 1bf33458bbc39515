"""The reply composer: on which channels an agent can answer, files they may attach, and
sending a reply or an internal note, optionally setting the status in the same step.

Channels: those the customer has an identity on (WhatsApp only once they wrote
there; a phone number on its own is no WhatsApp account). "phone" records a call
the agent made, nothing is sent. The default is the channel the customer last wrote
on, on any of their tickets.

Uploads are checked against `UPLOAD_MAX_BYTES` (per file), `UPLOAD_MAX_FILES` and
`UPLOAD_TYPES` (file extensions); the type is taken from the extension and must
match the file's first bytes, never from what the browser claims.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from channel_adapters.base import CHANNELS, SENDER_IDENTITY_KIND, InboundAttachment
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import Attachment, Message, Ticket, User
from helpdesk.services import mentions
from helpdesk.services.inbox import SOCIAL_CHANNELS
from helpdesk.services.replies import add_note, add_reply, set_status
from helpdesk.services.social_send import check_reply as check_social_reply

#: The statuses "send and set status" offers.
STATUSES_AFTER_SENDING: tuple[str, ...] = ("pending", "solved", "open")
#: Channels on which an agent's "reply" is a record of what already happened.
RECORD_ONLY_CHANNELS = frozenset({"phone"})

DEFAULT_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_UPLOAD_MAX_FILES = 5
DEFAULT_UPLOAD_TYPES = "pdf,png,jpg,jpeg,gif,webp,txt,csv"
#: extension -> (content type, how the file must begin; None: any text in UTF-8)
FILE_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", (b"RIFF",)),
    "txt": ("text/plain", None),
    "csv": ("text/csv", None),
}


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_files: int
    extensions: tuple[str, ...]

    @classmethod
    def from_config(cls) -> UploadLimits:
        config = current_app.config
        raw = config.get("UPLOAD_TYPES", DEFAULT_UPLOAD_TYPES)
        names = raw.split(",") if isinstance(raw, str) else list(raw)
        extensions = tuple(n.strip().lower().lstrip(".") for n in names if n.strip())
        unknown = [e for e in extensions if e not in FILE_TYPES]
        if unknown:  # an operator's typo must not silently allow or refuse everything
            raise RuntimeError(f"UPLOAD_TYPES: no check known for {', '.join(unknown)}")
        return cls(
            max_bytes=int(config.get("UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES)),
            max_files=int(config.get("UPLOAD_MAX_FILES", DEFAULT_UPLOAD_MAX_FILES)),
            extensions=extensions,
        )

    @property
    def size_text(self) -> str:
        return _megabytes(self.max_bytes)

    @property
    def accept(self) -> str:
        """For the file input's `accept` attribute."""
        return ",".join(f".{e}" for e in self.extensions)


# --- channels ----------------------------------------------------------------------------


def used_channels(ticket: Ticket) -> dict[str, object]:
    """Channel -> when the customer last wrote on it, over all their tickets."""
    rows = db.session.execute(
        select(Message.channel, func.max(Message.created_at))
        .join(Ticket, Message.ticket_id == Ticket.id)
        .where(Ticket.customer_id == ticket.customer_id, Message.direction == "inbound")
        .group_by(Message.channel)
    ).all()
    return dict(rows)


def reply_channels(ticket: Ticket, user: User, used: dict[str, object] | None = None) -> list[str]:
    """The channels `user` may answer `ticket`'s customer on."""
    kinds = {identity.kind for identity in ticket.customer.identities}
    options = []
    for channel in CHANNELS:
        if SENDER_IDENTITY_KIND[channel] not in kinds:
            continue
        if channel == "whatsapp":
            used = used_channels(ticket) if used is None else used  # read only for this
            if channel not in used:
                continue
        if user.role == "social" and channel not in SOCIAL_CHANNELS:
            continue  # social media managers hand other channels over to care
        options.append(channel)
    return options


def default_channel(ticket: Ticket, options: Sequence[str], used: dict[str, object]) -> str | None:
    """The channel the customer last wrote on, if we can send there; else the ticket's.
    Recording a call is never the default unless it is all there is."""
    sendable = [c for c in options if c not in RECORD_ONLY_CHANNELS]
    if "email" in sendable and any(tag.name == "chat-to-email" for tag in ticket.tags):
        return "email"  # a chat nobody could take live goes on by e-mail (services/chatbot.py)
    for channel, _at in sorted(used.items(), key=lambda pair: pair[1], reverse=True):
        if channel in sendable:
            return channel
    if ticket.channel in sendable:
        return ticket.channel
    return (sendable or list(options) or [None])[0]


# --- uploads -----------------------------------------------------------------------------


def check_uploads(files: Iterable[FileStorage], limits: UploadLimits) -> list[InboundAttachment]:
    """The chosen files as attachments, or InvalidInput naming the first that is refused."""
    chosen = [f for f in files if f and f.filename]
    if len(chosen) > limits.max_files:
        raise InvalidInput(_("Attach at most %(count)s files.", count=limits.max_files))
    attachments = []
    for upload in chosen:
        name = clean_filename(upload.filename or "")
        data = upload.read(limits.max_bytes + 1)
        if len(data) > limits.max_bytes:
            raise InvalidInput(
                _("%(name)s is larger than %(limit)s; attach files of at most that size.",
                  name=name, limit=limits.size_text)
            )  # fmt: skip
        attachments.append(
            InboundAttachment.from_bytes(name, _checked_type(name, data, limits), data)
        )
    return attachments


def _checked_type(name: str, data: bytes, limits: UploadLimits) -> str:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in limits.extensions:
        raise InvalidInput(
            _("%(name)s: this kind of file cannot be attached (allowed: %(types)s).",
              name=name, types=", ".join(limits.extensions))
        )  # fmt: skip
    content_type, starts = FILE_TYPES[extension]
    if starts is None:
        readable = b"\x00" not in data
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            readable = False
        if not readable:
            raise InvalidInput(_("%(name)s is not a text file.", name=name))
    elif not data.startswith(starts) or (extension == "webp" and data[8:12] != b"WEBP"):
        raise InvalidInput(
            _("%(name)s is not what its name says (%(type)s).", name=name, type=content_type)
        )
    return content_type


def clean_filename(name: str) -> str:
    """The last path part, without control characters, at most 255 characters."""
    name = os.path.basename(name.replace("\\", "/"))
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(" .")
    return name[-255:] or "attachment"


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"


# --- collisions --------------------------------------------------------------------------


def new_since(ticket: Ticket, seen: int, user: User) -> list[Message]:
    """Messages on `ticket` newer than the one the composer saw, not written by `user`.
    From `ticket.messages`, which sending the reply reads next anyway."""
    newer = [m for m in ticket.messages if m.id > seen and m.author_id != user.id]
    return sorted(newer, key=lambda m: m.id)


def parse_seen(raw: str | None) -> int:
    """The id the form says it saw; a missing or broken one means "saw nothing"."""
    return int(raw) if raw and re.fullmatch(r"\d{1,18}", raw) else 0


# --- sending -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    kind: str  # "reply" or "note"
    text: str
    channel: str | None = None
    status: str | None = None  # set after sending: one of STATUSES_AFTER_SENDING
    response: str | None = None  # the shortcut of the canned response it started from


def send(
    ticket: Ticket, user: User, draft: Draft, attachments: Sequence[InboundAttachment] = ()
) -> Message:
    """Send `draft` as `user`: a reply leaves through the outbox after the commit, a note
    notifies the colleagues it @mentions. Nothing is written when anything is refused."""
    if ticket.merged_into_id is not None:
        raise InvalidInput(_("This ticket is merged into #%(number)s; answer there.",
                             number=ticket.merged_into_id))  # fmt: skip
    if draft.status is not None and draft.status not in STATUSES_AFTER_SENDING:
        raise InvalidInput(_("Unknown status %(value)s.", value=draft.status))
    if draft.kind == "note":
        mentioned = mentions.mentioned_users(draft.text, ticket, author=user)
        message = add_note(ticket, user, draft.text)
        message.attachments = [_stored(a) for a in attachments]
        mentions.notify(message, mentioned, author=user)
    elif draft.kind == "reply":
        options = reply_channels(ticket, user)
        if draft.channel not in options:
            raise InvalidInput(
                _("This customer cannot be answered on %(channel)s.", channel=draft.channel)
            )
        check_social_reply(ticket, draft.channel, draft.text, attachments)  # window, size, files
        message = add_reply(ticket, user, draft.text, channel=draft.channel,
                            attachments=attachments,
                            deliver=draft.channel not in RECORD_ONLY_CHANNELS)  # fmt: skip
        if message.counterpart is None:  # first answer on this channel in this ticket
            message.counterpart = ticket.customer.identity(SENDER_IDENTITY_KIND[draft.channel])
        if draft.response:  # which prepared answer was used, for later figures
            message.details = {**(message.details or {}), "canned_response": draft.response[:40]}
    else:
        raise InvalidInput(_("Choose a reply or an internal note."))
    if draft.status is not None:
        set_status(ticket, draft.status, user=user)
    return message


def _stored(attachment: InboundAttachment) -> Attachment:
    return Attachment(
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256 or hashlib.sha256(attachment.data or b"").hexdigest(),
        data=attachment.data,
    )
