"""Character n-grams of the words of a text, as scikit-learn's `char_wb` analyzer makes them,
but each distinct word is cut into n-grams once and remembered.

Customer messages repeat the same few thousand words ("Bestellung", "order", "bitte"), and
cutting words into 2- to 5-grams in Python is most of the time a prediction takes. The
n-grams are exactly those of `TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5))`
(a test holds them equal), so the model is the same, only faster.
"""

from __future__ import annotations

from functools import lru_cache

SHORTEST, LONGEST = 2, 5


def char_grams(text: str) -> list[str]:
    """The 2- to 5-grams of each lower-cased word, padded with a space on both sides."""
    grams: list[str] = []
    for word in text.lower().split():
        grams.extend(_word_grams(word))
    return grams


# 20,000 words cover nearly all of what customers write and stay below 25 MB.
@lru_cache(maxsize=20_000)
def _word_grams(word: str) -> tuple[str, ...]:
    padded = f" {word} "
    length = len(padded)
    grams: list[str] = []
    for n in range(SHORTEST, min(LONGEST, length) + 1):
        grams.extend(padded[start : start + n] for start in range(length - n + 1))
    return tuple(grams)
