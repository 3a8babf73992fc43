"""The numbers a promotion and a score file rest on: paired bootstrap, PSI, deciles, the table."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from growthlab import gate, scoring
from growthlab.errors import UserError
from growthlab.gate import Check
from growthlab.metrics.bootstrap import Difference, paired_difference


def fast_auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC AUC by ranks (Mann-Whitney, ties averaged): equal to sklearn's, ~20x faster."""
    ranks = stats.rankdata(s)
    positives = int(y.sum())
    negatives = len(y) - positives
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


@pytest.fixture(scope="module")
def two_models() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """400 rows, ~30 % positive; model b is less noisy than model a (paired on the same rows)."""
    rng = np.random.default_rng(1)
    y = (rng.random(400) < 0.3).astype(np.int64)
    a = y + rng.normal(0, 1.2, len(y))
    b = y + rng.normal(0, 0.8, len(y))
    return y, a, b


def test_fast_auc_is_roc_auc(two_models: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    y, a, _ = two_models
    assert fast_auc(y, a) == pytest.approx(roc_auc_score(y, a), abs=1e-12)
    assert fast_auc(y, np.round(a, 1)) == pytest.approx(roc_auc_score(y, np.round(a, 1)))


def test_point_value_is_the_difference_on_all_rows(
    two_models: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    y, a, b = two_models
    diff = paired_difference(y, a, b, fast_auc, resamples=200)
    assert isinstance(diff, Difference)
    assert diff.value == fast_auc(y, b) - fast_auc(y, a)  # exactly, not approximately
    assert diff.low <= diff.value <= diff.high
    swapped = paired_difference(y, b, a, fast_auc, resamples=200)
    assert swapped.value == -diff.value


def test_identical_models_give_a_zero_interval(
    two_models: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    y, a, _ = two_models
    diff = paired_difference(y, a, a.copy(), fast_auc, resamples=300)
    assert (diff.value, diff.low, diff.high) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("confidence", [0.95, 0.8])
def test_interval_agrees_with_scipy_paired_percentile_bootstrap(
    two_models: tuple[np.ndarray, np.ndarray, np.ndarray], confidence: float
) -> None:
    y, a, b = two_models
    resamples = 3000
    ours = paired_difference(y, a, b, fast_auc, resamples, confidence, seed=3)
    reference = stats.bootstrap(
        (y, a, b),
        lambda y_, a_, b_: fast_auc(y_, b_) - fast_auc(y_, a_),
        paired=True,
        vectorized=False,
        method="percentile",
        confidence_level=confidence,
        n_resamples=resamples,
        random_state=np.random.default_rng(11),
    )
    # Different random streams: the two agree up to Monte Carlo noise (~0.003 here).
    assert ours.low == pytest.approx(reference.confidence_interval.low, abs=0.01)
    assert ours.high == pytest.approx(reference.confidence_interval.high, abs=0.01)
    # Sanity of the case itself: a real but uncertain improvement.
    assert 0.03 < ours.value < 0.1
    assert ours.high - ours.low > 0.05


def test_deterministic_per_seed(two_models: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    y, a, b = two_models
    first = paired_difference(y, a, b, fast_auc, resamples=300, seed=5)
    assert paired_difference(y, a, b, fast_auc, resamples=300, seed=5) == first
    other = paired_difference(y, a, b, fast_auc, resamples=300, seed=6)
    assert other.value == first.value
    assert (other.low, other.high) != (first.low, first.high)


def test_single_class_resamples_are_drawn_again() -> None:
    """One positive in 20 rows: ~36 % of resamples miss it; AUC is undefined on those."""
    y = np.zeros(20, dtype=np.int64)
    y[7] = 1
    scores = np.linspace(0, 1, 20)
    diff = paired_difference(y, scores, scores[::-1], fast_auc, resamples=200, seed=0)
    assert np.isfinite([diff.value, diff.low, diff.high]).all()


@pytest.fixture
def alarm() -> Iterator[None]:
    """Turn a hang into a TimeoutError after 2 s (so an xfail cannot block the suite)."""

    def timeout(*_: object) -> None:
        raise TimeoutError("paired_difference did not return within 2 s")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(2)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_one_class_labels_raise_instead_of_hanging(alarm: None) -> None:
    y = np.zeros(50, dtype=np.int64)
    scores = np.linspace(0, 1, 50)
    with pytest.raises((ValueError, UserError)):
        paired_difference(y, scores, scores, lambda y, s: 0.0, resamples=100)


# --- PSI -------------------------------------------------------------------------------------


def test_psi_hand_computed() -> None:
    # e = (0.5, 0.5), a = (0.25, 0.75):
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5) = 0.25 ln 2 + 0.25 ln 1.5
    expected = 0.25 * np.log(2) + 0.25 * np.log(1.5)
    assert scoring.psi(np.array([50.0, 50.0]), np.array([25.0, 75.0])) == pytest.approx(
        expected, rel=1e-12
    )
    assert expected == pytest.approx(0.2746530722)


def test_psi_is_zero_for_the_same_shares_and_symmetric() -> None:
    counts = np.array([10.0, 20.0, 30.0, 40.0])
    assert scoring.psi(counts, counts * 7) == pytest.approx(0.0, abs=1e-15)
    a, b = np.array([30.0, 30.0, 40.0]), np.array([10.0, 50.0, 40.0])
    assert scoring.psi(a, b) == pytest.approx(scoring.psi(b, a))


def test_psi_of_an_empty_bin_is_finite() -> None:
    # Empty bins are clipped to 1e-6: (1 - 1e-6) ln(1e6) twice.
    value = scoring.psi(np.array([10.0, 0.0]), np.array([0.0, 10.0]))
    assert value == pytest.approx(2 * (1 - 1e-6) * np.log(1e6))
    assert np.isfinite(scoring.psi(np.ones(10), np.zeros(10)))


# --- deciles ---------------------------------------------------------------------------------


def test_cut_points_of_0_to_99() -> None:
    cuts = scoring.cut_points(np.arange(100.0))
    assert cuts.shape == (9,)
    np.testing.assert_allclose(cuts, [9.9 * k for k in range(1, 10)])


def test_deciles_of_0_to_99_top_ten_is_decile_1() -> None:
    scores = np.arange(100.0)
    found = scoring.deciles(scores, scoring.cut_points(scores))
    np.testing.assert_array_equal(found, 10 - np.arange(100) // 10)
    assert set(np.flatnonzero(found == 1)) == set(range(90, 100))
    assert set(np.flatnonzero(found == 10)) == set(range(10))
    np.testing.assert_array_equal(np.bincount(found)[1:], [10] * 10)


def test_deciles_beyond_the_reference_and_order_free() -> None:
    cuts = scoring.cut_points(np.arange(100.0))
    np.testing.assert_array_equal(scoring.deciles(np.array([-5.0, 1e9]), cuts), [10, 1])
    shuffled = np.random.default_rng(0).permutation(100).astype(float)
    np.testing.assert_array_equal(scoring.deciles(shuffled, cuts), 10 - shuffled.astype(int) // 10)


# --- the verdict table -----------------------------------------------------------------------


def test_verdict_table_layout() -> None:
    checks = [
        Check("floor", "roc_auc", 0.6, 0.7512, passed=True),
        Check("ceiling", "log_loss", 0.1, 0.2, passed=False),
        Check("baseline", "roc_auc", 0.5, 0.7512, 0.2512, 0.2, 0.3, passed=True),
        Check("champion", "roc_auc", 0.76, 0.7512, -0.0088, -0.02, 0.003, passed=False),
        Check("champion", "roc_auc", None, 0.7512, passed=True, note="champion cannot score"),
    ]
    lines = gate.verdict_table(checks).splitlines()
    assert len(lines) == 1 + len(checks)
    assert lines[0].split() == [
        "check",
        "metric",
        "reference",
        "challenger",
        "improvement",
        "95%",
        "interval",
        "verdict",
    ]
    # Columns line up: every value starts where its header starts.
    for column in ("metric", "challenger", "verdict"):
        start = lines[0].index(column)
        assert all(line[start - 1] == " " and line[start] != " " for line in lines[1:]), column
    start = lines[0].index("reference")
    assert all(line[start] != " " for line in lines[1:-1])  # the fallback row has no reference
    floor, ceiling, baseline, champion, fallback = lines[1:]
    assert floor.split() == ["floor", "roc_auc", "0.6000", "0.7512", "pass"]
    assert ceiling.split() == ["ceiling", "log_loss", "0.1000", "0.2000", "FAIL"]
    assert baseline.split() == [
        "baseline",
        "roc_auc",
        "0.5000",
        "0.7512",
        "+0.2512",
        "[+0.2000,",
        "+0.3000]",
        "pass",
    ]
    assert "[-0.0200, +0.0030]" in champion and champion.rstrip().endswith("FAIL")
    assert "-0.0088" in champion
    assert fallback.split()[:3] == ["champion", "roc_auc", "0.7512"]
    assert fallback.rstrip().endswith("pass  champion cannot score")
    verdict_at = lines[0].index("verdict")
    assert all(line[verdict_at:].split()[0] in ("pass", "FAIL") for line in lines[1:])


def test_grouped_resamples_keep_correlated_rows_together() -> None:
    """10 series of 50 identical points: the evidence is 10 units, not 500, and so is the width."""
    rng = np.random.default_rng(3)
    per_series = np.repeat(rng.normal(0.3, 1.0, 10), 50)
    groups = np.repeat(np.arange(10), 50)
    zeros = np.zeros_like(per_series)

    def mean_gain(y: np.ndarray, s: np.ndarray) -> float:
        return float(np.mean(s))

    by_row = paired_difference(zeros, zeros, per_series, mean_gain, 500, two_classes=False)
    by_series = paired_difference(
        zeros, zeros, per_series, mean_gain, 500, two_classes=False, groups=groups
    )
    assert by_row.value == by_series.value == pytest.approx(per_series.mean())
    width = by_series.high - by_series.low
    assert width > 4 * (by_row.high - by_row.low)  # sqrt(500 / 10) ~ 7 times wider
    # The percentile interval of the mean of 10 series: about +-1.96 sd / sqrt(10).
    assert width == pytest.approx(2 * 1.96 * per_series[::50].std() / np.sqrt(10), rel=0.3)
