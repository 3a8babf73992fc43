"""Forecast accuracy: arrays of actuals and forecasts in, floats out.

Cells whose actual is unknown (NaN) are left out of every metric. MASE divides each absolute
error by its series' scale, the in-sample MAE of the seasonal naive forecast on the history
before the forecast origin (Hyndman & Koehler 2006), and averages over cells; a series with
a zero or unknown scale (a constant history) is left out of MASE only.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

FORECAST_METRICS = ("mae", "rmse", "wape", "smape", "mase", "bias", "abs_bias")
LOSSES = ("mae", "rmse", "wape", "smape", "mase", "abs_bias")


def forecast_metrics(actual: ArrayLike, forecast: ArrayLike, scale: ArrayLike) -> dict[str, float]:
    """MAE, RMSE, WAPE, sMAPE, MASE and bias (mean forecast - actual: > 0 over-forecasts).

    WAPE = sum |error| / sum |actual|; sMAPE = mean 2 |error| / (|actual| + |forecast|),
    a fraction in [0, 2] (a cell where both are 0 counts as 0).
    """
    a, f, s = (np.asarray(v, dtype=float) for v in (actual, forecast, scale))
    keep = np.isfinite(a)
    a, f, s = a[keep], f[keep], s[keep]
    if len(a) == 0:
        return dict.fromkeys(FORECAST_METRICS, float("nan"))
    error = f - a
    absolute = np.abs(error)
    denominator = np.abs(a) + np.abs(f)
    with np.errstate(invalid="ignore", divide="ignore"):
        smape = np.where(denominator > 0, 2 * absolute / denominator, 0.0)
    scaled = np.isfinite(s) & (s > 0)
    total = np.abs(a).sum()
    return {
        "mae": float(absolute.mean()),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "wape": float(absolute.sum() / total) if total > 0 else float("nan"),
        "smape": float(smape.mean()),
        "mase": float(np.mean(absolute[scaled] / s[scaled])) if scaled.any() else float("nan"),
        "bias": float(error.mean()),
        "abs_bias": float(abs(error.mean())),
    }


def mase(actual: ArrayLike, forecast: ArrayLike, scale: ArrayLike) -> float:
    """Mean of |actual - forecast| / scale over cells with a known actual and a positive scale."""
    a, f, s = (np.asarray(v, dtype=float) for v in (actual, forecast, scale))
    keep = np.isfinite(a) & np.isfinite(s) & (s > 0)
    return float(np.mean(np.abs(a[keep] - f[keep]) / s[keep])) if keep.any() else float("nan")


def naive_scale(history: ArrayLike, season: int) -> np.ndarray:
    """Per row of history (n, T): mean |y_t - y_(t-season)| over pairs both observed.

    A series without a single such pair (shorter than a season) is scaled by the naive
    forecast (season 1) instead; NaN when it has no pair at all or only zero differences.
    """
    values = np.asarray(history, dtype=float)
    if values.ndim == 1:
        values = values[None, :]
    scales = _scale(values, season)
    if season > 1:
        short = ~np.isfinite(scales)
        scales[short] = _scale(values[short], 1)
    return np.where(scales > 0, scales, np.nan)


def _scale(values: np.ndarray, season: int) -> np.ndarray:
    if values.shape[1] <= season:
        return np.full(len(values), np.nan)
    diff = np.abs(values[:, season:] - values[:, :-season])
    count = np.isfinite(diff).sum(axis=1)
    total = np.nansum(diff, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)
