"""What contacting the riskiest customers is worth."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure


def value_curve_figure(curve: pd.DataFrame, best_fraction: float, best_value: float) -> Figure:
    """Expected value of a retention campaign by share of customers contacted, best marked."""
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(
        curve["fraction"] * 100,
        curve["value"],
        lw=2,
        color="tab:blue",
        label="expected value of contacting the top k %",
    )
    ax.axhline(0, color="grey", ls=":", lw=1)
    ax.scatter(
        [best_fraction * 100],
        [best_value],
        color="tab:red",
        zorder=3,
        label=f"best: top {best_fraction:.0%} -> {best_value:,.0f}",
    )
    ax.set(
        title="Retention value curve",
        xlabel="Customers contacted (top k % by churn risk)",
        ylabel="Expected value (saved value - contact cost)",
    )
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return fig
