"""What the chatbot understands (helpdesk/services/chatbot_match.py), over the shop's
standard FAQ in German and English."""

from __future__ import annotations

import pytest

from helpdesk.services.chatbot_match import (
    FaqMatcher,
    FaqText,
    asks_order_status,
    find_email,
    find_order_number,
    guess_language,
    needs_person,
    small_talk,
    wants_person,
)
from helpdesk.services.faq_defaults import DEFAULT_FAQ


@pytest.fixture(scope="module")
def matcher() -> FaqMatcher:
    return FaqMatcher(
        FaqText(number, e.topic, e.language, (e.question, *e.alternatives))
        for number, e in enumerate(DEFAULT_FAQ)
    )


@pytest.mark.parametrize(
    ("question", "topic", "language"),
    [
        ("Was kostet der Versand nach Österreich?", "shipping_costs", "de"),
        ("Hallo, wie hoch sind eure Versandkosten?", "shipping_costs", "de"),
        ("versandkosten??", "shipping_costs", "de"),
        ("How much is shipping to Germany?", "shipping_costs", "en"),
        ("what does shipping cost", "shipping_costs", "en"),
        ("Wie lange dauert die Lieferung nach Österreich?", "delivery_times", "de"),
        ("How long does delivery take?", "delivery_times", "en"),
        ("Wann habt ihr geöffnet?", "opening_hours", "de"),
        ("when are you open", "opening_hours", "en"),
        ("Kann ich meine Jacke zurückschicken?", "return_policy", "de"),
        ("how do I return my shoes", "return_policy", "en"),
    ],
)
def test_standard_questions_in_both_languages(matcher, question, topic, language):
    found = matcher.match(question)
    assert found is not None, question
    assert (found.topic, found.language) == (topic, language)


@pytest.mark.parametrize(
    "question",
    [
        "Meine Hose hat ein Loch",
        "Hallo",
        "Do you have the boots in size 40?",
        "Die Rechnung ist falsch",
        "My parcel arrived with a torn sleeve, what now?",
        "",
    ],
)
def test_unsure_is_no_answer(matcher, question):
    assert matcher.match(question) is None or needs_person(question)


@pytest.mark.parametrize(
    ("text", "intents", "expected"),
    [
        ("My parcel arrived with a torn sleeve, what now?", (), True),
        ("Die Jacke ist kaputt angekommen", (), True),
        ("Ich habe eine Mahnung bekommen", (), True),
        ("Hallo?", ("refund_status",), True),
        ("Was kostet der Versand?", ("shipping_policy",), False),
        ("How long does delivery take?", (), False),
    ],
)
def test_complaints_and_own_cases_need_a_person(text, intents, expected):
    assert needs_person(text, intents) is expected


def test_an_empty_faq_answers_nothing():
    assert FaqMatcher([]).match("Was kostet der Versand?") is None


def test_a_close_rival_topic_makes_it_unsure():
    twins = FaqMatcher(
        [
            FaqText(1, "a", "en", ("How much is shipping?",)),
            FaqText(2, "b", "en", ("How much is shipping?",)),
        ]
    )
    assert twins.match("How much is shipping?") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ich möchte mit einem Mitarbeiter sprechen", True),
        ("Kann ich bitte mit einem Menschen reden?", True),
        ("I want to talk to a human", True),
        ("agent please", True),
        ("Was kostet der Versand?", False),
        ("Where is my order?", False),
    ],
)
def test_asking_for_a_person(text, expected):
    assert wants_person(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wo ist meine Bestellung?", True),
        ("wo bleibt mein Paket", True),
        ("Where is my order?", True),
        ("where's my parcel", True),
        ("My package has not arrived", True),
        ("Was kostet der Versand?", False),
    ],
)
def test_where_is_my_order(text, expected):
    assert asks_order_status(text) is expected


def test_the_classifier_intent_counts_too():
    assert asks_order_status("Hallo?", ["order_status"])


def test_order_numbers_and_addresses():
    assert find_order_number("100457") == "100457"
    assert find_order_number("Meine Bestellnummer ist #100457.") == "100457"
    assert find_order_number("100964, heike.bauer@example.de") == "100964"
    assert find_order_number("Ich weiß sie nicht") is None
    assert find_order_number("heike1234@example.de") is None
    assert find_email("Sie ist heike.bauer@example.de.") == "heike.bauer@example.de"
    assert find_email("keine Adresse") is None


def test_language_by_common_words():
    assert guess_language("Was kostet der Versand?", "en") == "de"
    assert guess_language("How much is shipping?", "de") == "en"
    assert guess_language("100457", "de") == "de"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hallo", "greeting"),
        ("Hi there!", "greeting"),
        ("Guten Tag", "greeting"),
        ("Danke schön!", "thanks"),
        ("thanks, bye", "thanks"),
        ("Hallo, was kostet der Versand?", None),
        ("Danke, aber wo ist meine Bestellung?", None),
    ],
)
def test_small_talk(text, expected):
    assert small_talk(text) == expected
