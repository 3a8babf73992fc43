"""BG/NBD and Gamma-Gamma reproduce the published CDNOW estimates; the estimator's contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from growthlab.errors import UserError
from growthlab.models.btyd import (
    BetaGeo,
    BetaGeoGammaGamma,
    GammaGamma,
    bgnbd_log_likelihood,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
)
from tests.conftest import API_CHECKS

CDNOW = Path(__file__).parent / "data" / "cdnow_customers_summary_with_transactions.csv"
PUBLISHED_BGNBD = BetaGeo(r=0.243, alpha=4.414, a=0.793, b=2.426)  # FHL 2005, weeks
PUBLISHED_GG = GammaGamma(p=6.25, q=3.74, gamma=15.44)  # FHL 2005 "RFM and CLV"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    frame = pd.read_csv(CDNOW)
    assert len(frame) == 2357 and (frame["x"] > 0).sum() == 946
    return frame


@pytest.fixture(scope="module")
def bgnbd(cdnow: pd.DataFrame) -> BetaGeo:
    return fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])


def test_bgnbd_reproduces_the_published_cdnow_estimates(bgnbd: BetaGeo) -> None:
    for name in ("r", "alpha", "a", "b"):
        assert getattr(bgnbd, name) == pytest.approx(getattr(PUBLISHED_BGNBD, name), abs=0.005)
    # The published log-likelihood of the CDNOW sample at these estimates is -9582.4.
    frame = pd.read_csv(CDNOW)
    total = bgnbd_log_likelihood(bgnbd, frame["x"], frame["t_x"], frame["T"]).sum()
    assert total == pytest.approx(-9582.4, abs=0.1)


def test_bgnbd_conditional_expectation_matches_the_paper(bgnbd: BetaGeo) -> None:
    # FHL 2005, section 5: x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in 39 weeks.
    assert expected_purchases(bgnbd, 39, 2, 30.43, 38.86)[0] == pytest.approx(1.226, abs=5e-4)


def test_probability_alive_by_hand() -> None:
    params = BetaGeo(r=1.0, alpha=2.0, a=1.0, b=3.0)
    # x = 2, t_x = 2, T = 6: odds dead = a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x)
    #   = 1 / 4 * (8 / 4)^3 = 2, so P(alive) = 1 / 3. No repeat purchase: alive for sure.
    got = probability_alive(params, [2, 0], [2, 0], [6, 6])
    np.testing.assert_allclose(got, [1 / 3, 1.0])


def test_expected_purchases_grow_with_the_horizon(bgnbd: BetaGeo) -> None:
    short, long = (expected_purchases(bgnbd, t, [0, 3], [0, 20], [30, 30]) for t in (10, 50))
    assert (short > 0).all() and (long > short).all()
    assert expected_purchases(bgnbd, 0, [3], [20], [30])[0] == pytest.approx(0.0)


def test_gamma_gamma_reproduces_the_published_cdnow_estimates(cdnow: pd.DataFrame) -> None:
    params = fit_gamma_gamma(cdnow["x"], cdnow["zbar"])
    assert params.p == pytest.approx(PUBLISHED_GG.p, abs=0.005)
    assert params.q == pytest.approx(PUBLISHED_GG.q, abs=0.01)  # the paper rounds 3.745
    assert params.gamma == pytest.approx(PUBLISHED_GG.gamma, abs=0.01)


def test_expected_spend_by_hand() -> None:
    params = GammaGamma(p=2.0, q=3.0, gamma=10.0)
    # Population mean p * gamma / (q - 1) = 10; x = 2, mean 40: (10 + 80) * 2 / (4 + 2) = 30.
    np.testing.assert_allclose(expected_spend(params, [0, 2], [0, 40]), [10.0, 30.0])
    heavy = GammaGamma(p=2.0, q=0.9, gamma=10.0)  # q <= 1: an infinite population mean
    assert expected_spend(heavy, [1], [5.0])[0] == pytest.approx(15 * 2 / 1.9)
    with pytest.raises(UserError, match="without a repeat purchase"):
        expected_spend(heavy, [0], [0.0])


def test_one_purchase_each_is_a_user_error() -> None:
    with pytest.raises(UserError, match="exactly one purchase"):
        fit_bgnbd([0, 0, 0], [0, 0, 0], [5, 9, 12])
    with pytest.raises(UserError, match="no customer has a repeat purchase"):
        fit_gamma_gamma([0, 0], [0, 0])
    with pytest.raises(UserError, match="recency"):
        fit_bgnbd([1, 2], [8, 1], [5, 9])  # t_x after T


NAMES = {"frequency": "orders", "recency": "days_since", "tenure": "age", "monetary": "avg"}


def cdnow_snapshots(cdnow: pd.DataFrame) -> pd.DataFrame:
    """CDNOW in the snapshot table's terms (days); its zbar averages the repeat purchases only."""
    return pd.DataFrame(
        {
            "orders": cdnow["x"],
            "days_since": (cdnow["T"] - cdnow["t_x"]) * 7,
            "age": cdnow["T"] * 7,
            "avg": cdnow["zbar"],
        }
    )


def test_estimator_on_snapshot_columns_matches_the_functions(cdnow: pd.DataFrame) -> None:
    model = BetaGeoGammaGamma(horizon_days=273, **NAMES, frequency_includes_first=False).fit(
        cdnow_snapshots(cdnow)
    )
    assert model.bgnbd_.r == pytest.approx(0.243, abs=0.005)
    assert model.bgnbd_.alpha == pytest.approx(4.414, abs=0.005)  # weeks: time_unit_days=7
    bg, gg = model.bgnbd_, model.gamma_gamma_
    expected = expected_purchases(bg, 39, cdnow["x"], cdnow["t_x"], cdnow["T"]) * expected_spend(
        gg, cdnow["x"], cdnow["zbar"]
    )
    np.testing.assert_allclose(model.predict(cdnow_snapshots(cdnow)), expected, rtol=1e-6)
    assert set(model.diagnostics()) == {"r", "alpha", "a", "b", "p", "q", "gamma"}


def test_estimator_time_unit_does_not_change_predictions(cdnow: pd.DataFrame) -> None:
    table = cdnow_snapshots(cdnow)
    names = {**NAMES, "frequency_includes_first": False}
    weeks = BetaGeoGammaGamma(**names).fit(table).predict(table)
    days = BetaGeoGammaGamma(**names, time_unit_days=1.0).fit(table).predict(table)
    np.testing.assert_allclose(days, weeks, rtol=1e-3)


def test_first_purchase_amount_counts_when_the_mean_includes_it(cdnow: pd.DataFrame) -> None:
    # A snapshot's avg_amount averages every purchase, so a one-time buyer's amount is evidence:
    # Gamma-Gamma sees frequency_total amounts, and big first baskets predict big spend.
    table = cdnow_snapshots(cdnow).assign(orders=cdnow["x"] + 1)
    table["avg"] = np.where(cdnow["x"] > 0, cdnow["zbar"], 30.0)
    model = BetaGeoGammaGamma(**NAMES).fit(table)
    assert model.gamma_gamma_.p != pytest.approx(6.25, abs=0.01)  # fitted on 2,357, not 946
    one_time = pd.DataFrame({"orders": [1, 1], "days_since": [70, 70], "age": [70, 70]})
    low, high = model.predict(one_time.assign(avg=[5.0, 500.0]))
    assert high > 5 * low


def test_estimator_names_a_missing_column() -> None:
    with pytest.raises(UserError, match="model.frequency"):
        BetaGeoGammaGamma().fit(pd.DataFrame({"recency_days": [1.0]}))


@pytest.mark.parametrize("check", API_CHECKS)
def test_sklearn_api_contract(check: str) -> None:
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)("BetaGeoGammaGamma", BetaGeoGammaGamma())


def simulate_bgnbd(params: BetaGeo, n: int, seed: int) -> tuple[np.ndarray, ...]:
    """(x, t_x, T) of n customers drawn from the BG/NBD story itself."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(params.r, 1 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    T = rng.uniform(20, 60, n)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = rng.exponential(1 / rate[i])
        while t < T[i]:
            x[i], t_x[i] = x[i] + 1, t
            if rng.uniform() < dropout[i]:
                break
            t += rng.exponential(1 / rate[i])
    return x, t_x, T


def test_bgnbd_recovers_simulated_parameters() -> None:
    truth = BetaGeo(r=0.8, alpha=5.0, a=1.5, b=4.0)
    x, t_x, T = simulate_bgnbd(truth, 6000, seed=1)
    fitted = fit_bgnbd(x, t_x, T)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fitted, name) == pytest.approx(getattr(truth, name), rel=0.15), name
    # The fitted and the true model expect about as many purchases in the next 20 weeks.
    assert expected_purchases(fitted, 20, x, t_x, T).mean() == pytest.approx(
        expected_purchases(truth, 20, x, t_x, T).mean(), rel=0.05
    )


def test_config_builds_the_estimator() -> None:
    from growthlab.build import build
    from tests.conftest import compose_config

    cfg = compose_config(["model=bgnbd_gamma_gamma"])
    model = build(cfg.model, "model")
    assert isinstance(model, BetaGeoGammaGamma)
    assert (model.frequency, model.recency, model.tenure) == (
        "frequency_total",
        "recency_days",
        "tenure_days",
    )
