"""E-mail intake throughput: a folder of .eml files, and the full IMAP path against Dovecot.

What it measures: how many customer e-mails per second one process takes in
through the real intake code, parse + ingest + a commit per mail.

* "folder": `helpdesk.services.mail_import.import_mail()` over a folder of N
  .eml files, as `helpdesk import-mail` runs it: read the file, parse it, store
  it (or quarantine it), commit. Once per backend, on a fresh database.
* "imap": `helpdesk.services.mail_intake.poll_mailbox()` on a mailbox holding
  the same N mails on a private Dovecot on 127.0.0.1 (IMAPS, self-signed
  certificate): fetch in batches of 50, parse, store, commit, and flag every
  message \\Seen one by one, as the worker does.

The mails are synthetic but realistic and fixed by seed 42: German and English
customer mails from about N/4 senders about order numbers, a third of them
replies (In-Reply-To/References to the sender's earlier mail, "AW:"/"Re:",
a quoted "Am ... schrieb ...:" / "On ... wrote:" block), about half
multipart/alternative with an HTML part, about 10% with a PDF attachment of a
few KB, German senders with older mail clients in ISO-8859-1. They are written
to a temporary folder (and, for the IMAP phase, appended to Dovecot) before the
clock starts.

It reports per phase and backend: messages/s (N / wall time of the call), p50
and p95 per mail in ms (the time between successive `on_mail` callbacks), and
the peak RSS of this process (Dovecot not included). It checks that every mail
was stored and, for IMAP, flagged \\Seen. The last line of stdout is one JSON
object with the figures.

Run it from the project root:

    .venv/bin/python bench/email_intake.py --messages 200             # smoke test
    .venv/bin/python bench/email_intake.py                            # 2,000, both backends
    .venv/bin/python bench/email_intake.py --backend sqlite --imap-backend none
    .venv/bin/python bench/email_intake.py --imap-backend both --pg-url postgresql+psycopg://@h/db

SQLite runs on a fresh file in a temporary directory with the app's own
settings (WAL, synchronous=FULL unless told otherwise). PostgreSQL runs on
`--pg-url`; the database is created if missing and its public schema is
dropped and recreated before every run, so do not point it at data you want to
keep. The IMAP phase needs Dovecot (/usr/sbin/dovecot) and openssl; without
them it is skipped.
"""

from __future__ import annotations

import argparse
import html
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

from flask import Flask

from common import (
    Figures,
    add_database_options,
    backend_label,
    figures,
    fresh_app,
    print_summary,
    progress,
    reply_flags,
    result_json,
    stored_and_tickets,
)
from helpdesk.extensions import db
from helpdesk.services.mail_import import import_mail, mail_sources
from helpdesk.services.mail_intake import poll_mailbox
from helpdesk.services.mailboxes import add_mailbox

DEFAULT_PG_URL = "postgresql+psycopg://@127.0.0.1:5432/helpdesk_bench_mail"
SEED = 42
SHOP_ADDRESS = "service@shop.test"
PASSWORD_ENV = "BENCH_IMAP_PASSWORD"
#: The issue's targets, messages/s, by result key; the folder target is for SQLite.
TARGETS = {"folder_sqlite": 400.0, "imap_sqlite": 150.0, "imap_postgresql": 150.0}

BERLIN = timezone(timedelta(hours=1))  # November: CET
FIRST_NAMES = (
    "Anna", "Lukas", "Mia", "Jonas", "Emma", "Noah", "Lea", "Paul", "Sophie", "Ben", "Jürgen",
    "Björn", "Käthe", "Zoë", "Oliver", "Grace", "James", "Chloé",
)  # fmt: skip
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Schäfer", "Köhler", "Groß",
    "Smith", "Jones", "Brown", "O'Neill", "Wilson",
)  # fmt: skip
DOMAINS = ("example.com", "example.net", "example.org", "mail.example.de", "web.example.de")
MAILERS = (
    "Mozilla Thunderbird 128.4.0",
    "Apple Mail (2.3776.700.51)",
    "Microsoft Outlook 16.0",
    "Roundcube Webmail/1.6.9",
)
GREETINGS = {
    "de": ("Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,", "Hallo zusammen,"),
    "en": ("Hi,", "Hello,", "Dear customer service,", "Hi there,"),
}
FIRST_MESSAGES = {
    "de": (
        "wo bleibt meine Bestellung {order}? Laut Sendungsverfolgung liegt das Paket seit "
        "Donnerstag im Verteilzentrum.",
        "ich habe die Schuhe aus Bestellung {order} vor zwei Wochen zurückgeschickt. "
        "Wann bekomme ich mein Geld zurück?",
        "die Jacke aus Bestellung {order} ist leider zu klein. Kann ich sie gegen Größe L "
        "umtauschen, oder muss ich sie zurückschicken und neu bestellen?",
        "in meinem Paket (Bestellung {order}) war ein falscher Artikel: statt der grauen "
        "Mütze lag eine grüne darin.",
        "ich möchte Bestellung {order} bitte stornieren, ich habe mich bei der Größe vertan.",
        "ich habe eine Zahlungserinnerung für Bestellung {order} bekommen, habe aber schon "
        "am 28.10. per Überweisung bezahlt. Den Beleg hänge ich an.",
    ),
    "en": (
        "where is my order {order}? It was supposed to arrive on Monday and the tracking "
        "page has not changed since.",
        "I sent the shoes back two weeks ago (order #{order}) and now got a payment reminder.",
        "the package for order {order} arrived damaged, the box was crushed and one of the "
        "mugs is broken.",
        "can I still change the delivery address for order {order}? We are moving on Friday.",
        "I'd like to exchange the jeans from order {order} for a bigger size, please.",
        "I was charged twice for order {order}, please see the attached statement.",
    ),
}
FOLLOW_UPS = {
    "de": (
        "gibt es schon etwas Neues zu Bestellung {order}? Ich habe bisher keine Antwort erhalten.",
        "danke für die schnelle Antwort! Dann warte ich die Gutschrift ab.",
        "ich warte immer noch auf eine Rückmeldung zu {order}. Bitte melden Sie sich bald.",
        "hier noch die Sendungsnummer vom Rückversand für {order}: 00340434161234567890",
        "leider ist das Paket immer noch nicht angekommen. Können Sie beim Versanddienst "
        "nachfragen?",
    ),
    "en": (
        "any update on order {order}? I haven't heard back yet.",
        "thanks, that was quick! I'll wait for the refund then.",
        "still waiting to hear back about {order}, could you please have a look?",
        "here is the return tracking number for {order}: 1Z999AA10123456784",
        "the parcel still hasn't arrived. Could you check with the carrier, please?",
    ),
}
DETAILS = {
    "de": (
        "Meine Kundennummer ist {customer}.",
        "Lieferadresse: Hauptstraße 12, 80331 München.",
        "Ich bin tagsüber unter 0151 23456789 erreichbar.",
        "Die Rechnung habe ich als PDF angehängt.",
    ),
    "en": (
        "My customer number is {customer}.",
        "Delivery address: 221B Baker Street, London NW1 6XE.",
        "You can reach me at +44 20 7946 0018 during the day.",
        "I've attached the invoice as a PDF.",
    ),
}
CLOSINGS = {
    "de": ("Viele Grüße", "Mit freundlichen Grüßen", "Danke und schöne Grüße", "LG"),
    "en": ("Best regards", "Kind regards", "Thanks", "Cheers"),
}
FOOTERS = {"de": "Von meinem iPhone gesendet", "en": "Sent from my iPhone"}
SUBJECTS = {
    "de": ("Bestellung {order}", "Rücksendung {order}", "Frage zu meiner Bestellung {order}"),
    "en": ("Order {order}", "Return for order {order}", "Question about order {order}"),
}
REPLY_PREFIX = {"de": "AW: ", "en": "Re: "}
WEEKDAYS = {
    "de": ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


@dataclass(frozen=True, slots=True)
class Customer:
    name: str
    address: str
    language: str
    charset: str  # what their mail client writes: utf-8, or iso-8859-1 for some German ones
    number: int


@dataclass(slots=True)
class Thread:
    """A conversation the generator has started and the customer may continue."""

    customer: Customer
    subject: str
    order: int
    message_ids: list[str]
    last_body: str
    last_sent: datetime


@dataclass(slots=True)
class Workload:
    mails: list[bytes] = field(default_factory=list)
    senders: int = 0
    threads: int = 0  # new conversations, i.e. the tickets the intake should create
    replies: int = 0
    html: int = 0
    attachments: int = 0
    latin1: int = 0

    @property
    def size_mb(self) -> float:
        return sum(len(raw) for raw in self.mails) / (1024 * 1024)

    def describe(self) -> str:
        return (
            f"{len(self.mails):,} mails ({self.size_mb:.1f} MB) from {self.senders:,} senders in "
            f"{self.threads:,} threads: {self.replies:,} replies, {self.html:,} with HTML, "
            f"{self.attachments:,} with a PDF, {self.latin1:,} in ISO-8859-1"
        )


# --- the synthetic mails ----------------------------------------------------------------


def build_workload(count: int, rng: random.Random) -> Workload:
    """Every mail the run takes in, in order, as RFC 822 bytes with CRLF line ends."""
    customers = [_customer(number, rng) for number in range(max(1, count // 4))]
    is_reply = reply_flags(count, rng)
    start = datetime(2026, 11, 2, 8, 0, tzinfo=BERLIN)
    workload = Workload()
    threads: list[Thread] = []
    for index, reply in enumerate(is_reply):
        sent_at = start + timedelta(seconds=40 * index + rng.randrange(40))
        if reply:
            thread = rng.choice(threads)
        else:
            thread = _new_thread(rng.choice(customers), rng, sent_at)
            threads.append(thread)
        message = _mail(index, thread, sent_at, reply, rng, workload)
        workload.mails.append(message.as_bytes(policy=policy.SMTP))
    workload.senders = len({t.customer.address for t in threads})
    workload.threads = len(threads)
    return workload


def _customer(number: int, rng: random.Random) -> Customer:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    local = f"{first}.{last}".lower().translate(_ASCII) + (f".{number}" if number % 3 else "")
    language = "de" if rng.random() < 0.6 else "en"
    charset = "iso-8859-1" if language == "de" and rng.random() < 0.3 else "utf-8"
    address = f"{local}@{DOMAINS[number % len(DOMAINS)]}"
    return Customer(f"{first} {last}", address, language, charset, 4_000_000 + number)


_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "ë": "e", "'": ""})


def _new_thread(customer: Customer, rng: random.Random, sent_at: datetime) -> Thread:
    order = rng.randrange(100_000, 1_000_000)
    subject = rng.choice(SUBJECTS[customer.language]).format(order=order)
    return Thread(customer, subject, order, [], last_body="", last_sent=sent_at)


def _mail(
    index: int,
    thread: Thread,
    sent_at: datetime,
    reply: bool,
    rng: random.Random,
    workload: Workload,
) -> EmailMessage:
    customer, language = thread.customer, thread.customer.language
    own_text = _body(thread, reply, rng)
    plain, quote = own_text, None
    if reply:
        quote = (_attribution(thread, rng), thread.last_body)
        quoted = "\n".join(f"> {line}" if line else ">" for line in thread.last_body.split("\n"))
        plain = f"{own_text}\n\n{quote[0]}\n{quoted}\n"
        workload.replies += 1

    message = EmailMessage()
    message["From"] = formataddr((customer.name, customer.address))
    team = "Kundenservice" if language == "de" else "Customer Service"
    message["To"] = formataddr((team, SHOP_ADDRESS))
    message["Subject"] = (REPLY_PREFIX[language] if reply else "") + thread.subject
    message["Date"] = format_datetime(sent_at)
    domain = customer.address.rsplit("@", 1)[1]
    message_id = f"<{sent_at:%Y%m%d%H%M%S}.{index:05d}.{rng.getrandbits(40):010x}@{domain}>"
    message["Message-ID"] = message_id
    if reply:
        message["In-Reply-To"] = thread.message_ids[-1]
        message["References"] = " ".join(thread.message_ids[-5:])
    message["User-Agent"] = rng.choice(MAILERS)
    message["Content-Language"] = "de-DE" if language == "de" else "en-GB"

    charset = customer.charset
    cte = rng.choice(("quoted-printable", "8bit")) if charset != "utf-8" else None
    message.set_content(plain, charset=charset, cte=cte)
    if rng.random() < 0.5:
        page = _html(own_text, quote, charset)
        message.add_alternative(page, subtype="html", charset=charset, cte=cte)
        workload.html += 1
    if rng.random() < 0.1:
        kind = "Rechnung" if language == "de" else "invoice"
        message.add_attachment(
            _pdf_like(rng),
            maintype="application",
            subtype="pdf",
            filename=f"{kind}-{thread.order}.pdf",
        )
        workload.attachments += 1
    workload.latin1 += charset != "utf-8"

    thread.message_ids.append(message_id)
    thread.last_body, thread.last_sent = own_text, sent_at
    return message


def _body(thread: Thread, reply: bool, rng: random.Random) -> str:
    customer, language = thread.customer, thread.customer.language
    texts = FOLLOW_UPS if reply else FIRST_MESSAGES
    paragraphs = [
        rng.choice(GREETINGS[language]),
        rng.choice(texts[language]).format(order=thread.order),
    ]
    if not reply or rng.random() < 0.3:
        details = rng.sample(DETAILS[language], k=rng.randint(1, 2))
        paragraphs.append(" ".join(d.format(customer=customer.number) for d in details))
    paragraphs.append(f"{rng.choice(CLOSINGS[language])}\n{customer.name}")
    if rng.random() < 0.2:
        paragraphs.append(FOOTERS[language])
    return "\n\n".join(paragraphs)


def _attribution(thread: Thread, rng: random.Random) -> str:
    """The line a mail client writes above the quoted history."""
    customer, at = thread.customer, thread.last_sent
    who = f"{customer.name} <{customer.address}>"
    if customer.language == "de":
        if rng.random() < 0.5:
            return f"Am {at:%d.%m.%Y} um {at:%H:%M} schrieb {who}:"
        return f"Am {WEEKDAYS['de'][at.weekday()]}, {at:%d.%m.%Y} um {at:%H:%M} schrieb {who}:"
    return f"On {WEEKDAYS['en'][at.weekday()]}, {at.day} {at:%b %Y} at {at:%H:%M}, {who} wrote:"


def _html(own_text: str, quote: tuple[str, str] | None, charset: str) -> str:
    def paragraphs(text: str) -> str:
        return "\n".join(
            "<p>" + html.escape(part).replace("\n", "<br>\n") + "</p>"
            for part in text.split("\n\n")
        )

    body = paragraphs(own_text)
    if quote:
        attribution, history = quote
        body += (
            f'\n<div class="moz-cite-prefix">{html.escape(attribution)}<br></div>\n'
            f'<blockquote type="cite">\n{paragraphs(history)}\n</blockquote>'
        )
    return (
        '<!DOCTYPE html>\n<html>\n<head><meta http-equiv="Content-Type" '
        f'content="text/html; charset={charset}"></head>\n'
        '<body style="font-family: Arial, sans-serif; font-size: 14px">\n'
        f"{body}\n</body>\n</html>\n"
    )


def _pdf_like(rng: random.Random) -> bytes:
    """A few KB that start and end like a PDF."""
    return (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + rng.randbytes(rng.randint(2_000, 8_000)) + b"\n%%EOF\n"
    )


def write_folder(workload: Workload, folder: Path) -> None:
    for index, raw in enumerate(workload.mails):
        (folder / f"{index:05d}.eml").write_bytes(raw)


# --- the backends -----------------------------------------------------------------------


def _label(phase: str, backend: str, args: argparse.Namespace) -> str:
    return f"{phase}, {backend_label(backend, args.sqlite_synchronous)}"


# --- the measurement --------------------------------------------------------------------


class MailClock:
    """The `on_mail` callback: the time of each mail's end, and a progress line now and then."""

    def __init__(self, label: str, total: int) -> None:
        self.report = progress(label, total)
        self.ends: list[float] = []
        self.started = 0.0

    def start(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, outcome: str) -> None:
        now = time.perf_counter()
        self.ends.append(now)
        self.report(len(self.ends), now - self.started)

    def latencies(self) -> list[float]:
        """Per mail: the time since the previous mail was done (the first: since the start)."""
        return [
            end - before
            for before, end in zip([self.started, *self.ends[:-1]], self.ends, strict=True)
        ]


def run_folder(app: Flask, phase_label: str, folder: Path, count: int) -> Figures:
    """`import_mail()` over the folder, timed as a whole and mail by mail; then check."""
    with app.app_context():
        sources = mail_sources(folder)  # lists the files; reading them is part of the timing
        if len(sources) != count:
            raise RuntimeError(f"{phase_label}: {len(sources)} files in the folder, not {count}")
        clock = MailClock(phase_label, count)
        clock.start()
        report = import_mail(folder, sources=sources, on_mail=clock)
        seconds = time.perf_counter() - clock.started
        stored, tickets = stored_and_tickets()
    if report.counts["stored"] != count or stored != count:
        raise RuntimeError(
            f"{phase_label}: {report} ({stored} messages in the database), expected {count} stored"
        )
    return figures(phase_label, clock.latencies(), seconds, tickets)


def run_imap(app: Flask, phase_label: str, server, user, count: int) -> Figures:
    """`poll_mailbox()` on the Dovecot mailbox, timed; then check the store and the flags."""
    os.environ[PASSWORD_ENV] = user.password
    app.config["IMAP_CA_FILE"] = server.ca_file
    with app.app_context():
        mailbox = add_mailbox(
            "bench",
            address=user.name,
            host="127.0.0.1",
            port=server.imaps_port,
            security="ssl",
            username=user.name,
            password_env=PASSWORD_ENV,
        )
        db.session.commit()
        clock = MailClock(phase_label, count)
        clock.start()
        result = poll_mailbox(mailbox, on_mail=clock)
        seconds = time.perf_counter() - clock.started
        stored, tickets = stored_and_tickets()
    if result.report.counts["stored"] != count or stored != count:
        raise RuntimeError(
            f"{phase_label}: {result.report} ({stored} messages in the database), "
            f"expected {count} stored"
        )
    flags = server.flags(user)
    unseen = [uid for uid, found in flags.items() if b"\\Seen" not in found]
    if len(flags) != count or unseen:
        raise RuntimeError(
            f"{phase_label}: {len(flags)} messages on the server, {len(unseen)} not flagged \\Seen"
        )
    print(f"{phase_label}: all {len(flags):,} messages flagged \\Seen", file=sys.stderr)
    return figures(phase_label, clock.latencies(), seconds, tickets)


def fill_mailbox(server, user, workload: Workload) -> None:
    """APPEND every mail to the user's INBOX over one connection (not timed)."""
    total, step = len(workload.mails), max(1, len(workload.mails) // 10)
    started = time.perf_counter()
    with server.client(user) as client:
        for done, raw in enumerate(workload.mails, start=1):
            client.append("INBOX", raw)
            if done % step == 0 or done == total:
                rate = done / (time.perf_counter() - started)
                print(f"dovecot: appended {done}/{total}  ({rate:,.0f}/s)", file=sys.stderr)


def _dovecot_class():
    """`tests.mail_servers.Dovecot`; the project root is not on sys.path when run as a script."""
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from tests.mail_servers import DOVECOT_BINARY, Dovecot

    return Dovecot if DOVECOT_BINARY.exists() else None


# --- output and the command line --------------------------------------------------------


def _print_summary(key: str, found: Figures, workload: Workload) -> None:
    """The block of one run; `key` ("folder_sqlite", ...) picks the target to compare with."""
    print_summary(
        found, workload.senders, workload.threads, latency_name="per mail", target=TARGETS.get(key)
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2_000, help="how many (default 2000)")
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql", "both", "none"),
        default="both",
        help="backends for the folder phase (default both)",
    )
    parser.add_argument(
        "--imap-backend",
        choices=("sqlite", "postgresql", "both", "none"),
        default="sqlite",
        help="backends for the IMAP phase (default sqlite)",
    )
    add_database_options(parser, DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    if args.messages < 3:
        parser.error("--messages must be at least 3")
    return args


def _backends(choice: str) -> tuple[str, ...]:
    return {"both": ("sqlite", "postgresql"), "none": ()}.get(choice, (choice,))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    workload = build_workload(args.messages, random.Random(SEED))
    print(
        f"email intake bench: {workload.describe()}; built in "
        f"{time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    results: dict[str, Figures | None] = {}
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-eml-") as directory:
        folder = Path(directory)
        write_folder(workload, folder)
        for backend in _backends(args.backend):
            label = _label("folder", backend, args)
            with fresh_app(backend, args.sqlite_synchronous, args.pg_url) as app:
                results[f"folder_{backend}"] = (
                    run_folder(app, label, folder, args.messages) if app else None
                )
    for key in results:
        if results[key]:
            _print_summary(key, results[key], workload)
    results.update(_imap_phase(args, workload))
    head = {"bench": "email_intake", "messages": args.messages}
    print(result_json(head, results, args.sqlite_synchronous or "FULL"))
    return 0


def _imap_phase(args: argparse.Namespace, workload: Workload) -> dict[str, Figures | None]:
    backends = _backends(args.imap_backend)
    if not backends:
        return {}
    dovecot = _dovecot_class()
    if dovecot is None:
        print("imap: skipped, Dovecot (/usr/sbin/dovecot) is not installed")
        return {f"imap_{backend}": None for backend in backends}
    results: dict[str, Figures | None] = {}
    with dovecot() as server:
        for backend in backends:
            user = server.add_user(SHOP_ADDRESS if backend == backends[0] else None)
            fill_mailbox(server, user, workload)
            label = _label("imap", backend, args)
            with fresh_app(backend, args.sqlite_synchronous, args.pg_url) as app:
                count = len(workload.mails)
                found = run_imap(app, label, server, user, count) if app else None
            results[f"imap_{backend}"] = found
            if found:
                _print_summary(f"imap_{backend}", found, workload)
    return results


if __name__ == "__main__":
    sys.exit(main())
