"""Buy-till-you-die customer value: BG/NBD purchases times Gamma-Gamma spend, by maximum likelihood.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a
customer buys at a Gamma(r, alpha) distributed Poisson rate and dies after each purchase with a
Beta(a, b) distributed probability. Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"): the
amounts of one customer are Gamma(p, nu) with nu ~ Gamma(q, gamma), independent of the purchases.

A customer is summarised by x (repeat purchases), t_x (first to last purchase), T (first purchase
to the cutoff) and the mean amount of the repeat purchases. Both fits maximise the closed-form
log-likelihood over log-parameters with L-BFGS-B: seconds for 100,000 customers, no sampler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from growthlab.errors import UserError


@dataclass(frozen=True)
class BetaGeo:
    """Fitted BG/NBD parameters (time in the unit of the data it was fitted on)."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma spend parameters."""

    p: float
    q: float
    gamma: float


def _summary(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[np.ndarray, ...]:
    """(x, t_x, T) as float arrays, or a UserError naming the broken rule."""
    x, t_x, T = (np.asarray(v, dtype=np.float64).ravel() for v in (x, t_x, T))
    if not (x.shape == t_x.shape == T.shape) or x.size == 0:
        raise UserError("frequency, recency and age must be non-empty and of one length")
    if not (np.isfinite(x).all() and np.isfinite(t_x).all() and np.isfinite(T).all()):
        raise UserError("frequency, recency or age has missing values; drop or fill those rows")
    if (x < 0).any() or (t_x < 0).any() or (t_x > T + 1e-9).any():
        raise UserError("need 0 <= repeat purchases and 0 <= recency (t_x) <= age (T) per customer")
    return x, t_x, T


def bgnbd_log_likelihood(params: BetaGeo, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (FHL 2005, eq. 6)."""
    x, t_x, T = _summary(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    still = -(r + x) * np.log(alpha + T)
    # The second term exists only after a repeat purchase: the customer may have died after it.
    with np.errstate(divide="ignore", invalid="ignore"):
        died = np.where(
            x > 0, np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x), -np.inf
        )
    return common + np.logaddexp(still, died)


def _maximise(nll: Callable[[np.ndarray], float], start: np.ndarray, what: str) -> list[float]:
    """Exp of the log-parameters that minimise `nll`, or a UserError when the fit fails."""
    result = minimize(nll, start, method="L-BFGS-B", bounds=[(-12.0, 12.0)] * start.size)
    if not np.isfinite(result.fun):
        raise UserError(f"the {what} fit did not converge; check the input for extreme values")
    return [float(v) for v in np.exp(result.x)]


def fit_bgnbd(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, penalizer: float = 0.0) -> BetaGeo:
    """Maximum-likelihood BG/NBD; `penalizer` adds an L2 pull of the parameters towards 0."""
    x, t_x, T = _summary(x, t_x, T)
    if not (x > 0).any():
        raise UserError(
            "every customer has exactly one purchase, so nothing says how often they return; "
            "use a longer history (earlier first cutoff) or a model that needs no repeat buyers"
        )
    scale = float(np.mean(T)) or 1.0  # alpha is on the scale of time: start it there

    def nll(theta: np.ndarray) -> float:
        params = BetaGeo(*np.exp(theta))
        mean = -np.mean(bgnbd_log_likelihood(params, x, t_x, T))
        return float(mean + penalizer * np.sum(np.exp(theta) ** 2))

    return BetaGeo(*_maximise(nll, np.log([1.0, scale, 1.0, 1.0]), "BG/NBD"))


def expected_purchases(
    params: BetaGeo, t: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """Expected purchases in (T, T + t] given each customer's history (FHL 2005, eq. 10)."""
    x, t_x, T = _summary(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    ratio = ((alpha + T) / (alpha + T + t)) ** (r + x)
    head = (a + b + x - 1) / (a - 1) * (1 - ratio * hyp2f1(r + x, b + x, a + b + x - 1, z))
    return head / (1 + _death_odds(params, x, t_x, T))


def probability_alive(params: BetaGeo, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """P(still alive at T | x, t_x, T) (FHL 2005, eq. 11)."""
    x, t_x, T = _summary(x, t_x, T)
    return 1 / (1 + _death_odds(params, x, t_x, T))


def _death_odds(params: BetaGeo, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Odds of dead vs alive at T; 0 for customers with no repeat purchase (they cannot die)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return np.where(x > 0, odds, 0.0)


def _spend(x: ArrayLike, mean: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x, mean = (np.asarray(v, dtype=np.float64).ravel() for v in (x, mean))
    if x.shape != mean.shape or not np.isfinite(x).all():
        raise UserError("frequency and monetary value must be of one length, without NaN")
    return x, mean


def gamma_gamma_log_likelihood(params: GammaGamma, x: ArrayLike, mean: ArrayLike) -> np.ndarray:
    """Per-customer log-density of the mean spend of x >= 1 purchases (FHL 2005b, eq. 3)."""
    x, mean = _spend(x, mean)
    p, q, g = params.p, params.q, params.gamma
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(mean)
        + px * np.log(x)
        - (px + q) * np.log(g + x * mean)
    )


def fit_gamma_gamma(x: ArrayLike, mean: ArrayLike, penalizer: float = 0.0) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma on the customers with x >= 1 repeat purchases."""
    x, mean = _spend(x, mean)
    buyers = x > 0
    if not buyers.any():
        raise UserError(
            "no customer has a repeat purchase, so spend per purchase cannot be learned; "
            "use a longer history"
        )
    x, mean = x[buyers], mean[buyers]
    if not (np.isfinite(mean).all() and (mean > 0).all()):
        raise UserError(
            "monetary value must be positive for customers with repeat purchases; "
            "drop zero-amount or refunded transactions"
        )
    # Fit on amounts in units of their mean, so gamma is near 1 and the penalizer means the
    # same for cents and for dollars; gamma is a scale parameter and scales back exactly.
    scale = float(np.mean(mean))
    unit = mean / scale

    def nll(theta: np.ndarray) -> float:
        params = GammaGamma(*np.exp(theta))
        mean_ll = -np.mean(gamma_gamma_log_likelihood(params, x, unit))
        return float(mean_ll + penalizer * np.sum(np.exp(theta) ** 2))

    p, q, gamma = _maximise(nll, np.log([1.0, 2.0, 1.0]), "Gamma-Gamma")
    return GammaGamma(p, q, gamma * scale)


def expected_spend(params: GammaGamma, x: ArrayLike, mean: ArrayLike) -> np.ndarray:
    """Expected amount of a future purchase given x repeat purchases of mean `mean` (eq. 5)."""
    x, mean = _spend(x, mean)
    p, q, g = params.p, params.q, params.gamma
    denominator = p * x + q - 1
    if (denominator <= 0).any():
        raise UserError(
            f"Gamma-Gamma q={q:.3g} <= 1: the mean spend of customers without a repeat purchase "
            "is infinite; score only customers with one, or raise model.penalizer"
        )
    # A weighted mean of the population mean and the customer's own mean; x = 0 -> population.
    own = np.where(x > 0, np.nan_to_num(mean), 0.0)
    return (g + x * own) * p / denominator


class BetaGeoGammaGamma(RegressorMixin, BaseEstimator):
    """Expected spend over `horizon_days` from a snapshot table: BG/NBD x Gamma-Gamma."""

    def __init__(
        self,
        horizon_days: int = 90,
        frequency: str = "frequency_total",
        recency: str = "recency_days",
        tenure: str = "tenure_days",
        monetary: str = "avg_amount",
        frequency_includes_first: bool = True,
        time_unit_days: float = 7.0,
        penalizer: float = 0.0,
    ) -> None:
        self.horizon_days = horizon_days
        self.frequency = frequency
        self.recency = recency
        self.tenure = tenure
        self.monetary = monetary
        self.frequency_includes_first = frequency_includes_first
        self.time_unit_days = time_unit_days
        self.penalizer = penalizer

    def fit(self, X: pd.DataFrame, y: object = None) -> BetaGeoGammaGamma:
        """Fit both models on the history in X; y (the future) is not used."""
        if not self.time_unit_days > 0 or not self.horizon_days > 0:
            raise UserError("model.horizon_days and model.time_unit_days must be positive")
        x, t_x, T, amounts, mean = self._summaries(X)
        self.bgnbd_ = fit_bgnbd(x, t_x, T, self.penalizer)
        self.gamma_gamma_ = fit_gamma_gamma(amounts, mean, self.penalizer)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Expected spend per row in the `horizon_days` after its cutoff."""
        check_is_fitted(self, "bgnbd_")
        x, t_x, T, amounts, mean = self._summaries(X)
        t = self.horizon_days / self.time_unit_days
        purchases = expected_purchases(self.bgnbd_, t, x, t_x, T)
        return purchases * expected_spend(self.gamma_gamma_, amounts, mean)

    def predict_purchases(self, X: pd.DataFrame) -> np.ndarray:
        """Expected purchases per row in the `horizon_days` after its cutoff (BG/NBD alone)."""
        check_is_fitted(self, "bgnbd_")
        x, t_x, T, _, _ = self._summaries(X)
        return expected_purchases(self.bgnbd_, self.horizon_days / self.time_unit_days, x, t_x, T)

    def diagnostics(self) -> dict[str, float]:
        """The fitted parameters, for the run's log."""
        check_is_fitted(self, "bgnbd_")
        return {**vars(self.bgnbd_), **vars(self.gamma_gamma_)}

    def _summaries(self, X: pd.DataFrame) -> tuple[np.ndarray, ...]:
        """(x, t_x, T, amounts averaged, their mean) from the named snapshot columns.

        With frequency_includes_first the monetary column averages every purchase, the first
        included, so Gamma-Gamma sees x + 1 amounts: one-time buyers keep their own evidence.
        """
        if not isinstance(X, pd.DataFrame):
            raise UserError("BG/NBD reads named columns: use preprocessing=identity")
        names = [self.frequency, self.recency, self.tenure, self.monetary]
        missing = [c for c in names if c not in X.columns]
        if missing:
            raise UserError(
                f"BG/NBD needs column {missing[0]!r}; set model.frequency, model.recency, "
                "model.tenure and model.monetary to your columns"
            )
        values = X[names].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
        frequency, recency, tenure, mean = values.T
        x = frequency - 1 if self.frequency_includes_first else frequency
        unit = self.time_unit_days
        return x, (tenure - recency) / unit, tenure / unit, frequency, mean
