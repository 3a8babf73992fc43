"""The served customer-value model: expected spend, expected purchases and a value tier.

`SpendAndPurchases` wraps the configured pipeline (XGBoost Tweedie, BG/NBD x Gamma-Gamma, ...):
- spend: the pipeline fitted on next-horizon spend;
- purchases: the pipeline's own `predict_purchases` when its model has one (BG/NBD counts
  purchases by construction), otherwise a clone of the same pipeline, same hyperparameters,
  fitted on the number of purchases (a Tweedie or Poisson objective fits counts with many zeros
  as well as amounts; deriving purchases as spend / average basket would divide by the noisiest
  feature of one-time buyers);
- tiers: the predicted values at the top shares `tier_cuts` of the TRAINING customers, learned
  at fit. A scored customer's tier then depends on their value alone, not on who else is in the
  file or in the chunk (batch scoring reads files in chunks).
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from growthlab.metrics.value import check_tier_cuts


class SpendAndPurchases(RegressorMixin, BaseEstimator):
    """Spend and purchases in the horizon from one configured estimator; tiers by value."""

    def __init__(self, estimator: Any = None, tier_cuts: Sequence[float] = (0.1, 0.3, 0.6)) -> None:
        self.estimator = estimator
        self.tier_cuts = tier_cuts

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> SpendAndPurchases:
        """y: one row per customer, [spend, purchases] in the horizon after its cutoff."""
        y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
        cuts = check_tier_cuts(self.tier_cuts)
        self.spend_ = clone(self.estimator).fit(X, y[:, 0])
        counts = _purchases_method(self.spend_) is None
        self.purchases_ = clone(self.estimator).fit(X, y[:, 1]) if counts else None
        values = np.sort(self.predict(X))[::-1]
        # The value of the last customer inside each top share: at or above it, that tier.
        last = [max(math.ceil(c * len(values) - 1e-9), 1) - 1 for c in cuts]
        self.tier_values_ = [float(values[i]) for i in last]
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Expected spend per customer (never negative)."""
        check_is_fitted(self, "spend_")
        return np.clip(np.asarray(self.spend_.predict(X), dtype=np.float64), 0.0, None)

    def predict_purchases(self, X: pd.DataFrame) -> np.ndarray:
        """Expected number of purchases per customer (never negative)."""
        check_is_fitted(self, "spend_")
        if self.purchases_ is not None:
            found = self.purchases_.predict(X)
        else:
            found = _purchases_method(self.spend_)(X)  # type: ignore[misc]
        return np.clip(np.asarray(found, dtype=np.float64), 0.0, None)

    def tiers(self, values: np.ndarray) -> np.ndarray:
        """A letter per value: A at or above the first learned cut, then B, C, ..."""
        check_is_fitted(self, "tier_values_")
        edges = -np.asarray(self.tier_values_)  # increasing, for searchsorted
        letters = np.array(list(string.ascii_uppercase[: len(edges) + 1]))
        return letters[np.searchsorted(edges, -np.asarray(values, dtype=np.float64), "left")]


def _purchases_method(model: Any) -> Any:
    """The fitted model's own purchase forecast (through its preprocessing), or None."""
    final = model[-1] if isinstance(model, Pipeline) else model
    if not hasattr(final, "predict_purchases"):
        return None
    if isinstance(model, Pipeline):
        return lambda X: final.predict_purchases(model[:-1].transform(X))
    return final.predict_purchases
