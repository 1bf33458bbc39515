"""What a classifier promises the ingest path, whichever model stands behind it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

#: Intent slugs, multi-label: one message may carry several.
INTENTS: tuple[str, ...] = (
    "return_request",
    "return_status",
    "refund_status",
    "exchange_request",
    "payment_reminder",
    "order_status",
    "order_change_cancel",
    "damaged_or_wrong",
    "shipping_policy",
    "product_question",
    "other",
)


def specific_first(intents: tuple[str, ...]) -> tuple[str, ...]:
    """`intents` without "other" when a specific intent is there: "other" means none of them."""
    return tuple(i for i in intents if i != "other") or intents


@dataclass(frozen=True, slots=True)
class Entity:
    """Something found in the text, with its position: an order number, a size, an amount."""

    kind: str
    value: str
    start: int
    end: int
    label: str | None = None  # e.g. the carrier of a tracking number, an amount's currency


@dataclass(frozen=True, slots=True)
class Classification:
    """The classifier's verdict. `intents` holds those its decision rule chose (above their
    thresholds, as a rule); `scores` may hold more. No intent means the model was unsure,
    not "other"."""

    intents: tuple[str, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)
    language: str | None = None
    entities: tuple[Entity, ...] = ()
    model_version: str | None = None


class Classifier(Protocol):
    def classify(self, text: str, *, subject: str = "") -> Classification: ...


class NullClassifier:
    """Stands in until a trained model is installed: it knows nothing and says so."""

    def classify(self, text: str, *, subject: str = "") -> Classification:
        return Classification()
