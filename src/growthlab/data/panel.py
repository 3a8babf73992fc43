"""Panels: many time series in one long table, as wide arrays, their features, backtest windows.

The task turns a user's table into the canonical long frame below (column roles resolved,
undeclared columns gone); models and these pure functions only ever see that frame:
SERIES (one key per series), TIME (dates on a regular grid), TARGET (float, NaN = unknown),
FUTURE (True = a row to forecast) and one column per driver known in advance.

Over 300 lines: every step of the panel (canonical frame, grid, features, windows) is one
small function on the same four columns; split, they would be read back together anyway.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from growthlab.data.dates import parse_dates
from growthlab.errors import UserError

SERIES, TIME, TARGET, FUTURE = "__series__", "__time__", "__target__", "__future__"
CANONICAL = (SERIES, TIME, TARGET, FUTURE)
# Declared frequency -> pandas offset of one period; weekly grids keep the data's weekday.
OFFSETS = {"D": "D", "W": "7D", "MS": "MS", "M": "ME"}
SEASONS = {"D": 7, "W": 52, "MS": 12, "M": 12}
DEFAULT_LAGS = {
    "D": (1, 2, 3, 7, 14, 21, 28),
    "W": (1, 2, 3, 4, 8, 13, 26, 52),
    "M": (1, 2, 3, 6, 12),
}
DEFAULT_WINDOWS = {"D": (7, 28), "W": (4, 13), "M": (3, 12)}


def series_keys(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """One text key per row from the series id columns: "web / north"."""
    key = frame[columns[0]].astype(str)
    for column in columns[1:]:
        key = key + " / " + frame[column].astype(str)
    return key


def to_canonical(
    frame: pd.DataFrame,
    series: Sequence[str],
    time: str,
    target: str,
    known: Sequence[str],
    training: bool,
) -> pd.DataFrame:
    """A user table in the canonical columns; undeclared columns are left behind.

    Outside training, blank targets after a series' last known value are the rows to
    forecast (FUTURE); blanks inside the history are missing values.
    """
    out = pd.DataFrame(
        {
            SERIES: series_keys(frame, series).to_numpy(object),
            TIME: _dates(frame[time], time),
            TARGET: _numbers(frame[target], target, "target"),
        }
    )
    for name in known:
        out[name] = _numbers(frame[name], name, "known driver")
    if out[TIME].isna().any():
        raise UserError(f"time column {time!r} has blanks; every row needs a date")
    if training:
        out[FUTURE] = False
    else:
        last = out[TIME].where(out[TARGET].notna()).groupby(out[SERIES]).transform("max")
        out[FUTURE] = (out[TARGET].isna() & ~(out[TIME] <= last)).to_numpy()
    return out


def _dates(values: pd.Series, column: str) -> np.ndarray:
    return parse_dates(values, column).to_numpy()


def _numbers(values: pd.Series, column: str, role: str) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = (numbers.isna() & values.notna()).to_numpy()
    if bad.any():  # the row, never the value: a cell may hold personal data
        raise UserError(
            f"{role} {column!r} must be numeric but row {int(np.flatnonzero(bad)[0]) + 1} "
            "is not; fix the data"
        )
    return numbers.to_numpy(dtype=float)


def check_frequency(frequency: str | None, where: str = "task.frequency") -> None:
    if frequency is not None and frequency not in OFFSETS:
        raise UserError(
            f"{where}={frequency!r} is unknown; use one of {', '.join(OFFSETS)} or null"
        )


def family(frequency: str) -> str:
    """D, W or M: which default lags, windows and calendar features apply."""
    return "M" if frequency in ("MS", "M") else frequency


def infer_frequency(times: pd.Series) -> str:
    """D, W, MS or M from the spacing of the distinct dates; a UserError when irregular."""
    unique = pd.DatetimeIndex(pd.unique(times.dropna())).sort_values()
    if len(unique) < 3:
        raise UserError("the panel has fewer than 3 distinct dates; a forecast needs a history")
    seconds = unique.to_numpy().astype("datetime64[s]").astype(np.int64)  # any resolution
    step = float(np.median(np.diff(seconds)) / 86_400)
    if step == 1:
        return "D"
    if step == 7:
        return "W"
    if 28 <= step <= 31:
        if (unique.day == 1).all():
            return "MS"
        if unique.is_month_end.all():
            return "M"
    raise UserError(
        f"cannot infer the frequency of the dates (median spacing {step:g} days); "
        f"declare task.frequency ({', '.join(OFFSETS)})"
    )


def grid(start: pd.Timestamp, end: pd.Timestamp, frequency: str) -> pd.DatetimeIndex:
    return pd.date_range(start, end, freq=OFFSETS[frequency])


def future_times(last: pd.Timestamp, steps: int, frequency: str) -> pd.DatetimeIndex:
    """The `steps` periods after `last`."""
    return pd.date_range(last, periods=steps + 1, freq=OFFSETS[frequency])[1:]


@dataclass
class Wide:
    """A canonical frame as arrays: one row per series, one column per period of the grid."""

    keys: np.ndarray  # (n,) series keys
    times: pd.DatetimeIndex  # (T,)
    values: np.ndarray  # (n, T) target; NaN = unknown or to forecast
    future: np.ndarray  # (n, T) bool: the cells to forecast
    known: dict[str, np.ndarray]  # driver -> (n, T)
    row_series: np.ndarray  # position of each input row: series index...
    row_time: np.ndarray  # ...and period index

    def last_history(self) -> np.ndarray:
        """Per series, the last period holding a history row (-1: none)."""
        history = self.present & ~self.future
        last = self.times.size - 1 - np.argmax(history[:, ::-1], axis=1)
        return np.where(history.any(axis=1), last, -1)

    @property
    def present(self) -> np.ndarray:
        present = np.zeros(self.values.shape, dtype=bool)
        present[self.row_series, self.row_time] = True
        return present


def to_wide(frame: pd.DataFrame, frequency: str) -> Wide:
    """Pivot a canonical frame onto its regular grid; duplicates and off-grid dates refused."""
    times = pd.DatetimeIndex(frame[TIME])
    axis = grid(times.min(), times.max(), frequency)
    cols = axis.get_indexer(times)
    if (cols < 0).any():
        bad = times[cols < 0][0]
        raise UserError(
            f"date {bad:%Y-%m-%d} is not on the regular {frequency} grid from "
            f"{axis[0]:%Y-%m-%d}; fix the dates or task.frequency"
        )
    codes, keys = pd.factorize(frame[SERIES], sort=True)
    n, T = len(keys), len(axis)
    flat = codes.astype(np.int64) * T + cols
    if len(np.unique(flat)) != len(flat):
        dup = frame[SERIES].to_numpy()[pd.Series(flat).duplicated().to_numpy()][0]
        raise UserError(f"series {dup!r} has two rows for the same date; aggregate them first")

    def spread(values: np.ndarray, fill: object = np.nan) -> np.ndarray:
        out = np.full(n * T, fill, dtype=bool if fill is False else float)
        out[flat] = values
        return out.reshape(n, T)

    future = spread(frame[FUTURE].to_numpy(bool), False)
    values = spread(frame[TARGET].to_numpy(float))
    values[future] = np.nan  # a future row's target is never an input, whatever it holds
    drivers = [c for c in frame.columns if c not in CANONICAL]
    known = {c: spread(frame[c].to_numpy(float)) for c in drivers}
    return Wide(np.asarray(keys, dtype=object), axis, values, future, known, codes, cols)


def shifted(values: np.ndarray, cols: np.ndarray, back: int) -> np.ndarray:
    """values[:, cols - back], NaN where that is before the grid: the lag `back` of cols."""
    source = cols - back
    out = values[:, np.clip(source, 0, None)].astype(float)
    out[:, source < 0] = np.nan
    return out


def window_mean(values: np.ndarray, cols: np.ndarray, end_back: int, width: int) -> np.ndarray:
    """Mean of the observed values in periods [c - end_back - width + 1, c - end_back]."""
    observed = ~np.isnan(values)
    zero = np.zeros((values.shape[0], 1))
    total = np.concatenate([zero, np.cumsum(np.where(observed, values, 0.0), axis=1)], axis=1)
    count = np.concatenate([zero, np.cumsum(observed, axis=1)], axis=1)
    hi = np.clip(cols - end_back + 1, 0, values.shape[1])
    lo = np.clip(cols - end_back + 1 - width, 0, values.shape[1])
    n = count[:, hi] - count[:, lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (total[:, hi] - total[:, lo]) / n, np.nan)


def window_median(values: np.ndarray, cols: np.ndarray, end_back: int, width: int) -> np.ndarray:
    """Median of the observed values in periods [c - end_back - width + 1, c - end_back]."""
    padded = np.concatenate([np.full((values.shape[0], width), np.nan), values], axis=1)
    views = np.lib.stride_tricks.sliding_window_view(padded, width, axis=1)
    # window k of `views` covers periods [k - width, k - 1]: the one ending at c - end_back
    # starts at index c - end_back + 1
    picked = views[:, np.clip(cols - end_back + 1, 0, values.shape[1]), :]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-blank window is NaN, as in mean
        return np.nanmedian(picked, axis=2)


def calendar(
    times: pd.DatetimeIndex, frequency: str, weekdays: bool = False
) -> dict[str, np.ndarray]:
    """Calendar features of each period, by frequency family; with `weekdays`, a monthly
    period's count of Monday-to-Friday days (closings and orders happen on working days)."""
    kind = family(frequency)
    found = {"month": times.month.to_numpy(float)}
    if weekdays and kind == "M":
        first = times.to_period("M").start_time.to_numpy().astype("datetime64[D]")
        last = times.to_period("M").end_time.to_numpy().astype("datetime64[D]") + 1
        found["weekdays"] = np.busday_count(first, last).astype(float)
    if kind == "D":
        found |= {
            "day_of_week": times.day_of_week.to_numpy(float),
            "day_of_month": times.day.to_numpy(float),
            "day_of_year": times.day_of_year.to_numpy(float),
        }
    elif kind == "W":
        found["week_of_year"] = times.isocalendar().week.to_numpy(float)
    return found


def features(
    wide: Wide,
    cols: np.ndarray,
    lags: Sequence[int],
    windows: Sequence[int],
    frequency: str,
    gap: int = 0,
    normalize: bool = True,
    driver_lags: Sequence[int] = (),
    level_by: str = "mean",
    profile: int = 0,
    season: int = 1,
    weekdays: bool = False,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Features of every series at periods `cols`, each (n, len(cols)), and the level used.

    Targets enter only through lags and window means that end `gap + 1` periods before the
    period described (gap 0: up to t-1); drivers and the calendar are read at t itself.
    With `normalize`, target features are divided by the series' recent level (mean absolute
    value over the longest window, also ending at t-1-gap), so one model fits all scales;
    `level_by` median takes the median instead, which a few promotion spikes do not move.
    `profile` > 0 adds the series' seasonal index: the value one, two, ... `profile` seasons
    before t against the mean of the season ending there, averaged over those seasons.
    """
    cols = np.asarray(cols, dtype=np.int64)
    end = gap + 1
    recent = window_median if level_by == "median" else window_mean
    level = recent(np.abs(wide.values), cols, end, max(windows)) if normalize else None
    level = np.ones((len(wide.keys), len(cols))) if level is None else level
    level = np.where(np.isfinite(level) & (level > 0), level, 1.0)
    found = {f"lag_{k}": shifted(wide.values, cols, gap + k) / level for k in lags}
    found |= {f"mean_{w}": window_mean(wide.values, cols, end, w) / level for w in windows}
    if profile:
        found["profile"] = season_index(wide.values, cols, season, profile, end)
    for name, column in calendar(wide.times[cols], frequency, weekdays).items():
        found[name] = np.broadcast_to(column, level.shape)
    for name, values in wide.known.items():
        found[f"known_{name}"] = values[:, cols]
        # A promotion is a departure from the usual: the driver against its recent mean.
        usual = window_mean(values, cols, 1, max(windows))
        found[f"change_{name}"] = values[:, cols] - usual
        # Last week's promotion explains last week's spike (and this week's dip after it).
        for k in driver_lags:
            found[f"before{k}_{name}"] = shifted(values, cols, k)
    return found, level


def season_index(
    values: np.ndarray, cols: np.ndarray, season: int, seasons: int, end: int = 1
) -> np.ndarray:
    """Mean over k = 1..seasons of y[t - k * season] / mean(y over the season ending there):
    the series' usual share of this period, steadier than last season's value alone (the
    seasonal naive's), and free of its scale. Only seasons ending `end` or more periods back."""
    ratios = []
    for k in range(1, seasons + 1):
        back = k * season
        if back < end:  # a direct model's gap: that season's value is not known yet
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = shifted(values, cols, back) / window_mean(values, cols, back, season)
        ratios.append(np.where(np.isfinite(ratio), ratio, np.nan))
    if not ratios:
        return np.full((values.shape[0], len(cols)), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no season known yet: NaN
        return np.nanmean(np.stack(ratios), axis=0)


def backtest_origins(n_periods: int, horizon: int, windows: int, step: int) -> list[int]:
    """First forecast period of each window, oldest first; the last window ends at n_periods.

    Window k covers periods [origin_k, origin_k + horizon); its history is everything before
    origin_k. Origins are `step` periods apart.
    """
    return [n_periods - horizon - (windows - 1 - k) * step for k in range(windows)]


def with_future_rows(
    frame: pd.DataFrame, keys: Sequence[str], horizon: int, frequency: str
) -> pd.DataFrame:
    """A canonical frame with `horizon` rows to forecast after the last row of each of `keys`."""
    lasts = frame.groupby(SERIES)[TIME].max()
    added = [
        pd.DataFrame(
            {
                SERIES: key,
                TIME: future_times(lasts[key], horizon, frequency),
                TARGET: np.nan,
                FUTURE: True,
            }
        )
        for key in keys
    ]
    return pd.concat([frame, *added], ignore_index=True)


def window_masks(
    frame: pd.DataFrame, times: pd.DatetimeIndex, origin: int, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row masks of the window at grid position `origin`: history before it, the next
    `horizon` periods after it.

    Only series with a known value before the origin take part; history rows after a
    series' last known value are left out (a model input would read them as future).
    """
    at = frame[TIME].to_numpy()
    before = at < times[origin].to_datetime64()
    stop = origin + horizon
    inside = ~before & (at < times[stop].to_datetime64() if stop < len(times) else True)
    known = frame[TIME].where(before & frame[TARGET].notna().to_numpy())
    last = known.groupby(frame[SERIES]).transform("max")
    history = before & (frame[TIME] <= last).to_numpy()
    return history, inside & last.notna().to_numpy()


def window_input(
    frame: pd.DataFrame, times: pd.DatetimeIndex, origin: int, horizon: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """A window as model input (its future rows flagged, their targets blanked) and actuals."""
    history, future = window_masks(frame, times, origin, horizon)
    rows = frame[history | future].copy()
    flag = future[history | future]
    actual = rows[TARGET].to_numpy(float)[flag]
    rows[FUTURE] = flag
    rows.loc[flag, TARGET] = np.nan
    return rows, actual


def seasonal_naive(
    history: np.ndarray, series: np.ndarray, last: np.ndarray, steps: np.ndarray, season: int
) -> np.ndarray:
    """The value one season before each cell to forecast (missing values carried forward).

    history (n, T) targets; per cell: its series row, the series' last history period and
    the step ahead (1, 2, ...). A series with less than one season of history (from its
    first observed value to `last`) gets the naive forecast, its last value, instead.
    """
    filled = pd.DataFrame(history.T).ffill().to_numpy().T
    observed = ~np.isnan(history)
    first = np.where(observed.any(axis=1), np.argmax(observed, axis=1), history.shape[1])
    length = last - first[series] + 1
    m = np.where(length >= season, season, 1)
    source = last - m + 1 + (steps - 1) % m
    return filled[series, np.clip(source, 0, None)]
