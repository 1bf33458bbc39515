"""Understanding text: intents, entities and language. Knows nothing of Flask or helpdesk."""

from classifiers.base import INTENTS, Classification, Classifier, Entity, NullClassifier

__all__ = ["INTENTS", "Classification", "Classifier", "Entity", "NullClassifier"]
