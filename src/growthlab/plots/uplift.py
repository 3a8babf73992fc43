"""Uplift figures: whom the campaign persuades, by score, against random targeting.

Each function returns a matplotlib Figure made with ``Figure()`` (no pyplot, no GUI backend).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from numpy.typing import ArrayLike

from growthlab.metrics.uplift import profit_curve, qini_coefficient, qini_curve

_MODEL = "tab:blue"
_ORACLE = "tab:green"
_REFERENCE = "grey"
_TREATED = "tab:orange"
_CONTROL = "tab:grey"


def qini_figure(
    y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike, oracle: ArrayLike | None = None
) -> Figure:
    """Qini curve of the model, the oracle's when the true uplift is known, and random targeting."""
    fig = Figure(figsize=(6.5, 5), layout="constrained")
    ax = fig.subplots()
    x, q = qini_curve(y, treatment, uplift)
    coef = qini_coefficient(y, treatment, uplift)
    ax.plot(x, q, color=_MODEL, lw=2, label=f"model (Qini = {coef:.1f})")
    if oracle is not None:
        # The true uplift (simulated data only) ranks as well as anyone could.
        ox, oq = qini_curve(y, treatment, oracle)
        ocoef = qini_coefficient(y, treatment, oracle)
        ax.plot(ox, oq, color=_ORACLE, lw=1.5, ls="--", label=f"oracle (Qini = {ocoef:.1f})")
    ax.plot([0, 1], [0, q[-1]], color=_REFERENCE, ls=":", label="random targeting")
    ax.axhline(0, color="black", lw=0.5)
    ax.set(
        title="Qini curve: extra conversions from contacting the top share",
        xlabel="Share of customers contacted (highest uplift first)",
        ylabel="Incremental conversions (treated-group units)",
        xlim=(0, 1),
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return fig


def uplift_by_decile_figure(table: pd.DataFrame) -> Figure:
    """Treated and control conversion rate per score decile (from ``uplift_decile_table``)."""
    fig = Figure(figsize=(7.5, 4.5), layout="constrained")
    ax = fig.subplots()
    pos = np.arange(len(table))
    width = 0.4
    ax.bar(pos - width / 2, table["treated_rate"], width, color=_TREATED, label="contacted")
    ax.bar(pos + width / 2, table["control_rate"], width, color=_CONTROL, label="control")
    for i, value in zip(pos, table["uplift"], strict=True):
        if np.isfinite(value):
            top = np.nanmax([table["treated_rate"].iloc[i], table["control_rate"].iloc[i]])
            ax.annotate(f"{value:+.1%}", (i, top), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(pos, table["decile"].astype(str))
    ax.set(
        title="Conversion by uplift decile (label: contacted minus control)",
        xlabel="Decile of predicted uplift (1 = highest)",
        ylabel="Conversion rate",
    )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.margins(y=0.15)  # room for the labels
    ax.legend(loc="best")
    ax.grid(axis="y", alpha=0.3)
    return fig


def profit_figure(
    y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike, value: float, cost: float
) -> Figure:
    """Expected incremental profit by share contacted, the best share marked."""
    fig = Figure(figsize=(6.5, 4.5), layout="constrained")
    ax = fig.subplots()
    x, profit = profit_curve(y, treatment, uplift, value, cost)
    best = int(np.argmax(profit))
    ax.plot(x, profit, color=_MODEL, lw=2, label=f"value {value:g} per conversion, cost {cost:g}")
    ax.plot(x[best], profit[best], "o", color="tab:red")
    right = x[best] > 0.6  # keep the label inside the axes when the best share is large
    ax.annotate(
        f"best: top {x[best]:.0%}, profit {profit[best]:,.0f}",
        (x[best], profit[best]),
        textcoords="offset points",
        xytext=(-8, 8) if right else (8, 8),
        ha="right" if right else "left",
    )
    ax.axhline(0, color="black", lw=0.5)
    ax.set(
        title="Expected incremental profit of contacting the top share",
        xlabel="Share of customers contacted (highest uplift first)",
        ylabel="Incremental profit",
        xlim=(0, 1),
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="lower left")
    ax.grid(alpha=0.3)
    return fig
