"""Classifying messages with a trained model: intents with scores, language, entities."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from classifiers.base import INTENTS, Classification
from classifiers.entities import DEFAULT_EXTRACTOR, EntityExtractor
from classifiers.language import detect_language
from classifiers.model import IntentModel
from classifiers.store import ModelCard, load


class IntentClassifier:
    """A loaded model version, ready to answer; satisfies the `Classifier` protocol."""

    def __init__(
        self, model: IntentModel, card: ModelCard, extractor: EntityExtractor = DEFAULT_EXTRACTOR
    ) -> None:
        self.model = model
        self.card = card
        self.extractor = extractor

    @classmethod
    def load(cls, version: str | None = None) -> IntentClassifier:
        return cls(*load(version))

    def classify(self, text: str, *, subject: str = "") -> Classification:
        return self.classify_many([text], subjects=[subject])[0]

    def classify_many(
        self, texts: Sequence[str], *, subjects: Sequence[str] | None = None
    ) -> list[Classification]:
        """Intents from subject and text together; language and entities from the text."""
        subjects = subjects or [""] * len(texts)
        joined = [f"{s}\n{t}" if s else t for s, t in zip(subjects, texts, strict=True)]
        results = []
        for text, row in zip(texts, self.model.scores(joined), strict=True):
            results.append(
                Classification(
                    intents=self.model.intents(row),
                    scores={i: round(float(s), 4) for i, s in zip(INTENTS, row, strict=True)},
                    language=detect_language(text),
                    entities=self.extractor.extract(text),
                    model_version=self.card.version,
                )
            )
        return results


@cache
def _current() -> IntentClassifier:
    return IntentClassifier.load()


def predict(texts: Sequence[str]) -> list[Classification]:
    """Classify `texts` with the current model version (loaded once per process)."""
    return _current().classify_many(texts)
