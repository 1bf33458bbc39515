"""Language per message: German, English or other, also for the short and the sloppy."""

from __future__ import annotations

import pytest

from classifiers.language import detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("wo bleibt mein paket??", "de"),
        ("Rueckgabe bitte, das Kleid passt nicht", "de"),
        ("hey ihr, kurze frage zum refund", "de"),
        ("Grüezi, s Paket isch nöd cho", "de"),
        ("Sehr geehrte Damen und Herren, anbei die Retoure zu Bestellung 100234.", "de"),
        ("where is my parcel", "en"),
        ("Hi, I sent the shoes back two weeks ago (order #100871), now a reminder", "en"),
        ("cheers mate, the jumper fits perfectly 👍", "en"),
        ("Bonjour, où est mon colis ? Je l'attends depuis une semaine.", "other"),
        ("Buongiorno, vorrei restituire le scarpe, sono troppo piccole.", "other"),
    ],
)
def test_language_of_customer_messages(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize("text", ["", "👍", "#100234", "ok", "https://track.example/1Z999"])
def test_too_little_to_tell_is_none(text):
    assert detect_language(text) is None
