"""Forecast: the next periods of many series (channel x region, city, retailer), backtested.

Rolling-origin backtest on the panel's common calendar: the last `backtest.windows` windows
of `horizon` periods are the test, `backtest.valid_windows` windows ending before them
validate (tuning never sees a test period). Each window's forecast uses only the history
before its origin. Accuracy is reported overall and per step ahead, next to the seasonal
naive forecast the model must beat (the gate's baseline); MASE is the objective.

The model handed on (task.final_refit=all, the default) is refitted on the whole history
after the backtest: it has learned from the latest windows, so no window is left to score
it on without leaking, and the gate judges the backtest's figures recorded at training
(recorded_gate). final_refit=backtest keeps the model of the test windows, judged on the
holdout (the last test window) as before.

Over 300 lines: the rolling-origin backtest and the plots of its windows fill in the whole
Task contract.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from growthlab.data import panel
from growthlab.data.dataset import Columns
from growthlab.data.panel import FUTURE, SERIES, TARGET, TIME
from growthlab.errors import UserError, whole_number
from growthlab.metrics.forecast import FORECAST_METRICS, LOSSES, forecast_metrics, mase, naive_scale
from growthlab.models.forecasters import SeasonalNaive
from growthlab.outputs import panel_input
from growthlab.plots import forecast as plots
from growthlab.progress import progress
from growthlab.tasks import LABEL, Evaluation, Prepared, Task

log = logging.getLogger(__name__)
BACKTEST = {"windows": 3, "valid_windows": 2, "step": None, "refit": "once"}
FINAL_REFITS = ("all", "backtest")
STEP_METRICS = ("mase", "mae", "bias")  # also reported per step ahead: mase_h1, mae_h1, ...
Report = Callable[[int, float], None]


@dataclass
class PanelData(Prepared):
    """The canonical panel, the user's columns in the same row order, grid and window origins."""

    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: pd.DataFrame = field(default_factory=pd.DataFrame)
    times: pd.DatetimeIndex = field(default_factory=pd.DatetimeIndex)
    origins: dict[str, list[int]] = field(default_factory=dict)

    def with_valid_in_train(self) -> PanelData:
        """Already so: a model is always trained on everything before its window's origin."""
        return replace(self, info={**self.info, "refit_on": "history_before_each_origin"})


class Forecast(Task):
    """Panel forecasting with a rolling-origin backtest and a seasonal naive baseline."""

    objective = "mase"
    minimized = LOSSES
    output = "forecast"
    output_column = "forecast"
    whole_input = True  # a series needs its whole history
    floors: dict[str, float] = {}  # the gate's bar is the baseline: MASE below seasonal naive
    headline = ("mase", "baseline_mase", "mae", "wape", "smape", "bias")

    def __init__(
        self,
        name: str = "forecast",
        horizon: int = 28,
        frequency: str | None = None,
        season_length: int | None = None,
        backtest: Mapping[str, Any] | None = None,
        min_history: int | None = None,
        plot_series: int | Sequence[str] = 3,
        final_refit: str = "all",
        seed: int = 0,
    ) -> None:
        panel.check_frequency(frequency)
        if final_refit not in FINAL_REFITS:
            raise UserError(f"task.final_refit={final_refit!r}; use all or backtest")
        unknown = sorted(set(backtest or {}) - set(BACKTEST))
        if unknown:
            raise UserError(f"task.backtest.{unknown[0]} is unknown; use {', '.join(BACKTEST)}")
        self.backtest = {**BACKTEST, **dict(backtest or {})}
        bt = self.backtest
        self.horizon = whole_number(horizon, "task.horizon")
        for key in ("windows", "valid_windows") + (() if bt["step"] is None else ("step",)):
            whole_number(bt[key], f"task.backtest.{key}")
        if bt["refit"] not in ("once", "every"):
            raise UserError(f"task.backtest.refit={bt['refit']!r}; use once or every")
        if season_length is not None:
            whole_number(season_length, "task.season_length")
        self.name = name
        self.frequency = frequency
        self.season_length = season_length
        self.min_history = min_history
        # A single name is one series, not a sequence of characters.
        self.plot_series = [plot_series] if isinstance(plot_series, str) else plot_series
        self.final_refit = final_refit
        self.seed = seed

    @property
    def recorded_gate(self) -> bool:
        """Refitted on all history, the model has seen every window: judge what was recorded."""
        return self.final_refit == "all"

    # --- the panel -----------------------------------------------------------------------------

    def prepare(self, frame: pd.DataFrame, columns: Columns) -> PanelData:
        self.require_rows(frame)
        if not columns.series:
            raise UserError("a forecast needs dataset.columns.series: the columns naming a series")
        if not columns.time or not columns.target:
            raise UserError("a forecast needs dataset.columns.time (a date) and .target (a value)")
        schema: dict[str, Any] = {
            "series": list(columns.series),
            "time": columns.time,
            "target": columns.target,
            "known": list(columns.known),
            "horizon": self.horizon,
        }
        columns.check(frame, "the data")
        kept = [*columns.series, columns.time, columns.target, *columns.known]
        ignored = [c for c in frame.columns if c not in kept]
        if ignored:  # a driver must be declared known to be used: say what is left out
            log.info(
                "ignoring column(s) %s: declare a driver known in advance in "
                "dataset.columns.known to use it",
                ", ".join(map(str, ignored)),
            )
        canonical = panel_input(frame, schema, training=True)
        frequency = self.frequency or panel.infer_frequency(canonical[TIME])
        schema["frequency"] = frequency
        schema["season"] = int(self.season_length or panel.SEASONS[frequency])
        order = np.lexsort((canonical[TIME].to_numpy(), canonical[SERIES].to_numpy()))
        canonical = canonical.iloc[order].reset_index(drop=True)
        source = frame[kept].iloc[order].reset_index(drop=True)
        times = panel.to_wide(canonical, frequency).times
        origins = self.origins(len(times), schema["season"])
        info: dict[str, Any] = {
            "split": "rolling_origin",
            "frequency": frequency,
            "season_length": schema["season"],
            "horizon": self.horizon,
            "n_series": int(canonical[SERIES].nunique()),
            "n_periods": len(times),
            "start": f"{times[0]:%Y-%m-%d}",
            "end": f"{times[-1]:%Y-%m-%d}",
            "known": ",".join(columns.known),
            "ignored_columns": ",".join(map(str, ignored)),
            "refit": self.backtest["refit"],
            "final_refit": self.final_refit,
        }
        for split, starts in origins.items():
            info[f"{split}_origins"] = ",".join(f"{times[o]:%Y-%m-%d}" for o in starts)
        return PanelData({}, info, schema, canonical, source, times, origins)

    def origins(self, n_periods: int, season: int) -> dict[str, list[int]]:
        """Window origins (grid positions): validation windows end before the first test one."""
        bt, h = self.backtest, self.horizon
        step = int(bt["step"] or h)
        test = panel.backtest_origins(n_periods, h, int(bt["windows"]), step)
        valid = panel.backtest_origins(test[0], h, int(bt["valid_windows"]), step)
        need = self.min_history or max(season + 1, 2 * h, 3)
        if valid[0] < need:
            raise UserError(
                f"the panel has {n_periods} periods: too short for {bt['valid_windows']} "
                f"validation and {bt['windows']} test windows of {h} (step {step}) after "
                f"{need} periods of history; lower task.backtest.windows, .valid_windows, "
                ".step or task.horizon"
            )
        return {"valid": valid, "test": test}

    # --- windows -------------------------------------------------------------------------------

    def window(self, data: PanelData, origin: int) -> tuple[np.ndarray, np.ndarray]:
        """Row masks of one window of the panel: its history and its future."""
        return panel.window_masks(data.frame, data.times, origin, self.horizon)

    def window_input(self, data: PanelData, origin: int) -> tuple[pd.DataFrame, np.ndarray]:
        """The canonical model input of a window (targets of its future blanked) and actuals."""
        return panel.window_input(data.frame, data.times, origin, self.horizon)

    @staticmethod
    def units(model_input: pd.DataFrame, schema: Mapping[str, Any]) -> np.ndarray:
        """Per future row: the series' MASE scale, the seasonal naive forecast, the step ahead."""
        frequency, season = schema["frequency"], schema["season"]
        wide = panel.to_wide(model_input, frequency)
        last = wide.last_history()
        scale = naive_scale(wide.values, season)
        future = model_input[FUTURE].to_numpy(bool)
        series, cols = wide.row_series[future], wide.row_time[future]
        naive = SeasonalNaive(season, frequency).fit(model_input).predict(model_input)
        return np.column_stack([scale[series], naive, cols - last[series], series])

    def backtest_run(
        self,
        new_model: Callable[[], BaseEstimator],
        data: PanelData,
        split: str,
        report: Report | None = None,
        fitted: BaseEstimator | None = None,
    ) -> pd.DataFrame:
        """Forecasts of every window of a split: one row per (series, period) forecast."""
        tables, model = [], fitted
        windows = progress(data.origins[split], f"{split} windows", unit="window")
        for k, origin in enumerate(windows):
            model_input, actual = self.window_input(data, origin)
            if model is None or (k > 0 and self.backtest["refit"] == "every"):
                model = new_model().fit(model_input[~model_input[FUTURE]])
            forecast = np.asarray(model.predict(model_input), dtype=float)
            units = self.units(model_input, data.schema)
            future = model_input[FUTURE].to_numpy(bool)
            tables.append(
                pd.DataFrame(
                    {
                        "series": model_input[SERIES].to_numpy()[future],
                        "time": model_input[TIME].to_numpy()[future],
                        "origin": data.times[origin],
                        "step": units[:, 2].astype(int),
                        "actual": actual,
                        "forecast": forecast,
                        "baseline": units[:, 1],
                        "scale": units[:, 0],
                    }
                )
            )
            if report is not None:  # the tuner takes curves as higher-is-better (it negates
                done = pd.concat(tables)  # them for a minimised metric): report -MASE
                report(k, -mase(done["actual"], done["forecast"], done["scale"]))
        return pd.concat(tables, ignore_index=True)

    # --- the task interface --------------------------------------------------------------------

    def fit(
        self, model: BaseEstimator, data: PanelData, report: Report | None = None
    ) -> BaseEstimator:
        """The model handed on: trained on all history (final_refit=all), else on everything
        before the first test window (the backtest's own model)."""
        if self.final_refit == "all":
            return model.fit(data.frame[~data.frame[FUTURE].to_numpy(bool)])
        model_input, _ = self.window_input(data, data.origins["test"][0])
        return model.fit(model_input[~model_input[FUTURE]])

    def validate(
        self, new_model: Callable[[], BaseEstimator], data: PanelData, report: Report | None = None
    ) -> dict[str, float]:
        """Backtest over the validation windows, reporting the running MASE per window (as
        -MASE: the tuner reads a curve as higher-is-better)."""
        return self.metrics_of(*_units(self.backtest_run(new_model, data, "valid", report)))

    def evaluate(
        self, model: BaseEstimator, data: PanelData, splits: Sequence[str] = ("valid", "test")
    ) -> Evaluation:
        result = Evaluation()
        for split in splits:
            # final_refit=backtest: the model was trained on exactly the test history; refitted
            # on all history it has seen the test windows, so the backtest refits a clone
            own = split == "test" and self.final_refit == "backtest"
            fitted = model if own else None
            table = self.backtest_run(lambda: clone(model), data, split, fitted=fitted)
            y, forecast = _units(table)
            metrics = self.metrics_of(y, forecast)
            base = forecast_metrics(y[:, 0], y[:, 2], y[:, 1])
            metrics |= {f"baseline_{k}": v for k, v in base.items()}
            result.metrics.update({f"{split}_{k}": v for k, v in metrics.items()})
            if split == "test":
                self._pictures(table, data, result)
        return result

    def _pictures(self, table: pd.DataFrame, data: PanelData, result: Evaluation) -> None:
        by_step = table.assign(error=(table["forecast"] - table["actual"]).abs()).assign(
            baseline_error=(table["baseline"] - table["actual"]).abs()
        )
        steps = by_step.groupby("step")[["error", "baseline_error"]].mean().reset_index()
        result.tables["test_forecasts"] = table
        result.tables["test_error_by_step"] = steps
        chosen = self.chosen_series(data)
        lines = []
        for key in chosen:
            rows = data.frame[data.frame[SERIES] == key]
            mine = table[table["series"] == key]
            lines.append((key, rows[TIME].to_numpy(), rows[TARGET].to_numpy(float),
                          mine["time"].to_numpy(), mine["forecast"].to_numpy(),
                          mine["baseline"].to_numpy()))  # fmt: skip
        spans = [
            (data.times[o], data.times[min(o + self.horizon, len(data.times) - 1)])
            for o in data.origins["test"]  # shaded up to the next period (the last: its start)
        ]
        result.figures["test_actual_vs_forecast"] = plots.actual_vs_forecast_figure(lines, spans)
        result.figures["test_error_by_horizon"] = plots.error_by_horizon_figure(
            steps["step"].to_numpy(), steps["error"].to_numpy(), steps["baseline_error"].to_numpy()
        )
        residual = (table["actual"] - table["forecast"]).to_numpy(float)
        result.figures["test_residuals"] = plots.residuals_figure(residual[np.isfinite(residual)])

    def chosen_series(self, data: PanelData) -> list[str]:
        """The series plotted: those named, or n spread from the largest to the smallest."""
        if not isinstance(self.plot_series, int):
            named = [str(s) for s in self.plot_series]
            known = {str(s) for s in data.frame[SERIES].unique()}
            unknown = [s for s in named if s not in known]
            if unknown:
                raise UserError(
                    f"task.plot_series names {len(unknown)} series the data does not have; "
                    "give a number of series to plot, or names as the series column holds them"
                )
            return named
        sizes = data.frame.groupby(SERIES)[TARGET].apply(lambda v: np.nansum(np.abs(v)))
        ranked = sizes.sort_values(ascending=False).index.to_numpy()
        picks = np.unique(np.linspace(0, len(ranked) - 1, max(1, self.plot_series)).astype(int))
        return [str(ranked[i]) for i in picks]

    def input_example(self, data: PanelData) -> pd.DataFrame:
        """One series of the holdout: its last 3 history rows and 2 rows to forecast (MLflow
        keeps 5 example rows, and each requested series needs its rows to forecast)."""
        holdout = self.holdout(data)
        key = panel.series_keys(holdout, data.schema["series"])
        rows = holdout[key == key.iloc[-1]]
        future = rows[LABEL].notna().to_numpy()
        picked = pd.concat([rows[~future].tail(3), rows[future].head(2)])
        return picked.drop(columns=[LABEL]).reset_index(drop=True)

    def holdout(self, data: PanelData) -> pd.DataFrame:
        """The last test window in the user's columns: history, then future rows with a blank
        target; the actuals in the label column (blank on history rows)."""
        schema = data.schema
        history, future = self.window(data, data.origins["test"][-1])
        asked = data.frame[SERIES].isin(data.frame.loc[future, SERIES]).to_numpy()
        history &= asked  # a series without rows in the window is not asked for
        rows = data.source[history | future].copy()
        flag = future[history | future]
        floats = [schema["target"], *schema["known"]]
        rows[floats] = rows[floats].astype("float64")
        rows[LABEL] = np.where(flag, rows[schema["target"]], np.nan)
        rows.loc[flag, schema["target"]] = np.nan
        for column in schema["series"]:
            rows[column] = rows[column].astype(str)
        return rows.reset_index(drop=True)

    def outcomes(
        self, holdout: pd.DataFrame, schema: Mapping[str, Any]
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Model input and, per forecast row: actual, MASE scale, seasonal naive, step, series."""
        X = holdout.drop(columns=[LABEL])
        canonical = panel_input(X, schema, training=False)
        future = canonical[FUTURE].to_numpy(bool)
        actual = holdout[LABEL].to_numpy(float)[future]
        return X, np.column_stack([actual, self.units(canonical, schema)])

    def metric_names(self) -> list[str]:
        steps = [f"{m}_h{k}" for m in STEP_METRICS for k in range(1, self.horizon + 1)]
        return [*FORECAST_METRICS, *steps]

    def metrics_of(self, y: np.ndarray, forecast: np.ndarray) -> dict[str, float]:
        """Overall and per step ahead; y = [actual, scale, seasonal naive, step, series] per row."""
        y, forecast = np.asarray(y, dtype=float), np.asarray(forecast, dtype=float)
        metrics = forecast_metrics(y[:, 0], forecast, y[:, 1])
        for k in range(1, self.horizon + 1):
            at = y[:, 3] == k
            if at.any():
                step = forecast_metrics(y[at, 0], forecast[at], y[at, 1])
                metrics |= {f"{m}_h{k}": step[m] for m in STEP_METRICS}
        return metrics

    def metric_function(self, name: str) -> Callable[[np.ndarray, np.ndarray], float]:
        if name == "mase":
            return lambda y, f: mase(np.asarray(y, float)[:, 0], f, np.asarray(y, float)[:, 1])
        return lambda y, f: self.metrics_of(y, f).get(name, float("nan"))

    def bootstrap_groups(self, y: np.ndarray) -> np.ndarray:
        """A series' forecast points are correlated: the gate resamples whole series."""
        return np.asarray(y, dtype=float)[:, 4]

    def baseline_scores(self, y: np.ndarray, X: pd.DataFrame | None = None) -> np.ndarray:
        """The forecast a planner makes by hand: the seasonal naive."""
        return np.asarray(y, dtype=float)[:, 2]


def _units(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    y = table[["actual", "scale", "baseline", "step"]].to_numpy(float)
    return y, table["forecast"].to_numpy(float)
