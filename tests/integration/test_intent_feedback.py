"""Agents correct intent tags in the ticket page; the next model version learns from it."""

from __future__ import annotations

import functools
import shutil
import uuid

import pytest
from sqlalchemy import select

from classifiers import store
from classifiers.base import Classification
from classifiers.predict import IntentClassifier
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Event, Ticket
from helpdesk.services.intent_feedback import FEEDBACK_WEIGHT, feedback_examples
from helpdesk.services.retraining import retrain
from tests.conftest import csrf_token
from tests.factories import inbound


class Says:
    def __init__(self, *intents: str) -> None:
        self.intents = intents

    def classify(self, text, *, subject=""):
        return Classification(intents=self.intents, language="de")


def test_agent_corrects_tags_on_the_ticket_page(agent_client):
    result = ingest(
        inbound(text="Paket kam zerbeult an, die Tasse ist kaputt."),
        classifier=Says("order_status"),
    )
    db.session.commit()
    page = f"/tickets/{result.ticket_id}"
    token = csrf_token(agent_client, page)

    agent_client.post(f"{page}/intents", data={"remove": "order_status", "csrf_token": token})
    agent_client.post(f"{page}/intents", data={"add": "damaged_or_wrong", "csrf_token": token})

    db.session.expire_all()
    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket.intents == ["damaged_or_wrong"]
    events = db.session.scalars(select(Event).where(Event.kind == "ticket.intents_corrected")).all()
    assert [(e.data["added"], e.data["removed"]) for e in events] == [
        ([], ["order_status"]),
        (["damaged_or_wrong"], []),
    ]
    (example,) = set(feedback_examples())
    assert example.intents == ("damaged_or_wrong",) and example.language == "de"
    assert len(feedback_examples()) == FEEDBACK_WEIGHT
    assert "Damaged or wrong item" in agent_client.get(page).get_data(as_text=True)
    refused = agent_client.post(f"{page}/intents", data={"add": "nonsense", "csrf_token": token})
    assert refused.status_code == 422


@pytest.fixture
def model_set(monkeypatch):
    name = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(store.MODEL_SET_VARIABLE, name)
    yield
    shutil.rmtree(store.MODELS_DIR / name, ignore_errors=True)


@pytest.fixture
def quick_training(monkeypatch):
    """One candidate and no refit (one fit instead of eight): these tests are about
    feedback reaching the next version; tests/unit/test_intent_model.py and the CLI test
    train in full."""
    from helpdesk.services import retraining

    quick = functools.partial(retraining.train, candidates=["logistic_regression"], refit=False)
    monkeypatch.setattr(retraining, "train", quick)


def test_a_corrected_tag_changes_the_next_model_version(
    app, model_set, quick_training, monkeypatch
):
    monkeypatch.setitem(app.config, "CLASSIFIER", "model")
    first = retrain([])
    assert first.version == "0001" and store.current_version() == "0001"
    assert retrain([], only_with_new_feedback=True) is None  # nothing new to learn

    text = "Könnt ihr mir bitte sagen, ob die Jacke wasserdicht ist? Mein Paket kam gestern."
    result = ingest(inbound(text=text))  # classified by model 0001 on the way in
    db.session.commit()
    assert result.message.details["language"] == "de"  # the model, not the NullClassifier
    assert {t.model_version for t in result.ticket.intent_tags} <= {"0001"}
    before = IntentClassifier.load("0001").classify(text).scores["product_question"]

    from helpdesk.services.intent_feedback import correct_intents
    from tests.conftest import make_user

    ticket = result.ticket
    correct_intents(
        ticket,
        make_user("agent"),
        add=["product_question"],
        remove=[i for i in ticket.intents if i != "product_question"],
    )
    db.session.commit()

    second = retrain(feedback_examples(), only_with_new_feedback=True)
    assert second is not None and second.evaluation["feedback"] == 1
    after = IntentClassifier.load(second.version).classify(text).scores["product_question"]
    assert after > before


def test_the_scheduled_retrain_trains_with_no_transaction_open(app, model_set, monkeypatch):
    from helpdesk.services import retraining

    monkeypatch.setitem(app.config, "CLASSIFIER", "model")
    observed = []

    def train(**kwargs):
        observed.append(db.session().in_transaction())
        raise RuntimeError("stop here")

    monkeypatch.setattr(retraining, "train", train)
    with pytest.raises(RuntimeError, match="stop here"):
        retraining.retrain_job()
    assert observed == [False]
