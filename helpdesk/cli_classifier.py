"""`helpdesk classify` and `helpdesk classifier train|eval|versions|use`."""

from __future__ import annotations

import json
import sys

import click


def _classification_json(result) -> str:
    return json.dumps(
        {
            "intents": list(result.intents),
            "scores": dict(result.scores),
            "language": result.language,
            "entities": [
                {"kind": e.kind, "value": e.value, "start": e.start, "end": e.end}
                | ({"label": e.label} if e.label else {})
                for e in result.entities
            ],
            "model_version": result.model_version,
        },
        ensure_ascii=False,
    )


@click.command("classify")
@click.option("--jsonl", is_flag=True, help='input lines are JSON objects with a "text" field')
def classify(jsonl: bool) -> None:
    """Classify one message per stdin line; write one JSON object per line."""
    from classifiers.predict import IntentClassifier
    from classifiers.store import ModelFileError

    try:
        classifier = IntentClassifier.load()
    except ModelFileError as error:
        raise click.ClickException(str(error)) from None
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        text = line.rstrip("\n")
        if jsonl:
            try:
                text = json.loads(line)["text"]
            except (ValueError, KeyError, TypeError):
                raise click.ClickException(
                    f'line {number} is not a JSON object with a "text" field'
                ) from None
        click.echo(_classification_json(classifier.classify(text)))


@click.group("classifier", help="Train, evaluate and choose intent model versions.")
def classifier() -> None:
    pass


@classifier.command("train")
@click.option(
    "--promote/--no-promote",
    default=True,
    show_default=True,
    help="make the new version current if it is not worse than the current one",
)
@click.option("--if-missing", is_flag=True, help="do nothing when a current model exists")
def train(promote: bool, if_missing: bool) -> None:
    """Train candidates on the corpus, keep the best, evaluate it on the fixed test split."""
    from classifiers import store
    from classifiers.evaluate import format_report
    from classifiers.train import train as run_training

    if if_missing and store.current_version():
        click.echo(f"model {store.current_version()} is current; nothing to train")
        return

    result = run_training(progress=lambda line: click.echo(line, err=True))
    card = store.save(
        result.model,
        {
            "test": result.test.as_dict(),
            "validation": result.validation,
            "seconds": round(result.seconds, 1),
        },
    )
    click.echo(format_report(result.test))
    current = store.current_version()
    previous = store.read_card(current).evaluation["test"]["macro_f1"] if current else -1.0
    if promote and result.test.macro_f1 >= previous:
        store.promote(card.version)
        verdict = "now current"
    else:
        verdict = f"kept aside (current {current} has test macro F1 {previous:.3f})"
    click.echo(
        f"model {card.version} ({card.candidate}; {result.why}): test macro F1 "
        f"{result.test.macro_f1:.3f} in {result.seconds:.0f} s, {verdict}"
    )


@classifier.command("eval")
@click.option("--version", help="default: the current version")
@click.option("--json", "as_json", is_flag=True)
def evaluate_model(version: str | None, as_json: bool) -> None:
    """Evaluate a model version on the fixed test split."""
    from classifiers.corpus import load_corpus, split
    from classifiers.evaluate import evaluate, format_report
    from classifiers.store import ModelFileError, load
    from classifiers.train import predict_intents

    try:
        model, card = load(version)
    except ModelFileError as error:
        raise click.ClickException(str(error)) from None
    test = split(load_corpus(), "test")
    report = evaluate(test, predict_intents(model, [e.text for e in test]))
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json else format_report(report))
    if not as_json:
        click.echo(f"model {card.version} ({card.candidate}) on {len(test)} test examples")


@classifier.command("versions")
def list_versions() -> None:
    """The trained versions, with the current one marked."""
    from classifiers import store

    current = store.current_version()
    for card in store.versions():
        mark = "*" if card.version == current else " "
        f1 = card.evaluation.get("test", {}).get("macro_f1")
        click.echo(
            f"{mark} {card.version}  {card.created_at}  {card.candidate}  test macro F1 {f1}"
        )


@classifier.command("use")
@click.argument("version")
def use_version(version: str) -> None:
    """Make VERSION the current model (roll back or forward)."""
    from classifiers import store

    try:
        store.promote(version)
    except store.ModelFileError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"model {version} is now current; restart the web and worker processes")
