"""Scheduled retraining: corpus plus agents' corrections make the next model version,
which becomes current only if it is not worse on the fixed test split."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app

from classifiers import store
from classifiers.corpus import Example
from classifiers.train import train
from helpdesk.extensions import db
from helpdesk.services.intent_feedback import FEEDBACK_WEIGHT, feedback_examples

log = logging.getLogger(__name__)


def retrain(
    feedback: list[Example],
    *,
    only_with_new_feedback: bool = False,
    progress: Callable[[str], None] = log.info,
) -> store.ModelCard | None:
    """Train a new version with `feedback` (see `feedback_examples`); return its card, or
    None when `only_with_new_feedback` and the current model has seen these corrections."""
    corrections = len(feedback) // FEEDBACK_WEIGHT
    current = store.current_version()
    previous = store.read_card(current) if current else None
    if (
        only_with_new_feedback
        and previous
        and previous.evaluation.get("feedback", 0) == corrections
    ):
        return None
    result = train(extra_training=feedback, progress=progress)
    card = store.save(
        result.model,
        {"test": result.test.as_dict(), "validation": result.validation, "feedback": corrections},
    )
    previous_f1 = previous.evaluation["test"]["macro_f1"] if previous else -1.0
    if result.test.macro_f1 >= previous_f1:
        store.promote(card.version)
        progress(f"model {card.version} with {corrections} corrections is now current")
    else:
        progress(
            f"model {card.version} kept aside: test macro F1 {result.test.macro_f1:.3f} "
            f"< {previous_f1:.3f} of {current}"
        )
    return card


def retrain_job() -> None:
    """The worker's scheduled retrain, when agents corrected something since the last one."""
    if current_app.config["CLASSIFIER"] == "none":
        return
    feedback = feedback_examples()
    db.session.rollback()  # training takes seconds: no transaction (nor SQLite lock) meanwhile
    retrain(feedback, only_with_new_feedback=True)
