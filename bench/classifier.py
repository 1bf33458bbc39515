"""The intent classifier: training time, model size, memory, throughput, latency and F1.

Trains every candidate on the corpus (classifiers/data/corpus), keeps the best
on the validation split and evaluates it on the fixed test split, as
`helpdesk classifier train` does, but into a temporary folder below
classifiers/models so the project's current model is left alone. Then it
measures, for the winner: the model file's size, the memory a fresh process
gains by loading it, batch throughput over the test texts (repeated), and the
latency of one message at a time (p50/p95), intents only and with language and
entities as the helpdesk asks for them; and how often the language detector
agrees with the corpus's language labels.

    .venv/bin/python bench/classifier.py
    .venv/bin/python bench/classifier.py --validation

The last line of output is one JSON object with the figures. `--validation` measures only
what changes to the model are judged by, without the test split: logistic regression fitted
on the train split, thresholds from 5-fold out-of-fold scores over it, macro F1 per language
on the validation split.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
import uuid
import warnings

import numpy as np

from classifiers import store
from classifiers.corpus import label_matrix, load_corpus, split
from classifiers.evaluate import evaluate
from classifiers.language import detect_language
from classifiers.model import cross_validated_thresholds, fit
from classifiers.predict import IntentClassifier
from classifiers.train import predict_intents, train

#: Memory of a new process before and after loading the model, measured in that process.
_LOAD_PROBE = """
import sys
from pathlib import Path
import psutil
from classifiers import store
process = psutil.Process()
before = process.memory_info().rss
model, card = store.load(directory=Path(sys.argv[1]))
model.scores(["warm up"])
print((process.memory_info().rss - before) / 1e6)
"""


def main() -> int:
    warnings.filterwarnings("ignore", category=UserWarning)
    if "--validation" in sys.argv[1:]:
        print(json.dumps({"bench": "classifier-validation", **validation()}))
        return 0
    directory = store.MODELS_DIR / f"bench-{uuid.uuid4().hex[:8]}"
    try:
        figures = run(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps({"bench": "classifier", **figures}))
    return 0


def run(directory) -> dict[str, object]:
    examples = load_corpus()
    print(f"corpus: {len(examples)} examples", file=sys.stderr)
    result = train(examples, progress=lambda line: print(line, file=sys.stderr))
    card = store.save(result.model, {"test": result.test.as_dict()}, directory)
    store.promote(card.version, directory)
    size_mb = (directory / f"intents-{card.version}.joblib").stat().st_size / 1e6
    memory_mb = float(
        subprocess.run(
            [sys.executable, "-c", _LOAD_PROBE, str(directory)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    classifier = IntentClassifier(*store.load(directory=directory))
    texts = [e.text for e in split(examples, "test")]
    batch = texts * max(1, 20_000 // len(texts))
    started = time.perf_counter()
    classifier.model.scores(batch)
    batch_per_s = len(batch) / (time.perf_counter() - started)
    single = _latencies(lambda text: classifier.model.scores([text]), texts)
    full = _latencies(classifier.classify, texts)

    print(f"winner {result.model.name} ({result.why}), trained in {result.seconds:.1f} s")
    print(f"model {size_mb:.1f} MB on disk, {memory_mb:.0f} MB added when loaded")
    print(
        f"batch {batch_per_s:,.0f} messages/s; one message p95 {single[1]:.2f} ms "
        f"(with language and entities {full[1]:.2f} ms)"
    )
    for language, sub in result.test.by_language.items():
        print(f"test macro F1 [{language}] {sub.macro_f1:.3f}")
    language_accuracy = sum(detect_language(e.text) == e.language for e in examples) / len(examples)
    print(f"language detected right for {language_accuracy:.1%} of the corpus")
    return {
        "examples": len(examples),
        "winner": result.model.name,
        "validation_macro_f1": {k: round(v, 4) for k, v in result.validation.items()},
        "train_seconds": round(result.seconds, 1),
        "model_mb": round(size_mb, 1),
        "memory_mb": round(memory_mb, 1),
        "batch_msgs_per_s": round(batch_per_s),
        "single_p50_ms": round(single[0], 3),
        "single_p95_ms": round(single[1], 3),
        "classify_p95_ms": round(full[1], 3),
        "test_macro_f1": round(result.test.macro_f1, 4),
        "test_macro_f1_de": round(result.test.by_language["de"].macro_f1, 4),
        "test_macro_f1_en": round(result.test.by_language["en"].macro_f1, 4),
        "language_accuracy": round(language_accuracy, 4),
    }


def validation(name: str = "logistic_regression") -> dict[str, object]:
    """Macro F1 on the validation split of a model fitted on the train split alone, with
    thresholds from out-of-fold scores over the train split (as the refit sets them)."""
    examples = load_corpus()
    training, held_out = split(examples, "train"), split(examples, "validation")
    texts, labels = [e.text for e in training], np.array(label_matrix(training))
    started = time.process_time()
    model = fit(name, texts, labels)
    model.thresholds = cross_validated_thresholds(name, texts, labels)
    report = evaluate(held_out, predict_intents(model, [e.text for e in held_out]))
    return {
        "train": len(training),
        "validation": len(held_out),
        "cpu_seconds": round(time.process_time() - started, 1),
        "validation_macro_f1": round(report.macro_f1, 4),
        **{
            f"validation_macro_f1_{language}": round(sub.macro_f1, 4)
            for language, sub in report.by_language.items()
        },
    }


def _latencies(call, texts) -> tuple[float, float]:
    timings = []
    for text in texts:
        started = time.perf_counter()
        call(text)
        timings.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return cuts[49], cuts[94]


if __name__ == "__main__":
    sys.exit(main())
