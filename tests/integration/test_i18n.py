"""The UI speaks German and English."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import force_locale

from tests.conftest import csrf_token, log_in, make_user

ROOT = Path(__file__).resolve().parents[2]


def test_browser_language_decides_until_the_user_chooses(client):
    german = client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert "Anmelden" in german.get_data(as_text=True)
    english = client.get("/login", headers={"Accept-Language": "en-GB"})
    assert "Sign in" in english.get_data(as_text=True)

    client.post(
        "/language", data={"language": "de", "next": "/login", "csrf_token": csrf_token(client)}
    )
    chosen = client.get("/login", headers={"Accept-Language": "en-GB"})
    assert '<html lang="de">' in chosen.get_data(as_text=True)


def test_signed_in_user_sees_the_inbox_in_their_language(client):
    make_user("agent", language="de")
    log_in(client, "agent@shop.example")
    page = client.get("/inbox", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for german in ("Posteingang", "Alle offenen", "Keine Tickets in dieser Ansicht.", "Abmelden"):
        assert german in page


def test_every_message_in_the_code_has_a_german_translation(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-o",
            str(template),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with template.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with (ROOT / "helpdesk/translations/de/LC_MESSAGES/messages.po").open("rb") as f:
        german = {m.id: m.string for m in read_po(f) if m.id}
    assert sorted(wanted - {k for k, v in german.items() if v}) == []


def test_the_catalogue_kept_per_request_follows_a_forced_language(app):
    """helpdesk.i18n keeps the catalogue on the request; force_locale (the chat answers a
    visitor in their language) must still switch it, and back."""
    page = (
        "{{ _('Inbox') }}|{{ ngettext('%(num)d message', '%(num)d messages', n) }}|"
        "{{ _('Assigned to %(name)s', name=who) }}"
    )
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        german = render_template_string(page, n=2, who="<b>Jo</b>")
        with force_locale("en"):
            english = render_template_string(page, n=1, who="Jo")
        again = render_template_string(page, n=1, who="Jo")
    assert german == "Posteingang|2 Nachrichten|&lt;b&gt;Jo&lt;/b&gt; zugewiesen"
    assert english == "Inbox|1 message|Assigned to Jo"
    assert again.startswith("Posteingang|1 Nachricht|")
