"""RFM rules by hand, the segment encoder, names and profiles, and the planted-segments table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from growthlab.data.simulator import PROFILE_ARCHETYPES, MarketingSimulator
from growthlab.errors import UserError
from growthlab.models.preprocessing import FrameEncoder
from growthlab.models.segment_profiles import (
    NamedSegments,
    bootstrap_stability,
    segment_names,
    segment_profile,
)
from growthlab.models.segmenters import RFM_SEGMENTS, RFMSegmenter, SegmentEncoder
from tests.conftest import API_CHECKS


def rfm_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "days_since": np.arange(1.0, 11.0),
            "orders": [1, 1, 1, 1, 1, 1, 2, 3, 4, 5],
            "spend": np.arange(10.0, 101.0, 10.0),
        }
    )


def test_rfm_scores_are_hand_computed_quintiles() -> None:
    table = rfm_table()
    rules = RFMSegmenter("days_since", "orders", "spend").fit(table)
    # days_since 1..10: numpy's quintiles are 2.8, 4.6, 6.4, 8.2; the most recent fifth scores 5.
    np.testing.assert_allclose(rules.edges_[0], [2.8, 4.6, 6.4, 8.2])
    scores = rules.scores(table)
    assert scores["R"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # orders sorted 1,1,1,1,1,1,2,3,4,5: quintiles 1, 1, 1.4, 3.2; a tie at a cut point stays
    # below it, so the six one-order customers all score 1 and 2 clears three cut points.
    np.testing.assert_allclose(rules.edges_[1], [1.0, 1.0, 1.4, 3.2])
    assert scores["F"].tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    assert scores["M"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_rfm_grid_names_the_classic_segments() -> None:
    table = rfm_table()
    rules = RFMSegmenter("days_since", "orders", "spend").fit(table)
    names = [RFM_SEGMENTS[s] for s in rules.predict(table)]
    # R=5, FM=round(1/2 (1 + 1) ) = 1 -> New customers; R=1, FM=round((5 + 5) / 2) = 5.
    assert names[0] == "New customers"
    assert names[-1] == "Can't lose them"
    best = pd.DataFrame({"days_since": [0.0], "orders": [9], "spend": [500.0]})
    worst = pd.DataFrame({"days_since": [99.0], "orders": [1], "spend": [1.0]})
    assert RFM_SEGMENTS[rules.predict(best)[0]] == "Champions"
    assert RFM_SEGMENTS[rules.predict(worst)[0]] == "Lost"


def test_rfm_rules_follow_the_configured_columns_and_clone() -> None:
    rules = RFMSegmenter("days_since", "orders", "spend", monetary_weight=0.25)
    copy = clone(rules)
    assert copy.get_params() == rules.get_params()
    with pytest.raises(UserError, match="task.recency_column"):
        RFMSegmenter().fit(rfm_table())
    with pytest.raises(UserError, match="monetary_weight"):
        RFMSegmenter("days_since", "orders", "spend", monetary_weight=2).fit(rfm_table())


def test_segment_encoder_logs_only_skewed_non_negative_columns() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "spend": rng.lognormal(3, 1.2, 500),
            "balance": rng.normal(0, 1, 500) ** 3,  # skewed both ways, and negative
            "score": rng.normal(50, 5, 500),
            "device": rng.choice(["app", "web"], 500),
        }
    )
    encoder = SegmentEncoder().fit(frame)
    assert encoder.logged_ == ["spend"]
    expected = FrameEncoder(one_hot=True).fit_transform(frame.assign(spend=np.log1p(frame.spend)))
    np.testing.assert_allclose(encoder.transform(frame), expected)
    assert SegmentEncoder(log_skewed=False).fit(frame).logged_ == []


def planted(n: int = 1500, k: int = 4) -> pd.DataFrame:
    return MarketingSimulator(2).customer_profiles(n, k)


def test_names_are_unique_and_read_the_profile() -> None:
    frame = planted()
    X = frame.drop(columns=["customer_id", "true_segment"])
    labels = pd.factorize(frame["true_segment"])[0]
    words = {"days_since_last_order": ("recent", "lapsed")}
    names = segment_names(X, labels, words)
    assert len(set(names.values())) == len(names) == 4
    by_truth = dict(zip(pd.factorize(frame["true_segment"])[1], range(4), strict=True))
    assert "lapsed" in names[by_truth["lapsed"]]
    assert "high discount share" in names[by_truth["bargain_hunters"]]


def test_identical_segments_still_get_unique_names() -> None:
    X = pd.DataFrame({"x": np.tile([1.0, 2.0], 50)})
    names = segment_names(X, np.repeat([0, 1], 50))
    assert len(set(names.values())) == 2


def test_profile_table_sums_to_the_data() -> None:
    rng = np.random.default_rng(4)
    X = pd.DataFrame(
        {
            "recency_days": rng.exponential(60, 400),
            "frequency_total": rng.poisson(4, 400).astype(float),
            "monetary_total": rng.lognormal(4, 1, 400),
            "tenure_days": rng.uniform(0, 900, 400),
            "channel": rng.choice(["web", "app"], 400),
        }
    )
    labels = rng.integers(0, 3, 400)
    rfm = ("recency_days", "frequency_total", "monetary_total")
    table = segment_profile(X, labels, {0: "a", 1: "b", 2: "c"}, rfm)
    assert table["size"].sum() == 400
    assert table["share"].sum() == pytest.approx(1.0)
    assert table["revenue_share"].sum() == pytest.approx(1.0)
    revenue = X.groupby(labels)["monetary_total"].sum() / X["monetary_total"].sum()
    np.testing.assert_allclose(table["revenue_share"], revenue)
    np.testing.assert_allclose(table["mean_recency_days"], X.groupby(labels)["recency_days"].mean())
    assert list(table.columns[:7]) == [
        "segment",
        "name",
        "size",
        "share",
        "revenue_share",
        "mean_recency_days",
        "mean_frequency_total",
    ]


def test_named_segments_keep_the_rfm_names_and_clone() -> None:
    pipeline = Pipeline(
        [
            ("encode", FunctionTransformer()),
            ("model", RFMSegmenter("days_since", "orders", "spend")),
        ]
    )
    named = NamedSegments(pipeline).fit(rfm_table())
    assert set(named.names_.values()) <= set(RFM_SEGMENTS)
    assert named.name_of(np.array([99]))[0] == "segment 99"
    kmeans = NamedSegments(Pipeline([("e", SegmentEncoder()), ("m", KMeans(2, n_init=2))]))
    assert clone(kmeans).get_params()["max_terms"] == 3


def test_planted_table_is_seeded_and_shaped() -> None:
    a, b = planted(800, 3), planted(800, 3)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 800 and a["customer_id"].is_unique
    assert set(a["true_segment"]) == set(list(PROFILE_ARCHETYPES)[:3])
    assert a["email_open_rate"].isna().mean() == pytest.approx(0.05, abs=0.03)
    assert not planted(800, 3).equals(MarketingSimulator(3).customer_profiles(800, 3))
    with pytest.raises(UserError, match="n_segments"):
        MarketingSimulator(0).customer_profiles(100, 7)


def test_bootstrap_stability_is_one_for_planted_segments_and_lower_for_noise() -> None:
    frame = planted(900, 3)
    X = frame.drop(columns=["customer_id", "true_segment"])
    pipeline = Pipeline([("e", SegmentEncoder()), ("m", KMeans(3, n_init=2, random_state=0))])
    mean, low = bootstrap_stability(pipeline.fit(X), X, resamples=3, seed=1)
    assert mean == pytest.approx(1.0) and low == pytest.approx(1.0)
    noise = pd.DataFrame(np.random.default_rng(0).normal(size=(400, 4)), columns=list("abcd"))
    model = Pipeline([("e", SegmentEncoder()), ("m", KMeans(8, n_init=1, random_state=0))])
    mean, low = bootstrap_stability(model.fit(noise), noise, resamples=3, rows=300, seed=1)
    assert low <= mean < 0.9


@pytest.mark.parametrize("check", API_CHECKS)
@pytest.mark.parametrize(
    "estimator",
    [SegmentEncoder(), RFMSegmenter(), NamedSegments(KMeans(2))],
    ids=["SegmentEncoder", "RFMSegmenter", "NamedSegments"],
)
def test_sklearn_api_contract(check: str, estimator: object) -> None:
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)(type(estimator).__name__, estimator)
