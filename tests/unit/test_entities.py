"""Entities customers name: order, invoice and tracking numbers, amounts, sizes, dates."""

from __future__ import annotations

import pytest

from classifiers.entities import EntityExtractor, extract_entities


def found(text: str, kind: str) -> list[str]:
    return [e.value for e in extract_entities(text) if e.kind == kind]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Bestellnr. 4711-2033", "4711-2033"),
        ("meine Bestellung 100234 ist nicht da", "100234"),
        ("Bestellnummer: 100912", "100912"),
        ("order no. 100318 has not arrived", "100318"),
        ("Order #100871", "100871"),
        ("wo bleibt #100455??", "100455"),
        ("Auftragsnummer 88812345", "88812345"),
    ],
)
def test_order_numbers_in_their_many_spellings(text, number):
    assert found(text, "order_number") == [number]


def test_positions_point_at_the_value():
    text = "Ich habe die Schuhe zurückgeschickt. Bestellnr. 4711-2033"
    (entity,) = [e for e in extract_entities(text) if e.kind == "order_number"]
    assert text[entity.start : entity.end] == "4711-2033"


def test_a_shop_can_bring_its_own_order_pattern():
    extractor = EntityExtractor(order_patterns=(r"\b(?P<number>SH-\d{6})\b",))
    assert [e.value for e in extractor.extract("Bestellung SH-123456")] == ["SH-123456"]
    with pytest.raises(ValueError, match="group named 'number'"):
        EntityExtractor(order_patterns=(r"\d+",))


@pytest.mark.parametrize(
    ("text", "carrier", "number"),
    [
        ("Sendungsnummer 00340434161094015902", "dhl", "00340434161094015902"),
        ("tracking 1Z999AA10123456784", "ups", "1Z999AA10123456784"),
        ("Hermes H1001234567890123456", "hermes", "H1001234567890123456"),
        ("DPD Paketnummer 01234567890123", "dpd", "01234567890123"),
        ("GLS: 12345678901", "gls", "12345678901"),
        ("JJD000390007846331752", "dhl", "JJD000390007846331752"),
    ],
)
def test_tracking_numbers_by_carrier(text, carrier, number):
    (entity,) = [e for e in extract_entities(text) if e.kind == "tracking_number"]
    assert (entity.label, entity.value) == (carrier, number)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Die Mahnung über 49,95 € ist falsch", "49.95 EUR"),
        ("I paid €89.90 twice", "89.90 EUR"),
        ("a refund of £35 please", "35.00 GBP"),
        ("129 Euro", "129.00 EUR"),
        ("1.299,00 EUR", "1299.00 EUR"),
        ("CHF 59.50", "59.50 CHF"),
    ],
)
def test_amounts_with_currency(text, amount):
    assert found(text, "amount") == [amount]


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("zu klein, brauche Größe 40", "40"),
        ("Gr. 38", "38"),
        ("EU 42", "EU 42"),
        ("UK 8", "UK 8"),
        ("size M please", "M"),
        ("in XL", "XL"),
        ("Groesse 39,5", "39.5"),
    ],
)
def test_sizes(text, size):
    assert found(text, "size") == [size]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("am 12.11.2026 bestellt", "2026-11-12"),
        ("seit dem 3.11. warte ich", "--11-03"),
        ("on 12 Nov 2026", "2026-11-12"),
        ("ordered on November 3rd", "--11-03"),
        ("am 5. Dezember", "--12-05"),
        ("2026-11-20", "2026-11-20"),
    ],
)
def test_dates_in_german_and_english(text, value):
    assert found(text, "date") == [value]


def test_nothing_made_up_from_plain_text():
    assert extract_entities("Hallo, ich hätte gern eine Auskunft zu Ihren Öffnungszeiten.") == ()
    assert found("am 31.02. war nichts", "date") == []
