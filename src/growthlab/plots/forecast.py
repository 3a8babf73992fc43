"""Forecast figures: actuals against backtest forecasts, error by step ahead, residuals.

Made with ``Figure()`` rather than pyplot (no global registry, no GUI backend), like the
other plots modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

# (series name, times, actuals, forecast times, forecasts, seasonal naive forecasts)
SeriesLine = tuple[str, ArrayLike, ArrayLike, ArrayLike, ArrayLike, ArrayLike]


def actual_vs_forecast_figure(
    lines: Sequence[SeriesLine], windows: Sequence[tuple[Any, Any]]
) -> Figure:
    """One panel per series: the actuals, the model's and the baseline's backtest forecasts,
    with the backtest windows shaded."""
    fig = Figure(figsize=(9, 2.6 * max(1, len(lines))), layout="constrained")
    axes = np.atleast_1d(fig.subplots(max(1, len(lines)), 1, squeeze=False)[:, 0])
    for ax, (name, times, actual, f_times, forecast, baseline) in zip(axes, lines, strict=False):
        ax.plot(times, actual, color="black", lw=1, label="actual")
        order = np.argsort(np.asarray(f_times))
        f_times = np.asarray(f_times)[order]
        ax.plot(f_times, np.asarray(forecast)[order], ".", ms=3, color="tab:blue",
                label="forecast")  # fmt: skip
        ax.plot(f_times, np.asarray(baseline)[order], ".", ms=2, color="tab:orange", alpha=0.6,
                label="seasonal naive")  # fmt: skip
        for k, (start, end) in enumerate(windows):
            ax.axvline(start, color="tab:grey", ls=":", lw=1)  # each window's origin
            ax.axvspan(start, end, color="tab:grey", alpha=0.15,
                       label="backtest windows" if k == 0 else None)  # fmt: skip
        if len(f_times):  # show a few windows' worth of history before the first origin
            span = np.asarray(f_times).max() - np.asarray(f_times).min()
            ax.set_xlim(np.asarray(f_times).min() - 2 * span, np.asarray(f_times).max())
        ax.set_title(str(name), fontsize=10)
    axes[0].legend(loc="upper left", fontsize=8, ncols=4)
    return fig


def error_by_horizon_figure(
    steps: ArrayLike, model_mae: ArrayLike, baseline_mae: ArrayLike
) -> Figure:
    """Mean absolute error per step ahead, model against the seasonal naive."""
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(steps, model_mae, "o-", color="tab:blue", label="model")
    ax.plot(steps, baseline_mae, "s--", color="tab:orange", label="seasonal naive")
    ax.set(title="Error by horizon", xlabel="Steps ahead", ylabel="Mean absolute error")
    ax.set_ylim(bottom=0)
    ax.legend()
    return fig


def residuals_figure(residuals: ArrayLike) -> Figure:
    """Distribution of actual - forecast over all backtest cells, with its mean marked."""
    values = np.asarray(residuals, dtype=float)
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    ax.hist(values, bins=50, color="tab:blue", alpha=0.8)
    if len(values):
        ax.axvline(float(values.mean()), color="tab:red", ls="--",
                   label=f"mean {values.mean():,.2f}")  # fmt: skip
        ax.legend()
    ax.axvline(0, color="grey", lw=1)
    ax.set(title="Residuals (actual - forecast)", xlabel="Residual", ylabel="Cells")
    return fig
