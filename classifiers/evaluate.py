"""How good a model is: per intent precision, recall and F1, micro and macro, per language,
and which intents it confuses (predicted B where the truth was A)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from classifiers.base import INTENTS
from classifiers.corpus import Example


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    per_intent: dict[str, Scores]
    micro: Scores
    macro_f1: float
    by_language: dict[str, Report] = field(default_factory=dict)
    confusions: list[tuple[str, str, int]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "macro_f1": round(self.macro_f1, 4),
            "micro": _round(self.micro),
            "per_intent": {intent: _round(s) for intent, s in self.per_intent.items()},
            "by_language": {lang: r.as_dict() for lang, r in self.by_language.items()},
            "confusions": [{"truth": a, "predicted": b, "count": n} for a, b, n in self.confusions],
        }


def _round(scores: Scores) -> dict:
    return {
        "precision": round(scores.precision, 4),
        "recall": round(scores.recall, 4),
        "f1": round(scores.f1, 4),
        "support": scores.support,
    }


def evaluate(
    examples: Sequence[Example], predicted: Sequence[tuple[str, ...]], *, by_language: bool = True
) -> Report:
    """Compare predictions with the corpus labels."""
    counts = {intent: Counter() for intent in INTENTS}
    confusions: Counter = Counter()
    for example, guess in zip(examples, predicted, strict=True):
        truth, guess_set = set(example.intents), set(guess)
        for intent in INTENTS:
            key = (
                ("tp" if intent in guess_set else "fn")
                if intent in truth
                else ("fp" if intent in guess_set else "tn")
            )
            counts[intent][key] += 1
        for missed in truth - guess_set:
            for wrong in guess_set - truth:
                confusions[(missed, wrong)] += 1
    per_intent = {intent: _scores(c) for intent, c in counts.items() if _support(c)}
    total = sum((c for c in counts.values()), Counter())
    report = Report(
        per_intent=per_intent,
        micro=_scores(total),
        macro_f1=sum(s.f1 for s in per_intent.values()) / max(1, len(per_intent)),
        confusions=[(a, b, n) for (a, b), n in confusions.most_common(15)],
    )
    if by_language:
        for language in sorted({e.language for e in examples}):
            pairs = [
                (e, p) for e, p in zip(examples, predicted, strict=True) if e.language == language
            ]
            report.by_language[language] = evaluate(
                [e for e, _ in pairs], [p for _, p in pairs], by_language=False
            )
    return report


def _support(counts: Counter) -> int:
    return counts["tp"] + counts["fn"]


def _scores(counts: Counter) -> Scores:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, tp + fn)


def format_report(report: Report) -> str:
    """The report as a table people read in a terminal."""
    lines = [f"{'intent':<22}{'precision':>10}{'recall':>8}{'F1':>8}{'support':>9}"]
    for intent, s in report.per_intent.items():
        lines.append(f"{intent:<22}{s.precision:>10.3f}{s.recall:>8.3f}{s.f1:>8.3f}{s.support:>9}")
    m = report.micro
    lines.append(
        f"{'micro average':<22}{m.precision:>10.3f}{m.recall:>8.3f}{m.f1:>8.3f}{m.support:>9}"
    )
    lines.append(f"{'macro F1':<22}{report.macro_f1:>26.3f}")
    for language, sub in report.by_language.items():
        lines.append(f"macro F1 [{language}]: {sub.macro_f1:.3f}, micro F1: {sub.micro.f1:.3f}")
    if report.confusions:
        lines.append("most confused (truth -> predicted instead):")
        lines.extend(f"  {a} -> {b}: {n}" for a, b, n in report.confusions)
    return "\n".join(lines)
