"""Things customers name in their messages, found with their positions.

Order and invoice numbers, parcel tracking numbers by carrier, amounts with
their currency, clothing and shoe sizes, and dates in German and English
notation. Plain regular expressions: they are fast, explainable, and a shop can
add its own order-number patterns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from classifiers.base import Entity

_DE_MONTHS = {
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "maerz": 3, "april": 4, "mai": 5,
    "juni": 6, "juli": 7, "august": 8, "september": 9, "oktober": 10, "november": 11,
    "dezember": 12,
}  # fmt: skip
_EN_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTHS = {**_DE_MONTHS, **_EN_MONTHS}

#: Default order-number patterns; group "number" is the value. A shop adds its own.
DEFAULT_ORDER_PATTERNS: tuple[str, ...] = (
    r"(?:bestell(?:ung|nummer|nr\.?)|auftrag(?:snummer|snr\.?)?|order(?:\s*(?:no\.?|number|nr\.?|#))?"
    r"|ordernummer)\s*[:#]?\s*(?:nr\.?\s*)?#?\s*(?P<number>\d[\d-]{3,15}\d)",
    r"(?<![\w#])#\s?(?P<number>\d{4,12})\b",
)
_INVOICE = re.compile(
    r"(?:rechnung(?:snummer|snr\.?)?|invoice(?:\s*(?:no\.?|number|#))?|re-?nr\.?)\s*[:#]?\s*"
    r"(?P<number>[A-Z]{0,4}-?\d[\d-]{3,15}\d)",
    re.IGNORECASE,
)
#: Carriers' tracking number formats, most specific first.
_TRACKING = (
    ("ups", re.compile(r"\b(?P<number>1Z[0-9A-Z]{16})\b")),
    ("dhl", re.compile(r"\b(?P<number>00\d{18}|JJD\d{15,20}|[A-Z]{2}\d{9}DE)\b")),
    ("hermes", re.compile(r"\b(?P<number>H\d{19}|\d{14}(?=\D*hermes))", re.IGNORECASE)),
    ("gls", re.compile(r"(?:gls\D{0,20})(?P<number>\d{11,12})\b", re.IGNORECASE)),
    ("dpd", re.compile(r"(?:dpd\D{0,20})(?P<number>\d{14})\b", re.IGNORECASE)),
    ("dhl", re.compile(r"(?:dhl\D{0,20})(?P<number>\d{12,20})\b", re.IGNORECASE)),
)
_CURRENCY = {"€": "EUR", "eur": "EUR", "euro": "EUR", "$": "USD", "usd": "USD",
             "£": "GBP", "gbp": "GBP", "chf": "CHF", "fr.": "CHF"}  # fmt: skip
_NUMBER = r"\d{1,3}(?:[.,' ]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_AMOUNT = re.compile(
    rf"(?P<pre>€|\$|£|eur\b|chf\b|usd\b|gbp\b)\s?(?P<a>{_NUMBER})"
    rf"|(?P<b>{_NUMBER})\s?(?P<post>€|euro\b|eur\b|chf\b|fr\.|\$|£|usd\b|gbp\b)",
    re.IGNORECASE,
)
_SIZE = re.compile(
    r"(?:(?P<system>EU|UK|US)\s?(?P<n>\d{1,2}(?:[.,]5)?)\b)"
    r"|(?:(?:gr(?:ö|oe)(?:ss|ß)e|gr\.|size)\s?(?P<any>\d{1,2}(?:[.,]5)?|XXS|XS|S|M|L|XL|XXL|XXXL)\b)"
    r"|(?<![\w-])(?P<letter>XXS|XS|XXL|XXXL|XL)(?![\w-])",
    re.IGNORECASE,
)
_DATE_NUMERIC = re.compile(r"\b(?P<d>\d{1,2})\.\s?(?P<m>\d{1,2})\.(?:\s?(?P<y>\d{4}|\d{2})\b)?")
_DATE_ISO = re.compile(r"\b(?P<y>20\d{2})-(?P<m>\d{2})-(?P<d>\d{2})\b")
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_DAY_MONTH = re.compile(
    rf"\b(?P<d>\d{{1,2}})(?:\.|st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH_NAMES})\.?"
    rf"(?:\s+(?P<y>\d{{4}}))?\b",
    re.IGNORECASE,
)
_DATE_MONTH_DAY = re.compile(
    rf"\b(?P<month>{_MONTH_NAMES})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{{4}}))?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class EntityExtractor:
    """Finds entities; `order_patterns` replace the defaults for a shop's own numbering."""

    order_patterns: Sequence[str] = DEFAULT_ORDER_PATTERNS

    def __post_init__(self) -> None:
        compiled = tuple(re.compile(p, re.IGNORECASE) for p in self.order_patterns)
        for pattern in compiled:
            if "number" not in pattern.groupindex:
                raise ValueError(f"order pattern {pattern.pattern!r} needs a group named 'number'")
        object.__setattr__(self, "_orders", compiled)

    def extract(self, text: str) -> tuple[Entity, ...]:
        """Every entity in `text`, in order of position, overlaps resolved (longest first)."""
        found = [
            *self._order_numbers(text),
            *_groups("invoice_number", _INVOICE, text),
            *_tracking_numbers(text),
            *_amounts(text),
            *_sizes(text),
            *_dates(text),
        ]
        return tuple(_without_overlaps(found))

    def _order_numbers(self, text: str) -> Iterable[Entity]:
        for pattern in self._orders:  # type: ignore[attr-defined]
            yield from _groups("order_number", pattern, text)


def _groups(kind: str, pattern: re.Pattern[str], text: str) -> Iterable[Entity]:
    for match in pattern.finditer(text):
        yield Entity(kind, match.group("number"), match.start("number"), match.end("number"))


def _tracking_numbers(text: str) -> Iterable[Entity]:
    for carrier, pattern in _TRACKING:
        for match in pattern.finditer(text):
            number = match.group("number")
            yield Entity("tracking_number", number, match.start("number"), match.end("number"),
                         label=carrier)  # fmt: skip


def _amounts(text: str) -> Iterable[Entity]:
    for match in _AMOUNT.finditer(text):
        number = match.group("a") or match.group("b")
        symbol = (match.group("pre") or match.group("post")).lower()
        value = _decimal(number)
        if value is None:
            continue
        currency = _CURRENCY[symbol]
        yield Entity("amount", f"{value} {currency}", match.start(), match.end(), label=currency)


def _decimal(number: str) -> str | None:
    """ "1.299,90" and "1,299.90" and "49,95" as "1299.90", "1299.90", "49.95"."""
    number = number.replace(" ", "").replace("'", "")
    last_sep = max(number.rfind(","), number.rfind("."))
    if last_sep != -1 and len(number) - last_sep - 1 in (1, 2):
        whole, cents = number[:last_sep], number[last_sep + 1 :]
    else:
        whole, cents = number, "00"
    whole = whole.replace(",", "").replace(".", "")
    if not whole.isdigit():
        return None
    return f"{int(whole)}.{cents.ljust(2, '0')}"


def _sizes(text: str) -> Iterable[Entity]:
    for match in _SIZE.finditer(text):
        if match.group("system"):
            value = f"{match.group('system').upper()} {match.group('n').replace(',', '.')}"
        else:
            raw = match.group("any") or match.group("letter")
            value = raw.upper().replace(",", ".")
        yield Entity("size", value, match.start(), match.end())


def _dates(text: str) -> Iterable[Entity]:
    for match in _DATE_ISO.finditer(text):
        yield from _date(match, int(match.group("m")))
    for match in _DATE_NUMERIC.finditer(text):
        yield from _date(match, int(match.group("m")))
    for pattern in (_DATE_DAY_MONTH, _DATE_MONTH_DAY):
        for match in pattern.finditer(text):
            yield from _date(match, _MONTHS[match.group("month").lower().rstrip(".")])


def _date(match: re.Match[str], month: int) -> Iterable[Entity]:
    """A date as ISO text; without a year, as "--MM-DD" (the year is the reader's guess)."""
    year = match.group("y")
    day = int(match.group("d"))
    if year and len(year) == 2:
        year = "20" + year
    try:
        date(int(year) if year else 2000, month, day)  # 2000 is a leap year: 29 Feb passes
    except ValueError:
        return
    value = f"{year}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"
    yield Entity("date", value, match.start(), match.end())


def _without_overlaps(found: list[Entity]) -> list[Entity]:
    """Keep the longest of overlapping entities; a tracking number beats an order number."""
    priority = {"tracking_number": 0, "invoice_number": 1, "order_number": 2}
    chosen: list[Entity] = []
    ordered = sorted(found, key=lambda e: (-(e.end - e.start), priority.get(e.kind, 3), e.start))
    for entity in ordered:
        if all(entity.end <= c.start or entity.start >= c.end for c in chosen):
            chosen.append(entity)
    return sorted(chosen, key=lambda e: e.start)


DEFAULT_EXTRACTOR = EntityExtractor()


def extract_entities(text: str) -> tuple[Entity, ...]:
    """Entities in `text` with the default patterns."""
    return DEFAULT_EXTRACTOR.extract(text)
