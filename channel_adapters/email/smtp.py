"""SMTP sending: turn an `OutboundMessage` into MIME and hand it to a mail server.

`build_email` is pure; `SmtpSender.send` talks to the server and raises
`SendError` whose `retryable` follows the reply code: 4xx answers and network
trouble may pass, 5xx answers and refused logins will not.
"""

from __future__ import annotations

import base64
import logging
import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from channel_adapters.base import ConfigError, Identity, OutboundMessage, SendError

logger = logging.getLogger(__name__)

SECURITY_MODES = ("ssl", "starttls", "none")
#: URL scheme -> (security, default port).
URL_SCHEMES = {
    "smtp": ("starttls", 587),
    "smtps": ("ssl", 465),
    "smtp+plain": ("none", 25),
}
URL_OPTIONS = ("ca_file", "timeout")


@dataclass(frozen=True)
class SmtpSettings:
    """Where to hand mail over. `security` is "ssl", "starttls" or "none"."""

    host: str
    port: int
    security: str = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ConfigError(
                f"SMTP security must be one of {', '.join(SECURITY_MODES)}, not {self.security!r}"
            )
        if not self.host:
            raise ConfigError("SMTP host is empty")
        if not 0 < self.port < 65536:
            raise ConfigError(f"SMTP port {self.port} is not a TCP port (1-65535)")

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Read `smtp://user:pass@host:587` (STARTTLS), `smtps://...:465` (TLS) or
        `smtp+plain://host:25` (no TLS); `?ca_file=/path&timeout=10` are optional.

        User and password are percent-decoded, so `p%40ss` means `p@ss`.
        """
        parts = urlsplit(url.strip())
        shown = _redact(url)
        if parts.scheme not in URL_SCHEMES:
            raise ConfigError(
                f"SMTP URL {shown!r} must start with one of "
                f"{', '.join(s + '://' for s in URL_SCHEMES)}"
            )
        if not parts.hostname:
            raise ConfigError(f"SMTP URL {shown!r} names no host")
        if parts.path not in ("", "/") or parts.fragment:
            raise ConfigError(f"SMTP URL {shown!r} has a path; only ?ca_file=&timeout= may follow")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"SMTP URL {shown!r} has an invalid port") from None
        security, default_port = URL_SCHEMES[parts.scheme]
        return cls(
            host=parts.hostname,
            port=port or default_port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            **_url_options(parts.query, shown),
        )


def _url_options(query: str, shown: str) -> dict[str, str | float]:
    try:
        values = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ConfigError(f"SMTP URL {shown!r} has an unreadable query string") from None
    unknown = sorted(set(values) - set(URL_OPTIONS))
    if unknown:
        raise ConfigError(
            f"SMTP URL {shown!r}: unknown option {', '.join(unknown)}; "
            f"known: {', '.join(URL_OPTIONS)}"
        )
    options: dict[str, str | float] = {name: items[-1] for name, items in values.items()}
    if "timeout" in options:
        try:
            options["timeout"] = float(options["timeout"])
        except ValueError:
            raise ConfigError(f"SMTP URL {shown!r}: timeout must be a number") from None
    return options


def _redact(url: str) -> str:
    """The URL with its password replaced, fit for an error message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def build_email(message: OutboundMessage, *, domain: str) -> EmailMessage:
    """The MIME message for `message`: text/plain, an HTML alternative and attachments.

    Threading headers come from `message.references` (the last one is answered).
    `domain` names the host part of a Message-ID generated when the message has
    none. Raises `ConfigError` without a sender and `SendError(retryable=False)`
    for content no server can accept (a header with a line break, an
    attachment whose bytes were not kept).
    """
    if not message.sender:
        raise ConfigError("an outgoing e-mail needs a sender address (OutboundMessage.sender)")
    mail = EmailMessage()
    try:
        _add_headers(mail, message, domain)
    except ValueError as error:
        raise SendError(f"cannot build the e-mail headers: {error}", retryable=False) from error
    # Quoted-printable keeps German text readable in the raw mail and is what
    # spam filters expect; base64 text bodies cost points.
    mail.set_content(message.text, cte="quoted-printable")
    if message.html:
        mail.add_alternative(message.html, subtype="html", cte="quoted-printable")
    _add_attachments(mail, message)
    return mail


def _add_headers(mail: EmailMessage, message: OutboundMessage, domain: str) -> None:
    mail["From"] = message.sender
    mail["To"] = _address(message.recipient)
    if message.cc:
        mail["Cc"] = ", ".join(message.cc)
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = message.message_id or make_msgid(domain=domain)
    if message.references:
        mail["In-Reply-To"] = message.references[-1]
        mail["References"] = " ".join(message.references)  # folded by the policy
    if message.auto_submitted:
        mail["Auto-Submitted"] = "auto-replied"  # RFC 3834
        mail["X-Auto-Response-Suppress"] = "All"  # Exchange's out-of-office replies
    for name, value in message.headers.items():
        del mail[name]  # an explicit header wins over ours
        mail[name] = value


def _address(identity: Identity) -> Address | str:
    if identity.display_name:
        return Address(display_name=identity.display_name, addr_spec=identity.value)
    return identity.value


def _add_attachments(mail: EmailMessage, message: OutboundMessage) -> None:
    for attachment in message.attachments:
        if attachment.data is None:
            raise SendError(
                f"attachment {attachment.filename!r} was not kept "
                f"({attachment.omitted_reason or 'no data'}) and cannot be sent",
                retryable=False,
            )
        maintype, _, subtype = attachment.content_type.partition("/")
        if not maintype or not subtype:
            maintype, subtype = "application", "octet-stream"
        mail.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,  # non-ASCII names become RFC 2231 filename*=
            disposition="inline" if attachment.inline else "attachment",
            cid=attachment.content_id,
        )


class _KeepsDataReply:
    """Remembers the server's answer to DATA, which `send_message` does not return."""

    data_reply: tuple[int, bytes] | None = None

    def data(self, msg: bytes | str) -> tuple[int, bytes]:
        self.data_reply = super().data(msg)
        return self.data_reply


class _SMTP(_KeepsDataReply, smtplib.SMTP):
    pass


class _SMTPOverTLS(_KeepsDataReply, smtplib.SMTP_SSL):
    pass


class SmtpSender:
    """Sends e-mails through one SMTP server, one connection per message."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, mail: EmailMessage) -> str:
        """Deliver `mail` to its From/To/Cc/Bcc envelope and return the server's DATA reply.

        Raises `SendError`; `retryable` is False for 5xx answers and refused logins.
        """
        if not any(mail.get_all(header) for header in ("To", "Cc", "Bcc")):
            raise SendError("the e-mail has no recipients (To, Cc or Bcc)", retryable=False)
        with self._errors():
            smtp = self._connect()
            try:
                self._log_in(smtp)
                refused = smtp.send_message(mail)
            except BaseException:
                smtp.close()  # a polite QUIT could wait out another timeout
                raise
            _quit(smtp)
        code, text = smtp.data_reply or (250, b"")
        if refused:  # delivered to the others; retrying would send them a duplicate
            logger.warning(
                "%s refused some recipients of %s: %s",
                self.settings.address,
                mail["Message-ID"],
                _describe_refusals(refused),
            )
        reply = f"{code} {text.decode('utf-8', 'replace')}".strip()
        logger.info("sent %s via %s: %s", mail["Message-ID"], self.settings.address, reply)
        return reply

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        if settings.security == "ssl":
            return _SMTPOverTLS(
                settings.host,
                settings.port,
                timeout=settings.timeout,
                context=_tls_context(settings.ca_file),
            )
        smtp = _SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.security == "starttls":
            try:
                smtp.starttls(context=_tls_context(settings.ca_file))
            except BaseException:
                smtp.close()
                raise
        return smtp

    def _log_in(self, smtp: smtplib.SMTP) -> None:
        username, password = self.settings.username, self.settings.password or ""
        if not username:
            return
        if (username + password).isascii():
            smtp.login(username, password)
        else:
            _log_in_with_utf8(smtp, username, password)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Translate smtplib, socket and ssl errors into `SendError`s with the server's reply."""
        try:
            yield
        except (smtplib.SMTPException, OSError) as error:
            raise _translate(error, self.settings) from error


def _log_in_with_utf8(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH PLAIN with UTF-8 credentials (RFC 4616); smtplib can only encode ASCII ones."""
    smtp.ehlo_or_helo_if_needed()
    if "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPNotSupportedError("AUTH PLAIN, needed for a non-ASCII password")
    token = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
    code, text = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, text)


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye; once the server has the message, a failed QUIT must not count as failure."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError) as error:
        logger.debug("SMTP QUIT failed: %s", error)
        smtp.close()


def _translate(error: Exception, settings: SmtpSettings) -> SendError:
    address = settings.address
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return SendError(
            f"{address} refused every recipient: {_describe_refusals(error.recipients)}",
            retryable=all(_is_transient(code) for code in codes),
        )
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return SendError(
            f"{address} refused the login of {settings.username!r}: {_reply(error)}; "
            "check username and password",
            retryable=_is_transient(error.smtp_code),
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return SendError(
            f"{address} refused the message: {_reply(error)}",
            retryable=_is_transient(error.smtp_code),
        )
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return SendError(
            f"{address} does not support what the settings ask for ({error}); "
            "check security (STARTTLS) and whether the server wants a login",
            retryable=False,
        )
    return SendError(_network_problem(error, settings), retryable=True)


def _network_problem(error: Exception, settings: SmtpSettings) -> str:
    address = settings.address
    hint = "check host, port and security"
    if isinstance(error, ssl.SSLCertVerificationError):
        return (
            f"cannot verify the TLS certificate of {address} ({error.verify_message}); "
            "check the host name, or set ca_file to the CA that signed it"
        )
    if isinstance(error, ssl.SSLError):
        return f"TLS with {address} failed ({error.reason or error}); {hint}"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve {settings.host!r} ({error.strerror}); check host"
    if isinstance(error, TimeoutError):
        return f"{address} did not answer within {settings.timeout:g}s; {hint}"
    if isinstance(error, ConnectionRefusedError):
        return f"cannot reach {address} (connection refused); {hint}"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return f"{address} closed the connection ({error}); {hint}"
    reason = error.strerror if isinstance(error, OSError) and error.strerror else error
    return f"sending via {address} failed ({reason}); {hint}"


def _is_transient(code: int) -> bool:
    return 400 <= code < 500


def _reply(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{error.smtp_code} {text}".strip()


def _describe_refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address}: {code} {text.decode('utf-8', 'replace')}"
        for address, (code, text) in refused.items()
    )


def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying client context that trusts `ca_file`, or the system CAs when it is None."""
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(f"cannot read the CA certificate {ca_file!r}: {error}") from error
