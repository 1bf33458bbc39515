"""Phone numbers in E.164, read with the `phonenumbers` library (default region DE)."""

from __future__ import annotations

import pytest

from helpdesk.errors import InvalidInput
from helpdesk.services.calls import normalise_phone, parse_duration


@pytest.fixture(autouse=True)
def _request(app):
    """Errors are translated for the person reading them: a request is needed."""
    with app.test_request_context():
        yield


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # Germany: landline with area code, mobile, the (0) people write, 0049
        ("030 1234567", None, "+49301234567"),
        ("0171 / 123 45 67", None, "+491711234567"),
        ("+49 (0)89 2180-0", None, "+498921800"),
        ("0049 171 1234567", None, "+491711234567"),
        # United Kingdom, as a German agent types it and as a British number
        ("+44 20 7946 0958", None, "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("0044 7700 900123", None, "+447700900123"),
        # United States
        ("(415) 555-2671", "US", "+14155552671"),
        ("+1 415-555-2671", None, "+14155552671"),
        ("001 212 555 0100", None, "+12125550100"),
    ],
)
def test_numbers_become_e164(app, raw, region, expected):
    assert normalise_phone(raw, region) == expected


def test_the_default_region_is_configurable(app, monkeypatch):
    monkeypatch.setitem(app.config, "PHONE_REGION", "GB")
    assert normalise_phone("020 7946 0958") == "+442079460958"
    monkeypatch.setitem(app.config, "PHONE_REGION", "US")
    assert normalise_phone("415 555 2671") == "+14155552671"


@pytest.mark.parametrize("raw", ["", "anonymous", "12", "+49 1", "call me"])
def test_what_is_no_number_is_refused_clearly(app, raw):
    with pytest.raises(InvalidInput, match="not a phone number"):
        normalise_phone(raw)


@pytest.mark.parametrize(("raw", "seconds"), [("", 0), ("95", 95), ("3:20", 200), ("0:07", 7)])
def test_durations(app, raw, seconds):
    assert parse_duration(raw) == seconds


def test_a_wrong_duration_is_refused(app):
    with pytest.raises(InvalidInput):
        parse_duration("three minutes")
