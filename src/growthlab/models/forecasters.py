"""Panel forecasters behind one scikit-learn interface.

fit(frame) learns from a canonical long frame (growthlab.data.panel: SERIES, TIME, TARGET,
FUTURE, known drivers), its FUTURE rows ignored; predict(frame) returns one forecast per
FUTURE row, in the frame's order, from the history rows before them. Local models (seasonal
naive, ETS) learn at predict time from the history they are given; the global boosted model
learns one regressor over all series at fit time.

Over 300 lines: the four forecasters share the panel helpers and are read side by side.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from growthlab.data import panel
from growthlab.data.panel import FUTURE, TIME, Wide
from growthlab.errors import UserError, whole_number
from growthlab.progress import progress

# model.loss -> XGBoost objective; absolute and huber fit the median-like forecast that MASE
# (a mean absolute error) rewards, and a promotion spike pulls them less than squared error.
LOSSES = {
    "squared": "reg:squarederror",
    "absolute": "reg:absoluteerror",
    "huber": "reg:pseudohubererror",
}


class PanelForecaster(BaseEstimator):
    """Shared plumbing: the frequency, the wide view and the forecast of the FUTURE cells."""

    frequency: str | None
    season_length: int | None

    def _frequency(self, frame: pd.DataFrame) -> str:
        panel.check_frequency(self.frequency, "model.frequency")
        return self.frequency or panel.infer_frequency(frame[TIME])

    def fit(self, X: pd.DataFrame, y: Any = None) -> PanelForecaster:
        self.frequency_ = self._frequency(X)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """One forecast per FUTURE row of X, in X's order."""
        wide = panel.to_wide(X, getattr(self, "frequency_", None) or self._frequency(X))
        last = wide.last_history()
        series, cols = np.nonzero(wide.future)
        if (last[series] < 0).any() or (cols <= last[series]).any():
            key = wide.keys[series[(last[series] < 0) | (cols <= last[series])][0]]
            raise UserError(
                f"series {key!r}: rows to forecast must come after its history rows; "
                "give each requested series its history"
            )
        forecast = self._forecast(wide, last)
        future = X[FUTURE].to_numpy(bool)
        return forecast[wide.row_series[future], wide.row_time[future]]

    def _forecast(self, wide: Wide, last: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _season(self) -> int:
        return int(self.season_length or panel.SEASONS[self.frequency_])


def _future_cells(wide: Wide, last: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    series, cols = np.nonzero(wide.future)
    return series, cols, cols - last[series]


class SeasonalNaive(PanelForecaster):
    """Each period's value one season earlier (7 daily, 52 weekly, 12 monthly by default).

    A series with less than a season of history gets the naive forecast (its last value).
    """

    def __init__(self, season_length: int | None = None, frequency: str | None = None) -> None:
        self.season_length = season_length
        self.frequency = frequency

    def _forecast(self, wide: Wide, last: np.ndarray) -> np.ndarray:
        series, cols, steps = _future_cells(wide, last)
        out = np.full(wide.values.shape, np.nan)
        out[series, cols] = panel.seasonal_naive(
            wide.values, series, last[series], steps, self._season()
        )
        return out


class ETS(PanelForecaster):
    """Exponential smoothing (statsmodels Holt-Winters) fitted per series at forecast time.

    Short series are guarded: no season below `min_seasons` seasons of history, no trend
    below 2 * `min_points` points, the naive forecast below `min_points` or when a fit fails.
    """

    def __init__(
        self,
        trend: str | None = "add",
        seasonal: str | None = "add",
        damped_trend: bool = True,
        season_length: int | None = None,
        min_seasons: int = 2,
        min_points: int = 6,
        frequency: str | None = None,
    ) -> None:
        self.trend = trend
        self.seasonal = seasonal
        self.damped_trend = damped_trend
        self.season_length = season_length
        self.min_seasons = min_seasons
        self.min_points = min_points
        self.frequency = frequency

    def fit(self, X: pd.DataFrame, y: Any = None) -> ETS:
        for name in ("trend", "seasonal"):
            if getattr(self, name) not in (None, "add", "mul"):
                raise UserError(f"model.{name}={getattr(self, name)!r}; use add, mul or null")
        return super().fit(X, y)  # type: ignore[return-value]

    def _forecast(self, wide: Wide, last: np.ndarray) -> np.ndarray:
        return _per_series(wide, last, self._path, self.min_points, "ETS series")

    def _path(self, y: np.ndarray, steps: int) -> np.ndarray:
        """Holt-Winters `steps` ahead of one series' history (gap-free, min_points long)."""
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        season = self._season()
        positive = bool((y > 0).all())
        seasonal = self.seasonal if season > 1 and len(y) >= self.min_seasons * season else None
        trend = self.trend if len(y) >= 2 * self.min_points else None
        seasonal = "add" if seasonal == "mul" and not positive else seasonal
        trend = "add" if trend == "mul" and not positive else trend
        fitted = ExponentialSmoothing(
            y,
            trend=trend,
            seasonal=seasonal,
            seasonal_periods=season if seasonal else None,
            damped_trend=self.damped_trend and trend is not None,
            initialization_method="estimated",
        ).fit(use_brute=False)  # the brute start grid costs ~20 % for nothing here
        return fitted.forecast(steps)


def _per_series(
    wide: Wide,
    last: np.ndarray,
    path: Callable[[np.ndarray, int], np.ndarray],
    min_points: int,
    label: str,
) -> np.ndarray:
    """A local model's forecast: `path(history, steps)` for each series asked for, guarded."""
    series, cols, steps = _future_cells(wide, last)
    out = np.full(wide.values.shape, np.nan)
    for i in progress(np.unique(series), label, unit="series"):
        cells = series == i
        found = _guarded(wide.values[i, : last[i] + 1], int(steps[cells].max()), path, min_points)
        out[i, cols[cells]] = found[steps[cells] - 1]
    return out


def _guarded(
    history: np.ndarray,
    steps: int,
    path: Callable[[np.ndarray, int], np.ndarray],
    min_points: int,
) -> np.ndarray:
    """One series' path with the guards every local model shares: leading gaps dropped, and
    the naive forecast for fewer than `min_points` points, a failed fit or a non-finite value."""
    y = pd.Series(history).ffill().dropna().to_numpy()
    if len(y) == 0:
        return np.full(steps, np.nan)
    if len(y) < min_points:
        return np.full(steps, y[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short or flat series
        try:
            found = np.asarray(path(y, steps), dtype=float)
        except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
            return np.full(steps, y[-1])
    return np.where(np.isfinite(found), found, y[-1])


class Theta(PanelForecaster):
    """The Theta method (statsmodels ThetaModel) per series at forecast time: a drift line
    and simple exponential smoothing, on the series deseasonalised when it has
    `min_seasons` seasons (multiplicatively when positive). The naive forecast below
    `min_points` points or when a fit fails."""

    def __init__(
        self,
        season_length: int | None = None,
        min_seasons: int = 2,
        min_points: int = 6,
        frequency: str | None = None,
    ) -> None:
        self.season_length = season_length
        self.min_seasons = min_seasons
        self.min_points = min_points
        self.frequency = frequency

    def _forecast(self, wide: Wide, last: np.ndarray) -> np.ndarray:
        return _per_series(wide, last, self._path, self.min_points, "Theta series")

    def _path(self, y: np.ndarray, steps: int) -> np.ndarray:
        """Theta `steps` ahead of one series' history (gap-free, min_points long)."""
        from statsmodels.tsa.forecasting.theta import ThetaModel

        season = self._season()
        seasonal = season > 1 and len(y) >= self.min_seasons * season
        method = "multiplicative" if (y > 0).all() else "additive"
        fitted = ThetaModel(
            y,
            period=season if seasonal else 1,
            deseasonalize=seasonal,
            method=method,
            use_test=False,  # the season is declared: no significance test drops it
        ).fit()
        return fitted.forecast(steps)


class GlobalBoosted(PanelForecaster):
    """One XGBoost regressor over all series on lag, window-mean, calendar and driver features.

    baseline_weight w blends in a statistical forecast: (1 - w) * boosted + w * baseline, the
    baseline being the seasonal naive, or the local forecaster given as `baseline` (ETS).

    recursive: one model one step ahead, its forecasts fed back as lags for the next step;
    direct: one model per step h (features end h periods before the target), `horizon`
    models. Lags and windows default by frequency (daily: 1-3, 7, 14, 21, 28 and 7, 28).
    """

    def __init__(
        self,
        strategy: str = "recursive",
        horizon: int = 28,
        lags: Sequence[int] | None = None,
        windows: Sequence[int] | None = None,
        normalize: bool = True,
        series_feature: bool = True,
        frequency: str | None = None,
        n_estimators: int = 300,
        max_depth: int = 6,
        learning_rate: float = 0.05,
        subsample: float = 0.9,
        colsample_bytree: float = 0.9,
        min_child_weight: float = 1.0,
        reg_lambda: float = 1.0,
        n_jobs: int = 2,
        random_state: int = 0,
        baseline_weight: float = 0.0,
        season_length: int | None = None,
        loss: str = "squared",
        transform: str | None = None,
        driver_lags: Sequence[int] = (),
        baseline: PanelForecaster | None = None,
        level: str = "mean",
        profile: int = 0,
        halflife: float | None = None,
        weekdays: bool = False,
    ) -> None:
        self.strategy = strategy
        self.horizon = horizon
        self.lags = lags
        self.windows = windows
        self.normalize = normalize
        self.series_feature = series_feature
        self.frequency = frequency
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.baseline_weight = baseline_weight
        self.season_length = season_length
        self.loss = loss
        self.transform = transform
        self.driver_lags = driver_lags
        self.baseline = baseline
        self.level = level
        self.profile = profile
        self.halflife = halflife
        self.weekdays = weekdays

    def fit(self, X: pd.DataFrame, y: Any = None) -> GlobalBoosted:
        if self.strategy not in ("recursive", "direct"):
            raise UserError(f"model.strategy={self.strategy!r}; use recursive or direct")
        weight = self.baseline_weight
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
            raise UserError(
                f"model.baseline_weight={weight!r}; use a share of the seasonal naive in [0, 1]"
            )
        if self.loss not in LOSSES:
            raise UserError(f"model.loss={self.loss!r}; use {', '.join(LOSSES)}")
        if self.level not in ("mean", "median"):
            raise UserError(f"model.level={self.level!r}; use mean or median")
        if self.transform not in (None, "log"):
            raise UserError(f"model.transform={self.transform!r}; use log or null")
        if not isinstance(self.baseline, SeasonalNaive | ETS | Theta | None):
            raise UserError(
                "model.baseline must be a local forecaster node (_target_: "
                "growthlab.models.forecasters.ETS, .Theta or .SeasonalNaive) or null"
            )
        whole_number(self.horizon, "model.horizon")
        seasons, life = self.profile, self.halflife
        if isinstance(seasons, bool) or not isinstance(seasons, int) or seasons < 0:
            raise UserError(f"model.profile={seasons!r}; use a number of past seasons, 0 = off")
        if life is not None and (isinstance(life, bool) or not isinstance(life, int | float)):
            life = -1.0  # not a number: the same message as a bad one
        if not isinstance(self.weekdays, bool):
            raise UserError(f"model.weekdays={self.weekdays!r}; use true or false")
        if life is not None and not life > 0:
            raise UserError(
                f"model.halflife={self.halflife!r}; use a positive number of periods or null"
            )
        super().fit(X)
        chosen = self.baseline or SeasonalNaive(self.season_length, self.frequency)
        self.baseline_ = clone(chosen).fit(X)  # a local model: it learns at forecast time
        kind = panel.family(self.frequency_)
        self.lags_ = tuple(int(k) for k in (self.lags or panel.DEFAULT_LAGS[kind]))
        self.windows_ = tuple(int(w) for w in (self.windows or panel.DEFAULT_WINDOWS[kind]))
        self.driver_lags_ = tuple(int(k) for k in (self.driver_lags or ()))
        if min(self.lags_) < 1 or min(self.windows_) < 1 or min(self.driver_lags_, default=1) < 1:
            raise UserError(
                "model.lags, model.windows and model.driver_lags must be positive periods"
            )
        wide = panel.to_wide(X[~X[FUTURE].to_numpy(bool)], self.frequency_)
        self.keys_ = wide.keys
        self.known_ = sorted(wide.known)
        cols = np.arange(1, wide.times.size)
        gaps = [0] if self.strategy == "recursive" else list(range(int(self.horizon)))
        self.boosters_ = []
        for gap in gaps:
            design, level = self._design(wide, cols, gap)
            target = self._to_model(wide.values[:, cols] / level)
            # A row with nothing observed in its level window (a series' first period) has no
            # scale: its raw target would be an outlier among the scaled ones.
            recent = design[f"mean_{max(self.windows_)}"].to_numpy()
            keep = np.isfinite(target).ravel() & np.isfinite(recent)
            if not keep.any():
                raise UserError("no history row has a known target before the forecast origin")
            weight = self._recency(cols, len(wide.keys))
            booster = self._booster().fit(
                design[keep], target.ravel()[keep], sample_weight=weight[keep]
            )
            self.boosters_.append(booster)
        self.feature_names_ = list(design.columns)
        return self

    def _recency(self, cols: np.ndarray, n_series: int) -> np.ndarray:
        """Row weights, series-major: halving every `halflife` periods back from the latest, so
        the latest regime counts most; all 1 without a half-life."""
        age = cols.max() - cols
        per_period = 0.5 ** (age / self.halflife) if self.halflife else np.ones(len(cols))
        return np.tile(per_period, n_series)

    def _to_model(self, scaled: np.ndarray) -> np.ndarray:
        """What the booster learns: the scaled target, or its log1p (zeros kept); with log, a
        multiplicative effect (a price cut, a season) is one additive step for every size."""
        if self.transform != "log":
            return scaled
        if (scaled < 0).any():
            raise UserError(
                "model.transform=log needs a target that is never negative; "
                "use model.transform=null for this target"
            )
        return np.log1p(scaled)

    def _from_model(self, guess: np.ndarray) -> np.ndarray:
        return np.expm1(guess) if self.transform == "log" else guess

    def _booster(self) -> Any:
        from xgboost import XGBRegressor

        return XGBRegressor(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            learning_rate=self.learning_rate,
            subsample=self.subsample,
            colsample_bytree=self.colsample_bytree,
            min_child_weight=self.min_child_weight,
            reg_lambda=self.reg_lambda,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            objective=LOSSES[self.loss],
            tree_method="hist",
            enable_categorical=True,
            max_cat_to_onehot=1,
        )

    def _design(self, wide: Wide, cols: np.ndarray, gap: int) -> tuple[pd.DataFrame, np.ndarray]:
        """The feature table of every series at `cols`, rows series-major, and the level."""
        found, level = panel.features(
            wide,
            cols,
            self.lags_,
            self.windows_,
            self.frequency_,
            gap,
            self.normalize,
            self.driver_lags_,
            self.level,
            self.profile,
            self._season(),
            self.weekdays,
        )
        missing = [k for k in self.known_ if f"known_{k}" not in found]
        if missing:
            raise UserError(f"the input lacks the known driver {missing[0]!r} the model uses")
        kinds = ("known", "change", *(f"before{k}" for k in self.driver_lags_))
        names = [k for k in found if not k.startswith(tuple(f"{kind}_" for kind in kinds))]
        # the drivers it was trained on, in order (an extra driver in the input is ignored)
        names += [f"{kind}_{k}" for k in self.known_ for kind in kinds]
        design = pd.DataFrame(
            {k: np.ascontiguousarray(found[k], dtype=np.float32).ravel() for k in names}
        )
        if self.series_feature:
            codes = pd.Index(self.keys_).get_indexer(wide.keys)  # unseen series: -1 = missing
            design["series"] = pd.Categorical.from_codes(
                np.repeat(codes, len(cols)), categories=pd.Index(self.keys_, dtype=object)
            )
        return design, level

    def _forecast(self, wide: Wide, last: np.ndarray) -> np.ndarray:
        boosted = self._boosted(wide, last)
        if not self.baseline_weight:
            return boosted
        # The blend: on short or noisy panels the seasonal naive is hard to beat, and a share
        # of it (the weight the study chooses on the validation windows) shrinks the boosted
        # model's variance towards it.
        reference = self.baseline_._forecast(wide, last)
        return (1 - self.baseline_weight) * boosted + self.baseline_weight * reference

    def _boosted(self, wide: Wide, last: np.ndarray) -> np.ndarray:
        missing = [k for k in self.known_ if np.isnan(wide.known[k][wide.future]).any()]
        if missing:
            raise UserError(
                f"rows to forecast lack known driver {missing[0]!r}; fill its planned values"
            )
        series, cols, steps = _future_cells(wide, last)
        out = np.full(wide.values.shape, np.nan)
        if self.strategy == "direct":
            if steps.max() > len(self.boosters_):
                raise UserError(
                    f"the direct model forecasts at most {len(self.boosters_)} steps ahead; "
                    "ask for fewer periods or train with a longer model.horizon"
                )
            for step in np.unique(steps):
                for col in np.unique(cols[steps == step]):
                    rows = series[(steps == step) & (cols == col)]
                    design, level = self._design(wide, np.array([col]), int(step) - 1)
                    guess = self._from_model(self.boosters_[step - 1].predict(design.iloc[rows]))
                    out[rows, col] = guess * level[rows, 0]
            return out
        values = wide.values.copy()
        state = Wide(wide.keys, wide.times, values, wide.future, wide.known, wide.row_series,
                     wide.row_time)  # fmt: skip
        for col in np.unique(cols):  # in time order: each step's forecasts feed the next
            rows = series[cols == col]
            design, level = self._design(state, np.array([col]), 0)
            guess = self._from_model(self.boosters_[0].predict(design.iloc[rows])) * level[rows, 0]
            values[rows, col] = guess
            out[rows, col] = guess
        return out
