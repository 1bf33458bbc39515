"""Model files: written with their version and library versions, read back only from our folder.

A model is a joblib file with a JSON card beside it. The card records the
model's version, when and with which library versions it was trained, its
thresholds, its evaluation and the file's sha256; loading refuses a file
outside `MODELS_DIR`, one whose hash does not match its card (joblib files can
run code when loaded), and one trained with another scikit-learn version.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy
import sklearn

from classifiers.model import IntentModel

MODELS_DIR = Path(__file__).resolve().parent / "models"
CURRENT = "CURRENT"
#: Names a folder below MODELS_DIR to use instead of MODELS_DIR itself (tests, experiments).
MODEL_SET_VARIABLE = "HELPDESK_MODEL_SET"


class ModelFileError(RuntimeError):
    """A model file that must not or cannot be loaded; the message says what to do."""


def models_dir(directory: Path | None = None) -> Path:
    """The folder models are read from and written to; always inside MODELS_DIR."""
    if directory is None:
        directory = MODELS_DIR / os.environ.get(MODEL_SET_VARIABLE, "")
    directory = directory.resolve()
    if not directory.is_relative_to(MODELS_DIR):
        raise ModelFileError(f"models live only in {MODELS_DIR}, not in {directory}")
    return directory


@dataclass(frozen=True)
class ModelCard:
    version: str
    candidate: str
    created_at: str
    sha256: str
    libraries: dict[str, str]
    thresholds: dict[str, float]
    evaluation: dict[str, Any]


def library_versions() -> dict[str, str]:
    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "numpy": numpy.__version__, "joblib": joblib.__version__}  # fmt: skip


def save(
    model: IntentModel, evaluation: dict[str, Any], directory: Path | None = None
) -> ModelCard:
    """Write the model as the next version and return its card (not yet the current one)."""
    directory = models_dir(directory)
    directory.mkdir(parents=True, exist_ok=True)
    version = _next_version(directory)
    path = directory / f"intents-{version}.joblib"
    joblib.dump(model, path, compress=3)
    card = ModelCard(
        version=version,
        candidate=model.name,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        sha256=_sha256(path),
        libraries=library_versions(),
        thresholds=dict(model.thresholds),
        evaluation=evaluation,
    )
    (directory / f"intents-{version}.json").write_text(json.dumps(card.__dict__, indent=2))
    return card


def promote(version: str, directory: Path | None = None) -> None:
    """Make `version` the one the application uses (also how an admin rolls back)."""
    directory = models_dir(directory)
    read_card(version, directory)
    (directory / CURRENT).write_text(version + "\n")


def current_version(directory: Path | None = None) -> str | None:
    directory = models_dir(directory)
    pointer = directory / CURRENT
    return pointer.read_text().strip() if pointer.exists() else None


def versions(directory: Path | None = None) -> list[ModelCard]:
    directory = models_dir(directory)
    return [read_card(p.stem.removeprefix("intents-"), directory)
            for p in sorted(directory.glob("intents-*.json"))]  # fmt: skip


def read_card(version: str, directory: Path | None = None) -> ModelCard:
    directory = models_dir(directory)
    path = directory / f"intents-{version}.json"
    if not path.exists():
        raise ModelFileError(f"no model version {version}; `helpdesk classifier train` makes one")
    return ModelCard(**json.loads(path.read_text()))


def load(
    version: str | None = None, directory: Path | None = None
) -> tuple[IntentModel, ModelCard]:
    """The model `version` (default: the current one), after checking where, hash and versions."""
    directory = models_dir(directory)
    version = version or current_version(directory)
    if version is None:
        raise ModelFileError("no model yet; run `helpdesk classifier train`")
    card = read_card(version, directory)
    path = directory / f"intents-{version}.joblib"
    if _sha256(path) != card.sha256:
        raise ModelFileError(f"{path.name} does not match its card (sha256); train it again")
    if card.libraries.get("scikit-learn") != sklearn.__version__:
        raise ModelFileError(
            f"model {version} was trained with scikit-learn {card.libraries.get('scikit-learn')}, "
            f"this is {sklearn.__version__}; run `helpdesk classifier train`"
        )
    return joblib.load(path), card


def _next_version(directory: Path) -> str:
    numbers = [int(p.stem.split("-")[1]) for p in directory.glob("intents-*.json")
               if p.stem.split("-")[1].isdigit()]  # fmt: skip
    return f"{max(numbers, default=0) + 1:04d}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
