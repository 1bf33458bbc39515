"""The intent model on a small corpus: corpus checks, fixed splits, fit, thresholds, eval."""

from __future__ import annotations

import json

import numpy as np
import pytest

from classifiers.base import INTENTS
from classifiers.corpus import CorpusError, Example, label_matrix, load_corpus
from classifiers.evaluate import evaluate, format_report
from classifiers.model import fit

# The small corpus has no example of most intents; sklearn says so for each.
pytestmark = pytest.mark.filterwarnings("ignore:Label not .* is present in all training examples")

SMALL = [
    ("wo bleibt meine bestellung", ["order_status"]),
    ("mein paket ist immer noch nicht da", ["order_status"]),
    ("where is my parcel, it was due monday", ["order_status"]),
    ("tracking has not moved for days, where is my order", ["order_status"]),
    ("ich habe eine mahnung bekommen obwohl ich bezahlt habe", ["payment_reminder"]),
    ("heute kam eine zahlungserinnerung, die rechnung ist doch bezahlt", ["payment_reminder"]),
    ("why did I get a payment reminder, I paid last week", ["payment_reminder"]),
    ("you sent me an overdue notice for an invoice I paid", ["payment_reminder"]),
    (
        "schuhe zurueckgeschickt und trotzdem mahnung erhalten",
        ["return_status", "payment_reminder"],
    ),
    ("I sent the boots back and still got a reminder", ["return_status", "payment_reminder"]),
]


def examples(rows=SMALL) -> list[Example]:
    return [
        Example(f"t-{i}", text, tuple(intents), "en" if i % 2 else "de", "email")
        for i, (text, intents) in enumerate(rows)
    ]


def test_corpus_lines_are_checked_with_file_and_line(tmp_path):
    good = {"id": "a-1", "text": "wo ist mein Paket", "intents": ["order_status"],
            "language": "de", "channel": "chat"}  # fmt: skip
    (tmp_path / "a.jsonl").write_text(json.dumps(good) + "\n", encoding="utf-8")
    assert [e.id for e in load_corpus(tmp_path)] == ["a-1"]

    bad = {**good, "id": "a-2", "intents": ["where_is_it"]}
    (tmp_path / "b.jsonl").write_text(json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="b.jsonl:1: intents must be from"):
        load_corpus(tmp_path)

    mixed = {**good, "id": "a-3", "intents": ["order_status", "other"]}
    (tmp_path / "b.jsonl").write_text(json.dumps(mixed) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="b.jsonl:1: 'other' means no specific intent"):
        load_corpus(tmp_path)


def test_the_split_is_fixed_by_the_id():
    example = Example("orders-17", "x", ("other",), "de", "email")
    assert (
        example.split == Example("orders-17", "changed text", ("order_status",), "en", "chat").split
    )
    shares = [Example(f"id-{n}", "", ("other",), "de", "email").split for n in range(2000)]
    assert 0.17 < shares.count("test") / 2000 < 0.23
    assert 0.12 < shares.count("validation") / 2000 < 0.18


@pytest.mark.parametrize("candidate", ["logistic_regression", "calibrated_svm"])
def test_candidates_learn_multi_label_intents(candidate):
    train = examples() * 3  # enough rows for the calibration folds
    labels = np.array(label_matrix(train))
    model = fit(candidate, [e.text for e in train], labels)
    model.tune_thresholds([e.text for e in train], labels)

    scores = model.scores(["hab die sachen zurueckgeschickt und jetzt eine mahnung"])
    assert scores.shape == (1, len(INTENTS))
    assert set(model.intents(scores[0])) >= {"payment_reminder"}
    assert model.intents(model.scores(["where is my order"])[0])[0] == "order_status"


def test_evaluation_counts_per_intent_language_and_confusion():
    data = examples()[:4]
    predicted = [("order_status",), ("payment_reminder",), ("order_status",), ()]
    report = evaluate(data, predicted)
    status = report.per_intent["order_status"]
    assert (status.precision, status.recall, status.support) == (1.0, 0.5, 4)
    assert report.confusions == [("order_status", "payment_reminder", 1)]
    assert set(report.by_language) == {"de", "en"}
    assert "macro F1" in format_report(report)


@pytest.fixture
def model_dir():
    import shutil
    import uuid

    from classifiers.store import MODELS_DIR

    directory = MODELS_DIR / f"test-{uuid.uuid4().hex[:8]}"
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def trained_small_model():
    train = examples() * 3
    labels = np.array(label_matrix(train))
    model = fit("logistic_regression", [e.text for e in train], labels)
    model.tune_thresholds([e.text for e in train], labels)
    return model


def test_model_files_carry_versions_and_load_only_when_intact(model_dir, tmp_path):
    from classifiers.predict import IntentClassifier
    from classifiers.store import ModelFileError, load, promote, save

    card = save(trained_small_model(), {"macro_f1": 0.9}, model_dir)
    assert card.version == "0001" and card.libraries["scikit-learn"]
    promote(card.version, model_dir)
    classifier = IntentClassifier(*load(directory=model_dir))
    result = classifier.classify(
        "Schuhe zurueckgeschickt, trotzdem Mahnung. Bestellnr. 4711-2033", subject="Mahnung"
    )
    assert "payment_reminder" in result.intents
    assert result.model_version == "0001" and result.language == "de"
    assert [(e.kind, e.value) for e in result.entities] == [("order_number", "4711-2033")]
    assert set(result.scores) == set(INTENTS)

    path = model_dir / "intents-0001.joblib"
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(ModelFileError, match="does not match its card"):
        load(directory=model_dir)
    with pytest.raises(ModelFileError, match="models live only in"):
        load(directory=tmp_path)


def test_character_grams_are_those_of_scikit_learns_char_wb_analyzer():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from classifiers.features import char_grams

    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    for text in [
        "Rücksendung für Bestellnr. 4711-2033",
        "a I ok  WHERE is my\tparcel?\n\nThanks 😊",
        "",
        "Rueckgabe",
    ]:
        assert char_grams(text) == reference(text)


def one_line_per_intent() -> list[Example]:
    lines = {
        "return_request": "wie kann ich die schuhe zurueckschicken",
        "return_status": "retoure ist seit einer woche unterwegs, angekommen?",
        "refund_status": "wann bekomme ich mein geld zurueck",
        "exchange_request": "can I swap the jeans for a size 32",
        "payment_reminder": "mahnung bekommen obwohl bezahlt",
        "order_status": "where is my order",
        "order_change_cancel": "please cancel my order",
        "damaged_or_wrong": "the mug arrived broken",
        "shipping_policy": "how much is shipping to austria",
        "product_question": "is the coat waterproof",
        "other": "love your new website",
    }
    return [
        Example(f"o-{i}", text, (intent,), "en", "chat")
        for i, (intent, text) in enumerate(lines.items())
    ]


def test_logistic_regression_scores_by_matrix_product_equal_scikit_learns():
    from classifiers.model import LABEL_SET_MIN, OVR_SHARE

    train = one_line_per_intent() * LABEL_SET_MIN
    model = fit("logistic_regression", [e.text for e in train], np.array(label_matrix(train)))
    texts = ["where is my order, and can I still cancel it?", "Paket kaputt angekommen", ""]
    assert model._linear() is not None and model.label_sets is not None
    features = model.pipeline.named_steps["features"].transform(texts)
    expected = OVR_SHARE * model.pipeline.predict_proba(texts) + (
        1 - OVR_SHARE
    ) * model.label_sets.marginals(features)
    assert np.allclose(model.scores(texts), expected, atol=1e-12)


def test_label_sets_are_the_frequent_combinations_and_their_marginals_probabilities():
    from classifiers.model import LABEL_SET_MIN, LabelSets

    rows = [
        ("where is my order", ["order_status"]),
        ("please cancel my order", ["order_change_cancel"]),
        ("has it shipped? if not, cancel it", ["order_status", "order_change_cancel"]),
        ("the mug arrived broken", ["damaged_or_wrong"]),  # too rare to be a set
    ]
    train = [
        Example(f"s-{n}-{i}", text, tuple(intents), "en", "chat")
        for n in range(LABEL_SET_MIN)
        for i, (text, intents) in enumerate(rows[:3])
    ] + [Example("s-rare", rows[3][0], tuple(rows[3][1]), "en", "chat")]
    labels = np.array(label_matrix(train))
    model = fit("logistic_regression", [e.text for e in train], labels)
    sets = {tuple(INTENTS[i] for i in np.flatnonzero(m)) for m in model.label_sets.members}
    assert sets == {("order_status",), ("order_change_cancel",),
                    ("order_status", "order_change_cancel")}  # fmt: skip
    features = model.pipeline.named_steps["features"].transform(["has it shipped yet"])
    marginals = model.label_sets.marginals(features)[0]
    assert marginals[INTENTS.index("damaged_or_wrong")] == 0.0
    assert 0.0 < marginals[INTENTS.index("order_status")] <= 1.0
    # One combination only: nothing to learn about combinations.
    assert LabelSets.fit(features[[0] * 6], np.array(labels[[0] * 6])) is None


def test_other_is_never_tagged_beside_a_specific_intent():
    train = one_line_per_intent() * 2
    model = fit("logistic_regression", [e.text for e in train], np.array(label_matrix(train)))
    model.thresholds = dict.fromkeys(INTENTS, 0.3)
    row = np.zeros(len(INTENTS))
    row[INTENTS.index("other")] = 0.9
    assert model.intents(row) == ("other",)
    row[INTENTS.index("order_status")] = 0.6
    assert model.intents(row) == ("other",)  # "other" is surer than any specific intent
    row[INTENTS.index("order_status")] = 0.95
    assert model.intents(row) == ("order_status",)


def test_decision_rule_second_intents_fallback_and_no_tag():
    from classifiers.model import MIN_THRESHOLD, IntentModel

    model = IntentModel(
        "logistic_regression", pipeline=None, thresholds=dict.fromkeys(INTENTS, 0.5)
    )

    def row(**scores):
        values = np.zeros(len(INTENTS))
        for intent, score in scores.items():
            values[INTENTS.index(intent)] = score
        return values

    both = row(return_status=0.9, payment_reminder=0.8)
    assert model.intents(both) == ("return_status", "payment_reminder")
    # A second intent must be at least half as sure as the first, even above its threshold.
    model.thresholds["order_change_cancel"] = 0.3
    assert model.intents(row(order_status=0.99, order_change_cancel=0.45)) == ("order_status",)
    # "other" clears its threshold but a specific intent is surer: the specific one alone.
    assert model.intents(row(refund_status=0.8, other=0.6)) == ("refund_status",)
    # Nothing clears its threshold: the best intent if it reaches MIN_THRESHOLD, else nothing.
    assert model.intents(row(order_status=MIN_THRESHOLD + 0.05)) == ("order_status",)
    assert model.intents(row(order_status=MIN_THRESHOLD - 0.05, other=0.1)) == ()


def test_greetings_and_sign_offs_are_not_read():
    from classifiers.features import strip_courtesies

    mail = (
        "Sehr geehrte Damen und Herren,\n\nich habe die Schuhe zurückgeschickt und heute kam "
        "eine Mahnung.\n\nMit freundlichen Grüßen\nAnna Berger\nHauptstr. 3, 79098 Freiburg"
    )
    body = "ich habe die Schuhe zurückgeschickt und heute kam eine Mahnung."
    assert strip_courtesies(mail) == body
    # After a subject line the greeting is the second line.
    assert strip_courtesies("Mahnung\n" + mail) == "Mahnung\n\n" + body
    english = "Hi team,\nWhere is order 100234?\nThanks so much,\nTom"
    assert strip_courtesies(english) == "Where is order 100234?"
    # Short messages keep their thanks: "refund arrived, thanks" is what makes them "other".
    assert strip_courtesies("Refund arrived, thanks!\nTom") == "Refund arrived, thanks!\nTom"
    assert strip_courtesies("Hallo,\nDanke!\nGruß") == "Danke!"


def test_models_fitted_before_greeting_stripping_score_the_text_as_it_is():
    train = one_line_per_intent() * 2
    model = fit("logistic_regression", [e.text for e in train], np.array(label_matrix(train)))
    assert model.strips_courtesies
    state = model.__getstate__()
    del state["strips_courtesies"]  # as in a model file written before the field existed
    old = object.__new__(type(model))
    old.__dict__.update(state)
    assert not old.strips_courtesies
    mail = ["Hi,\nwhere is my order\nThanks,\nTom"]
    assert np.allclose(old.scores(mail), model.pipeline.predict_proba(mail))


def test_models_fitted_before_label_sets_score_by_one_vs_rest_alone():
    from classifiers.model import LABEL_SET_MIN

    train = one_line_per_intent() * LABEL_SET_MIN
    model = fit("logistic_regression", [e.text for e in train], np.array(label_matrix(train)))
    assert model.label_sets is not None
    state = model.__getstate__()
    del state["label_sets"]  # as in a model file written before the field existed
    old = object.__new__(type(model))
    old.__dict__.update(state)
    mail = ["where is my order, and can I still cancel it?"]
    assert old.label_sets is None
    assert np.allclose(old.scores(mail), model.pipeline.predict_proba(mail))


def test_the_winner_is_refitted_on_train_and_validation_but_never_sees_test():
    from classifiers.train import train

    # A word of their own for each two messages of a split (words seen once are not
    # features) shows afterwards which messages the model saw.
    corpus = [
        Example(f"r-{n}", text, tuple(intents), "en" if n % 2 else "de", "chat")
        for n, (text, intents) in enumerate(SMALL * 12)
    ]
    seen_in: dict[str, int] = {}
    for position, e in enumerate(corpus):
        pair = seen_in[e.split] = seen_in.get(e.split, 0) + 1
        marker = f"marker{e.split[:2]}{(pair + 1) // 2}"
        corpus[position] = Example(e.id, f"{e.text} {marker}", e.intents, e.language, e.channel)
    by_split = {
        name: {e.text.split()[-1] for e in corpus if e.split == name}
        for name in ("train", "validation", "test")
    }
    assert all(by_split.values())

    refitted = train(corpus, candidates=["logistic_regression"])
    words = refitted.model.pipeline.named_steps["features"].transformer_list[0][1].vocabulary_
    assert by_split["train"] | by_split["validation"] <= set(words)
    assert not by_split["test"] & set(words)
    assert set(refitted.model.thresholds) == set(INTENTS)
    assert refitted.examples["test"] == len([e for e in corpus if e.split == "test"])

    chosen_only = train(corpus, candidates=["logistic_regression"], refit=False)
    words = chosen_only.model.pipeline.named_steps["features"].transformer_list[0][1].vocabulary_
    assert by_split["train"] <= set(words) and not by_split["validation"] & set(words)
