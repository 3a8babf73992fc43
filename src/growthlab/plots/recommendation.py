"""Recommendation figures: the model against popularity at every k, and the long tail.

Figures are made with ``Figure()`` (no pyplot, no GUI backend), like the other plot modules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

_MODEL = "tab:blue"
_BASELINE = "grey"


def metrics_at_k_figure(
    ks: Sequence[int],
    model: Mapping[str, Sequence[float]],
    baseline: Mapping[str, Sequence[float]],
) -> Figure:
    """One panel per metric (recall, NDCG, ...): the model and popularity for k = 1..K."""
    names = list(model)
    fig = Figure(figsize=(4.2 * len(names), 4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(names)))
    for ax, name in zip(axes, names, strict=True):
        ax.plot(ks, model[name], marker="o", ms=3, lw=2, color=_MODEL, label="model")
        if name in baseline:
            ax.plot(ks, baseline[name], marker="o", ms=3, lw=1.5, color=_BASELINE, ls="--",
                    label="popularity")  # fmt: skip
        ax.set(title=f"{name} at k", xlabel="k (length of the list)", ylabel=name)
        ax.grid(alpha=0.3)
        ax.legend(loc="best")
    return fig


def long_tail_figure(training_users: np.ndarray, recommended: np.ndarray) -> Figure:
    """Items by training popularity (most popular left): share of buyers vs of recommendations.

    A model that only echoes the best sellers piles its recommendations on the left.
    """
    training_users = np.asarray(training_users, dtype=float)
    recommended = np.asarray(recommended, dtype=float)
    order = np.argsort(-training_users, kind="stable")
    rank = np.arange(1, len(order) + 1)
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(rank, _share(training_users[order]), color=_BASELINE, lw=1.5,
            label="share of training interactions")  # fmt: skip
    ax.plot(rank, _share(recommended[order]), color=_MODEL, lw=1.5,
            label="share of test recommendations")  # fmt: skip
    shown = int((recommended > 0).sum())
    ax.set(
        title=f"Long tail: {shown} of {len(order)} items recommended at least once",
        xlabel="Item rank by training popularity",
        ylabel="Share",
        yscale="log",
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    return fig


def _share(values: np.ndarray) -> np.ndarray:
    """Shares of the total, with zeros masked so a log axis leaves gaps, not errors."""
    total = values.sum()
    shares = values / total if total else values
    return np.where(shares > 0, shares, np.nan)
