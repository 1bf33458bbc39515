"""What the chatbot understands, as plain functions: no Flask, no database.

The FAQ is matched by TF-IDF over character n-grams within word boundaries (robust to
typos, inflection and German compounds: "Versandkosten" meets "Versand") and cosine
similarity against every phrasing of every entry. A match must be clearly good
(`threshold`) and clearly better than the best other topic (`margin`); otherwise the
bot is unsure and hands over to a person rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from classifiers.entities import extract_entities

#: Similarity a message needs to count as the question.
THRESHOLD = 0.42
#: ...and by how much it must beat the best phrasing of any other topic.
MARGIN = 0.06

_HUMAN = re.compile(
    r"\b(mitarbeiter\w*|menschen?|mensch|person|kundenberater\w*|berater\w*|"
    r"ansprechpartner\w*|jemand\w*|echte[nr]?|human|agent|someone|somebody|real person|"
    r"representative|operator|staff|support team)\b",
    re.IGNORECASE,
)
_ORDER_STATUS = re.compile(
    r"(wo\s+(ist|bleibt)\s+(meine|mein|die)\s+(bestellung|paket|lieferung|sendung)"
    r"|\b(status|stand)\s+(meiner|der)\s+(bestellung|lieferung)"
    r"|\bsendungsverfolgung|\bbestellstatus|\bpaket\s+(ist\s+)?(noch\s+)?nicht\s+angekommen"
    r"|where\s*('?s|is)\s+my\s+(order|parcel|package|delivery)"
    r"|\border\s+status|\btrack(ing)?\s+(my\s+)?(order|parcel|package)"
    r"|\b(order|parcel|package)\s+(has\s+)?(not|n't)\s+(arrived|come))",
    re.IGNORECASE,
)
#: Words of a complaint: however much the rest looks like an FAQ question, a person answers.
_PROBLEM = re.compile(
    r"\b(kaputt\w*|defekt\w*|besch(ä|ae)digt\w*|loch|l(ö|oe)cher|gerissen\w*|falsch\w*|"
    r"fehlt|fehlen\w*|reklamation\w*|beschwerde\w*|mahnung\w*|storn\w*|"
    r"broken|damaged?|defective|torn|ripped|hole|holes|wrong|missing|complaint|refund\w*|"
    r"reminder|cancel\w*|stain\w*|fleck\w*)\b",
    re.IGNORECASE,
)
#: Intents the bot never answers from the FAQ: they need the customer's own case.
PERSONAL_INTENTS = frozenset(
    {"damaged_or_wrong", "payment_reminder", "refund_status", "return_status",
     "exchange_request", "order_change_cancel"}
)  # fmt: skip
_EMAIL = re.compile(r"[^@\s<>\"',;:()]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")
_BARE_NUMBER = re.compile(r"(?<![\w-])#?(\d{4,12}(?:-\d{2,8})?)(?![\w-])")
_GERMAN = frozenset(
    [
        "ich",
        "du",
        "sie",
        "wir",
        "ist",
        "sind",
        "mein",
        "meine",
        "meinen",
        "was",
        "wie",
        "wo",
        "wann",
        "warum",
        "nicht",
        "und",
        "der",
        "die",
        "das",
        "den",
        "dem",
        "ein",
        "eine",
        "einen",
        "kann",
        "können",
        "bitte",
        "danke",
        "hallo",
        "versand",
        "bestellung",
        "kostet",
        "lieferung",
        "mit",
        "für",
        "auf",
        "noch",
        "schon",
    ]
)
_ENGLISH = frozenset(
    [
        "i",
        "you",
        "we",
        "is",
        "are",
        "my",
        "what",
        "how",
        "where",
        "when",
        "why",
        "not",
        "and",
        "the",
        "a",
        "an",
        "can",
        "could",
        "please",
        "thanks",
        "hello",
        "hi",
        "shipping",
        "order",
        "cost",
        "costs",
        "delivery",
        "with",
        "for",
        "on",
        "still",
        "already",
        "does",
        "do",
    ]
)


@dataclass(frozen=True)
class FaqText:
    """One entry as the matcher sees it: its id, topic, language and every phrasing."""

    entry_id: int
    topic: str
    language: str
    phrasings: tuple[str, ...]


@dataclass(frozen=True)
class FaqMatch:
    entry_id: int
    topic: str
    language: str
    score: float


class FaqMatcher:
    """Finds the FAQ entry a message asks, or None when no entry is clearly meant."""

    def __init__(
        self, entries: Iterable[FaqText], *, threshold: float = THRESHOLD, margin: float = MARGIN
    ) -> None:
        self.threshold = threshold
        self.margin = margin
        self._rows: list[FaqText] = []
        documents: list[str] = []
        for entry in entries:
            for phrasing in entry.phrasings:
                if phrasing.strip():
                    self._rows.append(entry)
                    documents.append(phrasing)
        self._vectorizer = None
        if documents:
            # Imported here: scikit-learn is a hundred megabytes and two seconds in every web
            # worker, and only the chatbot's first question needs it.
            from sklearn.feature_extraction.text import TfidfVectorizer

            self._vectorizer = TfidfVectorizer(
                analyzer="char_wb", ngram_range=(3, 5), lowercase=True, sublinear_tf=True
            )
            self._matrix = self._vectorizer.fit_transform(documents)

    def match(self, text: str, *, language: str | None = None) -> FaqMatch | None:
        """The entry `text` asks for. With `language`, a tie between the same topic in two
        languages goes to that language."""
        if self._vectorizer is None or not text.strip():
            return None
        from sklearn.metrics.pairwise import cosine_similarity  # loaded with the vectorizer

        scores = cosine_similarity(self._vectorizer.transform([text]), self._matrix)[0]
        best: dict[tuple[str, str], tuple[float, FaqText]] = {}
        for row, score in zip(self._rows, scores, strict=True):
            key = (row.topic, row.language)
            if key not in best or score > best[key][0]:
                best[key] = (float(score), row)
        ranked = sorted(
            best.values(),
            key=lambda pair: (pair[0], pair[1].language == language),
            reverse=True,
        )
        score, entry = ranked[0]
        rival = next((s for s, e in ranked[1:] if e.topic != entry.topic), 0.0)
        if score < self.threshold or score - rival < self.margin:
            return None
        return FaqMatch(entry.entry_id, entry.topic, entry.language, round(score, 3))


_GREETING = re.compile(
    r"^\W*(hallo|hello|hi|hey|moin|servus|guten\s+(tag|morgen|abend)|good\s+(morning|afternoon|"
    r"evening)|grüß\s+gott|gruezi|grüezi)(\s+(zusammen|there|you|ihr))?\W*$",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"^\W*((vielen\s+)?dank(e)?(\s+schön|\s+sehr)?|thanks?(\s+you)?(\s+(so\s+)?much)?|"
    r"thx|super|perfekt|perfect|great|ok(ay)?)([\s,!.]+(das\s+war'?s|that'?s\s+all|bye|tschüss|"
    r"ciao))?\W*$",
    re.IGNORECASE,
)


def small_talk(text: str) -> str | None:
    """ "greeting" or "thanks" when that is all the message says, else None."""
    if _GREETING.match(text):
        return "greeting"
    if _THANKS.match(text):
        return "thanks"
    return None


def wants_person(text: str) -> bool:
    """The customer asks for a person ("Mitarbeiter", "human", "agent")."""
    return bool(_HUMAN.search(text))


def needs_person(text: str, intents: Iterable[str] = ()) -> bool:
    """A complaint or a question about the customer's own case: not for the FAQ."""
    return bool(PERSONAL_INTENTS & set(intents)) or bool(_PROBLEM.search(text))


def asks_order_status(text: str, intents: Iterable[str] = ()) -> bool:
    """ "Where is my order?": the classifier's order_status intent or the usual phrasings."""
    return "order_status" in set(intents) or bool(_ORDER_STATUS.search(text))


def find_email(text: str) -> str | None:
    match = _EMAIL.search(text)
    return match.group(0).strip(".") if match else None


def find_order_number(text: str) -> str | None:
    """The order number in `text`: the classifier's entity rules first (they know "Best.-Nr."
    and the shop's prefixes), else a bare number of at least four digits, the usual
    answer to "What is your order number?"."""
    for entity in extract_entities(text):
        if entity.kind == "order_number":
            return entity.value.lstrip("#")
    without_email = _EMAIL.sub(" ", text)
    match = _BARE_NUMBER.search(without_email)
    return match.group(1) if match else None


def guess_language(text: str, default: str) -> str:
    """ "de" or "en" by common words; `default` when the text does not say."""
    words = re.findall(r"[a-zäöüß]+", text.lower())
    german = sum(w in _GERMAN for w in words) + sum(ch in "äöüß" for ch in text.lower())
    english = sum(w in _ENGLISH for w in words)
    if german > english:
        return "de"
    if english > german:
        return "en"
    return default
