"""Customer-value figures: calibration by decile, value tiers, and value captured (gains).

Each function returns a matplotlib Figure made with ``Figure()`` rather than pyplot (no global
registry, no GUI backend). Save with ``fig.savefig(path)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from numpy.typing import ArrayLike

from growthlab.errors import UserError
from growthlab.metrics.value import gains_curve, normalized_gini

_PREDICTED = "tab:blue"
_ACTUAL = "tab:orange"
_REFERENCE = "grey"


def value_calibration_figure(table: pd.DataFrame) -> Figure:
    """Mean predicted vs mean actual value per predicted decile (a `calibration_table`)."""
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["mean_predicted"], 0.4, color=_PREDICTED, label="mean predicted")
    ax.bar(x + 0.2, table["mean_actual"], 0.4, color=_ACTUAL, label="mean actual")
    ax.set_xticks(x, [str(d) for d in table["decile"]])
    ax.set(
        title="Calibration: predicted vs actual value by predicted decile",
        xlabel="Predicted decile (1 = highest predicted value)",
        ylabel="Mean value per customer in the horizon",
    )
    ax.legend(loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return fig


def tier_figure(table: pd.DataFrame) -> Figure:
    """Per tier: share of customers next to its share of predicted and actual value."""
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(table))
    bars = [
        ("customer_share", "customers", _REFERENCE),
        ("predicted_share", "predicted value", _PREDICTED),
        ("actual_share", "actual value", _ACTUAL),
    ]
    for k, (column, label, color) in enumerate(bars):
        ax.bar(x + (k - 1) * 0.27, table[column], 0.27, color=color, label=label)
    ax.set_xticks(x, list(table["tier"]))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set(
        title="Value tiers: share of customers vs share of value",
        xlabel="Tier (A = highest predicted value)",
        ylabel="Share of the total",
    )
    ax.legend(loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return fig


def value_gains_figure(actual: ArrayLike, predictions: Mapping[str, ArrayLike]) -> Figure:
    """Cumulative share of actual value captured by each ranking, with perfect and random."""
    if not predictions:
        raise UserError("value_gains_figure needs at least one named prediction")
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.subplots()
    x, perfect = gains_curve(actual, actual)
    ax.plot(x, perfect, color="tab:green", ls="--", lw=1.5, label="perfect (actual order)")
    for name, predicted in predictions.items():
        x, y = gains_curve(actual, predicted)
        gini = normalized_gini(actual, predicted)
        ax.plot(x, y, lw=2, label=f"{name} (normalised Gini = {gini:.3f})")
    ax.plot([0, 1], [0, 1], color=_REFERENCE, ls=":", label="random")
    ax.set(
        title="Value captured: customers ranked by predicted value",
        xlabel="Share of customers targeted (highest predicted first)",
        ylabel="Share of actual value captured",
        xlim=(0, 1),
        ylim=(0, 1.01),
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return fig
