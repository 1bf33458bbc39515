"""The training corpus: readable JSONL in `classifiers/data/corpus/`, with a fixed test split.

Each line is one customer message: {"id", "text", "intents", "language", "channel"}.
Which split a message belongs to follows from a hash of its id, so the test
split never changes as the corpus grows and is never seen in training or tuning.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from classifiers.base import INTENTS

CORPUS_DIR = Path(__file__).resolve().parent / "data" / "corpus"
LANGUAGES = ("de", "en")
CHANNELS = ("email", "chat", "social", "phone")
#: Shares of the corpus, by hash of the id: test 20 %, validation (threshold tuning) 15 %.
_TEST_SHARE, _VALIDATION_SHARE = 20, 15


class CorpusError(ValueError):
    """A corpus line that cannot be used; the message names file and line."""


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    text: str
    intents: tuple[str, ...]
    language: str
    channel: str

    @property
    def split(self) -> str:
        """ "test", "validation" or "train", fixed by the id."""
        bucket = int(hashlib.sha256(self.id.encode()).hexdigest()[:8], 16) % 100
        if bucket < _TEST_SHARE:
            return "test"
        if bucket < _TEST_SHARE + _VALIDATION_SHARE:
            return "validation"
        return "train"


def load_corpus(directory: Path = CORPUS_DIR) -> list[Example]:
    """Every example in the directory's `*.jsonl` files, checked; raises `CorpusError`."""
    examples: list[Example] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            example = _example(line, f"{path.name}:{number}")
            if example.id in seen:
                raise CorpusError(f"{path.name}:{number}: id {example.id!r} is used twice")
            seen.add(example.id)
            examples.append(example)
    return examples


def _example(line: str, where: str) -> Example:
    try:
        data = json.loads(line)
        example = Example(
            id=str(data["id"]),
            text=str(data["text"]),
            intents=tuple(data["intents"]),
            language=data["language"],
            channel=data.get("channel", "email"),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise CorpusError(f"{where}: not a corpus line ({error})") from None
    unknown = set(example.intents) - set(INTENTS)
    if unknown or not example.intents:
        raise CorpusError(f"{where}: intents must be from {', '.join(INTENTS)}; got {unknown}")
    if example.language not in LANGUAGES or example.channel not in CHANNELS:
        raise CorpusError(f"{where}: language {example.language!r} or channel unknown")
    if "other" in example.intents and len(example.intents) > 1:
        raise CorpusError(f"{where}: 'other' means no specific intent; it stands alone")
    return example


def split(examples: Iterable[Example], name: str) -> list[Example]:
    return [e for e in examples if e.split == name]


def label_matrix(examples: Sequence[Example]) -> list[list[int]]:
    """One row per example, one column per intent in `INTENTS` order: 1 if it carries it."""
    return [[int(intent in e.intents) for intent in INTENTS] for e in examples]
