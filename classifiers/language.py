"""Which language a customer wrote in: "de", "en" or "other".

Lingua (a well-kept, offline detector with bundled models) in its low-accuracy
mode: trigram models only, about 30 MB in memory and well under a millisecond
per message. The shop's customers write German or English nearly always, so a
close call between, say, Dutch and German goes to German.
"""

from __future__ import annotations

import re
from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

#: Languages told apart; anything but German and English is reported as "other".
_CANDIDATES = (
    Language.GERMAN,
    Language.ENGLISH,
    Language.FRENCH,
    Language.ITALIAN,
    Language.SPANISH,
    Language.DUTCH,
    Language.POLISH,
    Language.TURKISH,
)
_OURS = {Language.GERMAN: "de", Language.ENGLISH: "en"}
#: A shop language wins when its confidence is at least this share of the leader's.
_SHOP_PRIOR = 0.5
_NOISE = re.compile(r"https?://\S+|\S+@\S+|[#\d][\d\-./:,]*|[^\w\s]", re.UNICODE)


@cache
def _detector() -> LanguageDetector:
    return (
        LanguageDetectorBuilder.from_languages(*_CANDIDATES)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )


def detect_language(text: str) -> str | None:
    """ "de", "en" or "other"; None when there are too few words to tell."""
    words = _NOISE.sub(" ", text).split()
    if sum(len(w) for w in words) < 4:
        return None
    confidences = _detector().compute_language_confidence_values(" ".join(words))
    if not confidences:
        return None
    leader = confidences[0]
    if leader.language in _OURS:
        return _OURS[leader.language]
    ours = [c for c in confidences if c.language in _OURS]
    if ours and ours[0].value >= _SHOP_PRIOR * leader.value:
        return _OURS[ours[0].language]
    return "other"
