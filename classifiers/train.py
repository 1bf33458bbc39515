"""Training by measurement: every candidate is fitted on the train split, tuned and compared on
the validation split; the winner is then fitted again on train and validation together, with
thresholds from cross-validation over both, and judged once on the fixed test split."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from classifiers.corpus import Example, label_matrix, load_corpus, split
from classifiers.evaluate import Report, evaluate
from classifiers.model import CANDIDATES, IntentModel, cross_validated_thresholds, fit

#: Validation macro-F1 differences below this are noise between candidates.
TIE = 0.005


@dataclass
class TrainingResult:
    model: IntentModel
    validation: dict[str, float]  # candidate -> validation macro F1
    test: Report
    seconds: float
    examples: dict[str, int]

    @property
    def why(self) -> str:
        ranking = sorted(self.validation.items(), key=lambda item: -item[1])
        return ", ".join(f"{name} {f1:.3f}" for name, f1 in ranking) + " (validation macro F1)"


def predict_intents(model: IntentModel, texts: Sequence[str]) -> list[tuple[str, ...]]:
    return [model.intents(row) for row in model.scores(texts)]


def train(
    examples: Sequence[Example] | None = None,
    *,
    candidates: Sequence[str] = tuple(CANDIDATES),
    extra_training: Sequence[Example] = (),
    refit: bool = True,
    progress: Callable[[str], None] = lambda _line: None,
) -> TrainingResult:
    """Fit each candidate, keep the best on validation, report it on the test split.

    With `refit` the winner is fitted again on train and validation together, its
    thresholds taken from out-of-fold scores over both; the test split is never used.

    `extra_training` (agents' corrections) joins the training data only, never the
    validation or test split, so versions stay comparable.
    """
    started = time.perf_counter()
    examples = list(examples if examples is not None else load_corpus())
    training = [*split(examples, "train"), *extra_training]
    validation, test = split(examples, "validation"), split(examples, "test")
    progress(f"{len(training)} training, {len(validation)} validation, {len(test)} test examples")
    labels = np.array(label_matrix(training))
    validation_labels = np.array(label_matrix(validation))

    fitted: dict[str, IntentModel] = {}
    scores: dict[str, float] = {}
    for name in candidates:
        model = fit(name, [e.text for e in training], labels)
        model.tune_thresholds([e.text for e in validation], validation_labels)
        report = evaluate(validation, predict_intents(model, [e.text for e in validation]))
        fitted[name], scores[name] = model, report.macro_f1
        progress(f"{name}: validation macro F1 {report.macro_f1:.3f}")
    # Candidates are listed by preference (logistic regression first: native probabilities,
    # a third of the prediction time); a later one must be clearly better to win.
    best = max(scores.values())
    winner = next(name for name in candidates if scores[name] >= best - TIE)
    model = fitted[winner]
    if refit:
        # The choice is made; validation now serves as more training data (a quarter
        # more examples) and, through cross-validation, sets steadier thresholds.
        pooled = [*training, *validation]
        texts, pooled_labels = [e.text for e in pooled], np.array(label_matrix(pooled))
        thresholds = cross_validated_thresholds(winner, texts, pooled_labels)
        model = fit(winner, texts, pooled_labels)
        model.thresholds = thresholds
        progress(f"{winner}: refitted on {len(pooled)} train and validation examples")
    test_report = evaluate(test, predict_intents(model, [e.text for e in test]))
    progress(f"winner {winner}: test macro F1 {test_report.macro_f1:.3f}")
    return TrainingResult(
        model=model,
        validation=scores,
        test=test_report,
        seconds=time.perf_counter() - started,
        examples={"train": len(training), "validation": len(validation), "test": len(test)},
    )
