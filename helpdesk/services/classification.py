"""Which classifier the ingest path asks: the current trained model, or none yet."""

from __future__ import annotations

import logging

from flask import current_app

from classifiers.base import Classifier, NullClassifier

log = logging.getLogger(__name__)


def current_classifier() -> Classifier:
    """The current model version (loaded once per process), or the NullClassifier when the
    app is told to run without one (`HELPDESK_CLASSIFIER=none`) or no model is trained."""
    if current_app.config["CLASSIFIER"] == "none":
        return NullClassifier()
    from classifiers.predict import IntentClassifier
    from classifiers.store import ModelFileError, current_version

    # A retrain in the worker promotes a new version; every process follows it here.
    wanted = current_version()
    cached = current_app.extensions.get("classifier")
    if cached is not None and getattr(cached, "card", None) and cached.card.version == wanted:
        return cached
    if cached is not None and wanted is None:
        return cached
    try:
        cached = IntentClassifier.load(wanted)
    except ModelFileError as error:
        log.warning("messages are not classified: %s", error)
        cached = NullClassifier()
    current_app.extensions["classifier"] = cached
    return cached
