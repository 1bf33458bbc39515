"""IMAP intake: a small, well-named wrapper over imapclient.

`ImapMailbox` reads one folder by UID and never marks mail as read by looking
at it; the caller decides when a message counts as processed. Every error from
imapclient, `socket` or `ssl` leaves this module as `ImapError` (or
`ImapAuthError`) with a message that says what to check.

A poll loop uses it like this::

    with ImapMailbox(settings) as box:
        if box.uidvalidity != state.uidvalidity:
            state.reset(box.uidvalidity)  # the server renumbered the folder
        for uid, raw in box.fetch(box.uids_after(state.last_uid)):
            ingest(raw)
            box.mark_processed(uid)
            state.last_uid = uid
        box.wait_for_news(timeout=25 * 60)

When connecting fails with `ImapError`, the loop sleeps `next(delays)` seconds
from one `delays = backoff_delays()` and starts a fresh one after a success.
"""

from __future__ import annotations

import logging
import random
import re
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from types import TracebackType

from imapclient import IMAPClient
from imapclient import exceptions as imap_exceptions

from channel_adapters.base import AdapterError, ConfigError

logger = logging.getLogger(__name__)

SECURITY_MODES = ("ssl", "starttls", "none")
#: Messages fetched per FETCH command: big enough to be quick, small enough
#: that one huge mailbox does not arrive as a single response.
FETCH_BATCH_SIZE = 50
SEEN = b"\\Seen"
DELETED = b"\\Deleted"
_NEWS = frozenset({b"EXISTS", b"RECENT"})
_NOT_CONNECTED = "ImapMailbox is not connected; use `with ImapMailbox(settings) as box:`"


@dataclass(frozen=True)
class ImapSettings:
    """Where a mailbox lives and how to log in. `security` is "ssl", "starttls" or "none"."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    security: str = "ssl"
    folder: str = "INBOX"
    processed_folder: str | None = None  # move processed mail here instead of flagging \Seen
    ca_file: str | None = None  # trust this CA instead of the system's
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ConfigError(
                f"IMAP security must be one of {', '.join(SECURITY_MODES)}, not {self.security!r}"
            )
        if not self.host:
            raise ConfigError("IMAP host is empty")
        if not 0 < self.port < 65536:
            raise ConfigError(f"IMAP port {self.port} is not a TCP port (1-65535)")

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class ImapError(AdapterError):
    """The mailbox cannot be reached or read; the message says what to check."""


class ImapAuthError(ImapError):
    """The server refused the username or password."""


class ImapMailbox:
    """One logged-in IMAP connection with one folder selected; use it as a context manager."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self._client: IMAPClient | None = None
        self._uidvalidity: int | None = None
        self._known_folders: set[str] = set()

    def __enter__(self) -> ImapMailbox:
        try:
            self._client = self._connect()
            if self.settings.security == "starttls":
                self._start_tls()
            self._log_in()
            self._uidvalidity = self._select(self.settings.folder)
        except BaseException:
            self._drop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Log out; a connection that is already dead is just dropped, never an error."""
        if self._client is None:
            return
        try:
            self._client.logout()  # closes the socket, too
        except (imap_exceptions.IMAPClientError, OSError) as error:
            logger.debug("IMAP logout from %s failed: %s", self.settings.address, error)
            self._drop()
        self._client = None

    def _drop(self) -> None:
        """Close the socket without a word to the server."""
        client, self._client = self._client, None
        if client is not None:
            with suppress(imap_exceptions.IMAPClientError, OSError):
                client.shutdown()

    @property
    def uidvalidity(self) -> int:
        """The folder's UIDVALIDITY; when it changes, every UID seen before is meaningless."""
        if self._uidvalidity is None:
            raise RuntimeError(_NOT_CONNECTED)
        return self._uidvalidity

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs greater than `last_uid`, ascending."""
        with self._errors("searching for new mail"):
            found = self._imap.search(["UID", f"{last_uid + 1}:*"])
        # "n:*" always matches the highest UID, even when that is below n (RFC 3501 6.4.8).
        return sorted(uid for uid in found if uid > last_uid)

    def unprocessed_up_to(self, last_uid: int) -> list[int]:
        """UIDs up to `last_uid` that are not marked processed: still unseen, or (with a
        `processed_folder`) still here at all. A crash between storing a mail and marking
        it leaves one such; it is stored already, so it only needs the mark."""
        if last_uid <= 0:
            return []
        criteria = ["UID", f"1:{last_uid}"]
        if self.settings.processed_folder is None:
            criteria.insert(0, "UNSEEN")
        with self._errors("searching for mail stored but not marked"):
            found = self._imap.search(criteria)
        return sorted(uid for uid in found if uid <= last_uid)

    def fetch(self, uids: Sequence[int]) -> Iterator[tuple[int, bytes]]:
        """Yield `(uid, raw message)` in UID order without setting \\Seen.

        Messages deleted since they were listed are skipped.
        """
        ordered = sorted(set(uids))
        for start in range(0, len(ordered), FETCH_BATCH_SIZE):
            batch = ordered[start : start + FETCH_BATCH_SIZE]
            with self._errors("fetching messages"):
                response = self._imap.fetch(batch, ["BODY.PEEK[]"])
            for uid in batch:
                if uid in response:
                    yield uid, response[uid][b"BODY[]"]
                else:
                    logger.info("IMAP message %s vanished before it was fetched", uid)

    def mark_processed(self, uid: int) -> None:
        """Flag the message \\Seen, or move it to `processed_folder` when one is set."""
        target = self.settings.processed_folder
        if target is None:
            with self._errors("flagging a message as seen"):
                self._imap.add_flags([uid], [SEEN], silent=True)
        else:
            self._ensure_folder(target)
            self._move(uid, target)

    def supports_idle(self) -> bool:
        """Whether the server offers IDLE, i.e. can tell us about new mail as it arrives."""
        with self._errors("reading the server's capabilities"):
            return bool(self._imap.has_capability("IDLE"))

    def wait_for_news(self, timeout: float) -> bool:
        """Block until new mail arrives or `timeout` seconds pass; return whether mail arrived.

        Uses IDLE (keep `timeout` under 29 minutes, as RFC 2177 asks). Without
        IDLE it sleeps for `timeout` and returns True, so the caller simply polls.
        """
        if not self.supports_idle():
            time.sleep(timeout)
            return True
        with self._errors("waiting for new mail (IDLE)"):
            # Servers report only what changes once IDLE runs (Dovecot does), so
            # first ask about mail that came since our last command.
            _, responses = self._imap.noop()
            return _reports_news(responses) or self._idle(timeout)

    def _idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        self._imap.idle()
        try:
            news = False
            while not news and (remaining := deadline - time.monotonic()) > 0:
                responses = self._imap.idle_check(timeout=remaining)
                if not responses:
                    break  # the time is up, or the server closed the connection
                news = _reports_news(responses)
        finally:
            _, responses = self._imap.idle_done()  # raises if the connection is gone
        return news or _reports_news(responses)

    @property
    def _imap(self) -> IMAPClient:
        if self._client is None:
            raise RuntimeError(_NOT_CONNECTED)
        return self._client

    def _connect(self) -> IMAPClient:
        settings = self.settings
        with self._errors("connecting"):
            return IMAPClient(
                settings.host,
                settings.port,
                ssl=settings.security == "ssl",
                ssl_context=self._tls_context(),
                timeout=settings.timeout,
            )

    def _start_tls(self) -> None:
        with self._errors("starting TLS"):
            if not self._imap.has_capability("STARTTLS"):
                raise ImapError(
                    f"{self.settings.address} does not offer STARTTLS; "
                    "use security 'ssl' (usually port 993) or check the port"
                )
            self._imap.starttls(self._tls_context())

    def _tls_context(self) -> ssl.SSLContext | None:
        return None if self.settings.security == "none" else tls_context(self.settings.ca_file)

    def _log_in(self) -> None:
        with self._errors("logging in"):
            self._imap.login(self.settings.username, self.settings.password)
        logger.debug("logged in to %s as %s", self.settings.address, self.settings.username)

    def _select(self, folder: str) -> int:
        """Select `folder` and return its UIDVALIDITY."""
        with self._errors(f"opening folder {folder!r}"):
            info = self._imap.select_folder(folder)
        return int(info[b"UIDVALIDITY"])

    def _ensure_folder(self, folder: str) -> None:
        if folder in self._known_folders:
            return
        with self._errors(f"creating folder {folder!r}"):
            if not self._imap.folder_exists(folder):
                self._create_folder(folder)
        self._known_folders.add(folder)

    def _create_folder(self, folder: str) -> None:
        try:
            self._imap.create_folder(folder)
        except imap_exceptions.IMAPClientError:
            if not self._imap.folder_exists(folder):
                raise
            return  # another poller created it a moment ago
        logger.info("created IMAP folder %r on %s", folder, self.settings.address)

    def _move(self, uid: int, folder: str) -> None:
        with self._errors(f"moving a message to {folder!r}"):
            if self._imap.has_capability("MOVE"):
                self._imap.move([uid], folder)
                return
            self._imap.copy([uid], folder)
            self._imap.add_flags([uid], [DELETED], silent=True)
            if self._imap.has_capability("UIDPLUS"):
                self._imap.uid_expunge([uid])
            else:
                # Without UIDPLUS, EXPUNGE also removes whatever else is flagged \Deleted.
                self._imap.expunge()

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Translate imapclient, socket and ssl errors into `ImapError`s that say what to check."""
        try:
            yield
        except (imap_exceptions.IMAPClientError, OSError) as error:
            raise _translate(error, self.settings, doing) from error


def _translate(error: Exception, settings: ImapSettings, doing: str) -> ImapError:
    if isinstance(error, imap_exceptions.LoginError):
        return _login_problem(error, settings)
    if isinstance(error, OSError):
        return _network_problem(error, settings, doing)
    if isinstance(error, imap_exceptions.IMAPClientAbortError):
        return ImapError(
            f"the connection to {settings.address} broke while {doing} ({error}); "
            "reconnect and try again"
        )
    return ImapError(f"{settings.address} refused {doing}: {_server_text(error)}")


def _login_problem(error: imap_exceptions.LoginError, settings: ImapSettings) -> ImapError:
    text = _server_text(error)
    if "PRIVACYREQUIRED" in text:
        return ImapError(
            f"{settings.address} refuses logins without TLS ({text}); "
            "use security 'starttls' or 'ssl'"
        )
    if isinstance(error.__context__, imap_exceptions.IMAPClientAbortError):
        return ImapError(f"the connection to {settings.address} broke while logging in ({text})")
    return ImapAuthError(
        f"{settings.address} refused the login of {settings.username!r} ({text}); "
        "check username and password"
    )


def _network_problem(error: OSError, settings: ImapSettings, doing: str) -> ImapError:
    address, hint = settings.address, "check host, port and security"
    if isinstance(error, ssl.SSLCertVerificationError):
        return ImapError(
            f"cannot verify the TLS certificate of {address} ({error.verify_message}); "
            "check the host name, or set ca_file to the CA that signed the server's certificate"
        )
    if isinstance(error, ssl.SSLError):
        return ImapError(
            f"TLS with {address} failed while {doing} ({error.reason or error}); "
            f"is security {settings.security!r} right for port {settings.port}? "
            "(993 usually means 'ssl', 143 'starttls')"
        )
    if isinstance(error, socket.gaierror):
        return ImapError(f"cannot resolve {settings.host!r} ({error.strerror}); check host")
    if isinstance(error, TimeoutError):
        return ImapError(
            f"{address} did not answer within {settings.timeout:g}s while {doing}; {hint}"
        )
    if isinstance(error, ConnectionRefusedError):
        return ImapError(f"cannot reach {address} (connection refused); {hint}")
    return ImapError(
        f"connection to {address} failed while {doing} ({error.strerror or error}); {hint}"
    )


def _server_text(error: Exception) -> str:
    """The server's words, without the b'...' that imaplib wraps around them."""
    text = str(error)
    match = re.fullmatch(r"b(['\"])(.*)\1", text, flags=re.DOTALL)
    return match.group(2) if match else text


def _reports_news(responses: Sequence[tuple]) -> bool:
    """Whether untagged responses such as `(3, b"EXISTS")` announce new messages."""
    return any(
        len(item) > 1 and item[1] in _NEWS and isinstance(item[0], int) and item[0] > 0
        for item in responses
    )


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying client context that trusts `ca_file`, or the system CAs when it is None."""
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(f"cannot read the CA certificate {ca_file!r}: {error}") from error


def backoff_delays(
    base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None
) -> Iterator[float]:
    """Seconds to wait before each reconnect: exponential growth with full jitter.

    The n-th delay is uniform in [0, min(cap, base * 2**n)], so many pollers
    that lost the same server do not come back in step. Pass a seeded
    `random.Random` for a repeatable sequence.
    """
    if base <= 0 or cap < base:
        raise ValueError("backoff needs 0 < base <= cap")
    rng = rng or random.Random()
    ceiling = base
    while True:
        yield rng.uniform(0, ceiling)
        ceiling = min(cap, ceiling * 2)
