"""`helpdesk classifier train|eval|versions|use` and `helpdesk classify` on the real corpus."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest
from click.testing import CliRunner

from classifiers.store import MODEL_SET_VARIABLE, MODELS_DIR
from helpdesk.cli_classifier import classifier, classify

MESSAGE = (
    "Ich habe die Schuhe schon vor zwei Wochen zurückgeschickt und heute kam eine "
    "Zahlungserinnerung. Bestellnr. 4711-2033"
)


@pytest.fixture
def model_set(monkeypatch):
    """A folder of its own below classifiers/models, so the project's model stays as it is."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(MODEL_SET_VARIABLE, name)
    yield MODELS_DIR / name
    shutil.rmtree(MODELS_DIR / name, ignore_errors=True)


def test_train_then_classify_the_reminder_after_a_return(model_set):
    runner = CliRunner()
    before = runner.invoke(classify, input=MESSAGE + "\n")
    assert before.exit_code == 1 and "helpdesk classifier train" in before.output

    trained = runner.invoke(classifier, ["train"])
    assert trained.exit_code == 0, trained.output
    assert "model 0001 (" in trained.output and "now current" in trained.output
    assert "macro F1 [de]" in trained.output and "most confused" in trained.output

    answer = json.loads(runner.invoke(classify, input=MESSAGE + "\n").output)
    assert set(answer["intents"]) == {"return_status", "payment_reminder"}
    assert answer["language"] == "de" and answer["model_version"] == "0001"
    assert {"kind": "order_number", "value": "4711-2033", "start": 108, "end": 117} in (
        answer["entities"]
    )

    lines = runner.invoke(classify, ["--jsonl"], input=json.dumps({"text": "wo ist mein paket"}))
    assert json.loads(lines.output)["intents"][0] == "order_status"
    broken = runner.invoke(classify, ["--jsonl"], input="not json\n")
    assert broken.exit_code == 1 and 'line 1 is not a JSON object with a "text" field' in (
        broken.output
    )

    again = runner.invoke(classifier, ["train", "--if-missing"])
    assert again.output.strip() == "model 0001 is current; nothing to train"

    evaluated = json.loads(runner.invoke(classifier, ["eval", "--json"]).output)
    assert set(evaluated["by_language"]) == {"de", "en"}
    assert runner.invoke(classifier, ["versions"]).output.startswith("* 0001")
    assert runner.invoke(classifier, ["use", "0042"]).exit_code == 1
