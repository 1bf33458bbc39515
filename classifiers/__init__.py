"""Understanding text: intents, entities and language. Knows nothing of Flask or helpdesk."""

from collections.abc import Sequence

from classifiers.base import INTENTS, Classification, Classifier, Entity, NullClassifier


def predict(texts: Sequence[str]) -> list[Classification]:
    """Intents with scores, language, entities and model version for each text."""
    # Imported here so that `classifiers.base` users do not load scikit-learn and Lingua.
    from classifiers.predict import predict as predict_with_current_model

    return predict_with_current_model(texts)


__all__ = ["INTENTS", "Classification", "Classifier", "Entity", "NullClassifier", "predict"]
