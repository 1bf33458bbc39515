"""Real mail servers on loopback for the integration tests.

`Dovecot` runs the system's Dovecot with a throw-away configuration in a
temporary directory (nothing under /etc or /var is touched); `SmtpRecorder`
is an aiosmtpd server that keeps what it receives and can be told to refuse.
Both listen on 127.0.0.1 on free ports and clean up after themselves.
"""

from __future__ import annotations

import contextlib
import grp
import itertools
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from imapclient import IMAPClient

from channel_adapters.email.imap import ImapSettings, tls_context

DOVECOT_BINARY = Path("/usr/sbin/dovecot")
STARTUP_TIMEOUT = 20.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """Create `cert.pem` and `key.pem` for localhost/127.0.0.1; the cert is its own CA."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def wait_for_port(port: int, timeout: float, alive: Callable[[], bool] = lambda: True) -> bool:
    """Whether 127.0.0.1:`port` accepts connections within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return True
        time.sleep(0.05)
    return False


def _dies_with_us(command: list[str]) -> list[str]:
    """`command`, stopped by Linux should the test process die without cleaning up."""
    setpriv = shutil.which("setpriv")  # util-linux; sets PR_SET_PDEATHSIG, then execs
    return [setpriv, "--pdeathsig", "TERM", "--", *command] if setpriv else command


@dataclass(frozen=True)
class MailUser:
    name: str
    password: str
    home: Path


class Dovecot:
    """A private Dovecot: IMAP (plain, STARTTLS) and IMAPS on 127.0.0.1, maildir users.

    Each user has a passwd-file of their own (Dovecot looks at a changed
    file at most once a second, a new file at once), so `add_user` works
    while the server runs. As root, mail is owned by `nobody` (Dovecot
    will not serve mail as UID 0); otherwise by the current user.
    """

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
        # The unprivileged login and mail processes must be able to walk in.
        self.directory.chmod(0o755)
        (self.directory / "passwd.d").mkdir()
        self.ca_file = str(self.directory / "cert.pem")
        self.imap_port = free_port()
        self.imaps_port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._mail_uid, self._mail_gid = _mail_owner()
        self._user_numbers = itertools.count(1)

    @property
    def log(self) -> str:
        parts = [self.directory / "dovecot.log", self.directory / "stderr.log"]
        return "\n".join(p.read_text(errors="replace") for p in parts if p.exists())

    def start(self) -> Dovecot:
        """Start Dovecot and wait until both ports answer; clean up if it does not."""
        try:
            make_self_signed_certificate(self.directory)
            config = self.directory / "dovecot.conf"
            config.write_text(self._config())
            self._spawn(config)
            self._wait_until_listening()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, config: Path) -> None:
        with (self.directory / "stderr.log").open("wb") as stderr:
            self._process = subprocess.Popen(
                _dies_with_us([str(DOVECOT_BINARY), "-F", "-c", str(config)]),
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )

    def _wait_until_listening(self) -> None:
        for port in (self.imap_port, self.imaps_port):
            if not wait_for_port(port, STARTUP_TIMEOUT, self.running):
                exit_code = self._process.poll() if self._process else None
                why = f"after {STARTUP_TIMEOUT:g}s" if exit_code is None else f"(exit {exit_code})"
                raise RuntimeError(
                    f"Dovecot is not listening on 127.0.0.1:{port} {why}; its log:\n{self.log}"
                )

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Stop Dovecot and all its children, then remove the temporary directory."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()  # the master stops its children before it exits
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def add_user(
        self,
        name: str | None = None,
        password: str = "Geheim-123",
        *,
        capabilities: str | None = None,
    ) -> MailUser:
        """A new user with an empty mailbox; the name defaults to a fresh `userN@shop.test`.

        `capabilities` (one word, e.g. "IMAP4rev1") replaces what the server
        announces to this user after login, to play an old server without
        IDLE, MOVE or UIDPLUS.
        """
        name = name or f"user{next(self._user_numbers)}@shop.test"
        home = self.directory / "home" / name
        home.mkdir(parents=True)
        os.chown(home, self._mail_uid, self._mail_gid)
        extra = f"userdb_imap_capability={capabilities}" if capabilities else ""
        line = f"{name}:{{PLAIN}}{password}:{self._mail_uid}:{self._mail_gid}::{home}::{extra}\n"
        (self.directory / "passwd.d" / name).write_text(line)
        return MailUser(name, password, home)

    def settings(self, user: MailUser, security: str = "ssl", **overrides) -> ImapSettings:
        """Client settings for `user`; the port follows `security`."""
        port = self.imaps_port if security == "ssl" else self.imap_port
        values = dict(
            host="127.0.0.1",
            port=port,
            username=user.name,
            password=user.password,
            security=security,
            ca_file=self.ca_file,
            timeout=10.0,
        )
        return ImapSettings(**(values | overrides))

    @contextlib.contextmanager
    def client(self, user: MailUser) -> Iterator[IMAPClient]:
        """A plain imapclient connection, logged in: the tests' second pair of eyes."""
        with IMAPClient(
            "127.0.0.1", self.imaps_port, ssl_context=tls_context(self.ca_file), timeout=10
        ) as client:
            client.login(user.name, user.password)
            yield client

    def append(
        self, user: MailUser, raw: bytes, folder: str = "INBOX", flags: Sequence[bytes] = ()
    ) -> int:
        """Store `raw` in `folder` (created if missing) and return its UID."""
        with self.client(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw, flags=flags)
        match = re.search(rb"APPENDUID \d+ (\d+)", response)
        assert match, f"Dovecot did not say which UID it gave: {response!r}"
        return int(match.group(1))

    def flags(self, user: MailUser, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        """Every message's flags in `folder`, by UID."""
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            return {uid: tuple(f) for uid, f in client.get_flags(client.search("ALL")).items()}

    def folders(self, user: MailUser) -> list[str]:
        with self.client(user) as client:
            return [name for _, _, name in client.list_folders()]

    def kick(self, user: MailUser) -> None:
        """Disconnect all of `user`'s sessions, as an admin or a server restart would."""
        subprocess.run(
            ["doveadm", "-c", str(self.directory / "dovecot.conf"), "kick", user.name],
            check=True,
            capture_output=True,
        )

    def recreate_folder(self, user: MailUser, folder: str) -> None:
        """Delete `folder` with its mail and create it again, as a mail admin might."""
        with self.client(user) as client:
            client.delete_folder(folder)
            client.create_folder(folder)

    def renumber(self, user: MailUser, folder: str = "INBOX") -> None:
        """Force a new UIDVALIDITY for `folder`, as after a server restore.

        Removing the UID list and indexes makes Dovecot number the messages
        afresh under a new UIDVALIDITY; nobody may be connected meanwhile.
        """
        maildir = user.home / "Maildir"
        if folder != "INBOX":
            maildir = maildir / f".{folder}"
        for path in [maildir / "dovecot-uidlist", *maildir.glob("dovecot.index*")]:
            path.unlink()
        for path in (user.home / "Maildir").glob("dovecot.list.index*"):
            path.unlink()

    def _config(self) -> str:
        d = self.directory
        # Only root may chroot; without root, both services run unconfined.
        chroot = "" if os.geteuid() == 0 else "chroot ="
        return f"""\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
{_service_users()}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd.d/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/passwd.d/%u
}}
# Without this, one failed login slows the next logins from 127.0.0.1 by seconds.
service anvil {{
  {chroot}
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  {chroot}
  inet_listener imap {{
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = {self.imaps_port}
    ssl = yes
  }}
}}
"""


def _mail_owner() -> tuple[int, int]:
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


def _service_users() -> str:
    """Who Dovecot's unprivileged processes run as: the package's users, or just us."""
    if os.geteuid() == 0:
        return "default_login_user = dovenull\ndefault_internal_user = dovecot"
    me, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    settings = {"login_user": me, "internal_user": me, "internal_group": group}
    return "\n".join(f"default_{name} = {value}" for name, value in settings.items())


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the SMTP server got it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    def parsed(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.raw)  # type: ignore[return-value]


class _RecordingHandler:
    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []
        self._failures: list[tuple[str, str]] = []  # (stage, reply), one per message
        self._lock = threading.Lock()

    def fail(self, reply: str, count: int, stage: str) -> None:
        with self._lock:
            self._failures.extend([(stage, reply)] * count)

    def _failure(self, stage: str) -> str | None:
        with self._lock:
            if self._failures and self._failures[0][0] == stage:
                return self._failures.pop(0)[1]
        return None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if reply := self._failure("RCPT"):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        if reply := self._failure("DATA"):
            return reply
        mail = ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content)
        with self._lock:
            self.received.append(mail)
            number = len(self.received)
        return f"250 2.0.0 Ok: queued as REC{number:04d}"


class SmtpRecorder:
    """An SMTP server on 127.0.0.1 that records every message it accepts.

    `fail_next(reply)` makes it answer the next message(s) with `reply`
    instead, at DATA (the default) or at RCPT. With `users`, it asks for AUTH;
    with `certificate`, it offers STARTTLS, or speaks TLS from the start when
    `implicit_tls` is set.
    """

    def __init__(
        self,
        *,
        users: dict[str, str] | None = None,
        certificate: tuple[Path, Path] | None = None,
        implicit_tls: bool = False,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self._handler = _RecordingHandler()
        self._controller = Controller(
            self._handler,
            hostname=self.host,
            port=self.port,
            **_tls_options(certificate, implicit_tls),
            **_auth_options(users, tls=certificate is not None),
        )

    @property
    def messages(self) -> list[ReceivedMail]:
        return list(self._handler.received)

    def fail_next(self, reply: str, count: int = 1, *, stage: str = "DATA") -> None:
        self._handler.fail(reply, count, stage)

    def url(self) -> str:
        return f"smtp+plain://{self.host}:{self.port}"

    def start(self) -> SmtpRecorder:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpRecorder:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _tls_options(certificate: tuple[Path, Path] | None, implicit: bool) -> dict[str, object]:
    if certificate is None:
        return {}
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return {"ssl_context": context} if implicit else {"tls_context": context}


def _auth_options(users: dict[str, str] | None, tls: bool) -> dict[str, object]:
    if users is None:
        return {}

    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            users.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        # handled=False lets aiosmtpd answer "535 5.7.8 Authentication credentials invalid".
        return AuthResult(success=ok, handled=False)

    return {"authenticator": authenticate, "auth_required": True, "auth_require_tls": tls}
