"""Segmenters' own pieces: the encoder clustering needs, and the classic RFM quintile rules.

SegmentEncoder is FrameEncoder (one-hot, median-imputed, standardised) with a log for
heavy-tailed counts and amounts: on raw spend a handful of big spenders would take whole
segments for themselves (k-means minimises squared distances), which no campaign can use.

RFMSegmenter scores recency, frequency and monetary value 1-5 by the quintiles of the
training customers (recency reversed: the most recent fifth scores 5) and maps the recency
score and the rounded weighted mean of the other two to the classic named segments.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted

from growthlab.errors import UserError
from growthlab.models.preprocessing import FrameEncoder

SKEW_THRESHOLD = 1.0  # sample skewness above which a non-negative column is log-scaled

RFM_SEGMENTS = (
    "Champions",
    "Loyal",
    "Potential loyalists",
    "New customers",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Can't lose them",
    "Hibernating",
    "Lost",
)
# Rows: recency score 1..5; columns: frequency-monetary score 1..5 (indices into RFM_SEGMENTS).
RFM_GRID = np.array(
    [
        [10, 10, 7, 7, 8],  # R=1: lost, or at risk / can't lose them when they were good
        [9, 9, 7, 7, 8],  # R=2: hibernating, at risk, can't lose them
        [6, 6, 5, 1, 1],  # R=3: about to sleep, need attention, loyal
        [4, 2, 2, 1, 1],  # R=4: promising, potential loyalists, loyal
        [3, 2, 2, 0, 0],  # R=5: new customers, potential loyalists, champions
    ]
)


class SegmentEncoder(FrameEncoder):
    """FrameEncoder that first takes log1p of non-negative columns skewed above SKEW_THRESHOLD."""

    def __init__(
        self,
        categorical: Sequence[str] | None = None,
        numeric: Sequence[str] | None = None,
        one_hot: bool = True,
        max_categories: int = 100,
        log_skewed: bool = True,
    ) -> None:
        super().__init__(categorical, numeric, one_hot, max_categories)
        self.log_skewed = log_skewed

    def fit(self, X: pd.DataFrame, y: object = None) -> SegmentEncoder:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("SegmentEncoder expects a pandas DataFrame of raw columns")
        self.logged_ = [c for c in X.columns if self.log_skewed and self._skewed(X[c], c)]
        return super().fit(self._logged(X))

    def transform(self, X: pd.DataFrame) -> pd.DataFrame | np.ndarray:
        check_is_fitted(self, "logged_")
        return super().transform(self._logged(X))

    def _skewed(self, values: pd.Series, column: str) -> bool:
        if column in (self.categorical or ()) or not pd.api.types.is_numeric_dtype(values):
            return False
        if pd.api.types.is_bool_dtype(values):
            return False
        numbers = values.astype("float64").dropna()
        return bool(len(numbers) > 2 and numbers.min() >= 0 and numbers.skew() > SKEW_THRESHOLD)

    def _logged(self, X: pd.DataFrame) -> pd.DataFrame:
        present = [c for c in self.logged_ if c in X.columns]
        if not present:
            return X
        numbers = X[present].apply(pd.to_numeric, errors="coerce").astype("float64")
        return X.assign(**{c: np.log1p(numbers[c].clip(lower=0)) for c in present})


class RFMSegmenter(ClusterMixin, BaseEstimator):
    """Quintile R, F, M scores (1-5) mapped to the classic named RFM segments."""

    def __init__(
        self,
        recency: str = "recency_days",
        frequency: str = "frequency_total",
        monetary: str = "monetary_total",
        monetary_weight: float = 0.5,
    ) -> None:
        self.recency = recency
        self.frequency = frequency
        self.monetary = monetary
        self.monetary_weight = monetary_weight

    def fit(self, X: pd.DataFrame, y: object = None) -> RFMSegmenter:
        if not 0 <= self.monetary_weight <= 1:
            raise UserError(f"model.monetary_weight={self.monetary_weight}; use a share in [0, 1]")
        values = self._values(X)
        self.medians_ = np.nanmedian(values, axis=0)
        filled = np.where(np.isnan(values), self.medians_, values)
        # Four cut points per column: the 20th, 40th, 60th and 80th percentiles.
        self.edges_ = np.quantile(filled, [0.2, 0.4, 0.6, 0.8], axis=0).T
        self.segment_names_ = dict(enumerate(RFM_SEGMENTS))
        self.labels_ = self.predict(X)
        return self

    def scores(self, X: pd.DataFrame) -> pd.DataFrame:
        """R, F and M scores 1-5 per row: 1 + the number of cut points strictly below the value."""
        check_is_fitted(self, "edges_")
        values = self._values(X)
        filled = np.where(np.isnan(values), self.medians_, values)
        above = [np.searchsorted(self.edges_[j], filled[:, j], side="left") for j in range(3)]
        return pd.DataFrame(
            {"R": 5 - above[0], "F": 1 + above[1], "M": 1 + above[2]}, index=X.index
        )

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        s = self.scores(X)
        w = self.monetary_weight
        fm = np.floor((1 - w) * s["F"].to_numpy() + w * s["M"].to_numpy() + 0.5).astype(int)
        return RFM_GRID[s["R"].to_numpy() - 1, np.clip(fm, 1, 5) - 1]

    def _values(self, X: pd.DataFrame) -> np.ndarray:
        names = [self.recency, self.frequency, self.monetary]
        if not isinstance(X, pd.DataFrame):
            raise UserError(
                "the RFM rules need a table with named columns: use preprocessing=identity"
            )
        missing = [c for c in names if c not in X.columns]
        if missing:
            raise UserError(
                f"the RFM rules need column {missing[0]!r}; set task.recency_column, "
                "task.frequency_column and task.monetary_column to your columns"
            )
        frame = X[names].apply(pd.to_numeric, errors="coerce")
        return frame.to_numpy(dtype=float)
