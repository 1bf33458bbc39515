"""Character n-grams of the words of a text, as scikit-learn's `char_wb` analyzer makes them,
but each distinct word is cut into n-grams once and remembered.

Customer messages repeat the same few thousand words ("Bestellung", "order", "bitte"), and
cutting words into 2- to 5-grams in Python is most of the time a prediction takes. The
n-grams are exactly those of `TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5))`
(a test holds them equal), so the model is the same, only faster.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import sparse

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


class CharGramTfidf:
    """The `transform` of a fitted TfidfVectorizer built on `char_grams` (sublinear tf, idf,
    l2 norm), with each distinct word's vocabulary columns looked up once and remembered.

    scikit-learn counts n-grams one by one in Python; here a word costs one dictionary
    look-up after its first appearance. The numbers equal the vectorizer's (a test holds
    them equal); `usable` says whether a vectorizer has the settings this assumes.
    """

    #: Words remembered; about 1 KB each.
    WORDS = 50_000

    def __init__(self, vectorizer) -> None:
        self.vocabulary = vectorizer.vocabulary_
        self.idf = vectorizer.idf_
        self.width = len(self.idf)
        self._columns: dict[str, np.ndarray] = {}

    @staticmethod
    def usable(vectorizer) -> bool:
        return (
            vectorizer.analyzer is char_grams
            and vectorizer.sublinear_tf
            and vectorizer.use_idf
            and vectorizer.norm == "l2"
            and not vectorizer.binary
        )

    def transform(self, texts) -> sparse.csr_matrix:
        indptr, indices, data = [0], [], []
        for text in texts:
            words = text.lower().split()
            if words:
                columns = np.concatenate([self._word_columns(word) for word in words])
                unique, counts = np.unique(columns, return_counts=True)
                values = (1.0 + np.log(counts)) * self.idf[unique]
                norm = np.sqrt(np.dot(values, values))
                if norm:
                    values /= norm
                indices.append(unique)
                data.append(values)
                indptr.append(indptr[-1] + len(unique))
            else:
                indptr.append(indptr[-1])
        return sparse.csr_matrix(
            (
                np.concatenate(data) if data else np.empty(0),
                np.concatenate(indices) if indices else np.empty(0, dtype=np.int64),
                np.array(indptr),
            ),
            shape=(len(indptr) - 1, self.width),
        )

    def _word_columns(self, word: str) -> np.ndarray:
        columns = self._columns.get(word)
        if columns is None:
            vocabulary = self.vocabulary
            columns = np.array(
                [vocabulary[g] for g in _word_grams(word) if g in vocabulary], dtype=np.int64
            )
            if len(self._columns) < self.WORDS:
                self._columns[word] = columns
        return columns
