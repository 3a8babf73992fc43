"""Figures build without pyplot, carry the expected axes and titles, and save to PNG."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from growthlab.errors import UserError
from growthlab.metrics.classification import decile_table, gains_curve
from growthlab.plots.classification import (
    calibration_figure,
    gains_figure,
    importance_figure,
    lift_by_decile_figure,
    precision_recall_figure,
    roc_figure,
)

RNG = np.random.default_rng(0)
ORACLE = RNG.uniform(0.01, 0.6, size=400)
Y = (RNG.uniform(size=400) < ORACLE).astype(int)
SCORES = np.clip(ORACLE + RNG.normal(0, 0.1, size=400), 0, 1)

CASES: dict[str, tuple[Callable[[], Figure], list[str]]] = {
    "roc": (lambda: roc_figure(Y, SCORES), ["ROC curve"]),
    "roc_oracle": (lambda: roc_figure(Y, SCORES, oracle_score=ORACLE), ["ROC curve"]),
    "pr": (lambda: precision_recall_figure(Y, SCORES), ["Precision-recall"]),
    "gains": (lambda: gains_figure(Y, SCORES), ["Cumulative gains"]),
    "lift": (lambda: lift_by_decile_figure(decile_table(Y, SCORES)), ["Lift by score decile"]),
    "calibration": (
        lambda: calibration_figure(Y, SCORES),
        ["Calibration", "Distribution of predicted probabilities"],
    ),
    "importance": (
        lambda: importance_figure(["a", "b", "c"], [0.1, 0.3, 0.2], errors=[0.01, 0.02, 0.01]),
        ["Feature importance"],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_figure_axes_titles_and_png(name: str, tmp_path: Path) -> None:
    build, titles = CASES[name]
    fig = build()
    assert isinstance(fig, Figure)
    assert len(fig.axes) == len(titles)
    for ax, start in zip(fig.axes, titles, strict=True):
        assert ax.get_title().startswith(start)
        assert ax.get_ylabel()
    assert fig.axes[-1].get_xlabel()  # stacked axes share x; the bottom one carries the label
    out = tmp_path / f"{name}.png"
    fig.savefig(out, dpi=60)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == []  # nothing registered with pyplot


def test_roc_legend_names_oracle_auc() -> None:
    labels = [t.get_text() for t in roc_figure(Y, SCORES, ORACLE).axes[0].get_legend().get_texts()]
    assert any(t.startswith("oracle (AUC = 0.") for t in labels)
    assert any(t.startswith("random") for t in labels)


def test_gains_figure_plots_gains_curve() -> None:
    line = gains_figure(Y, SCORES).axes[0].get_lines()[0]
    x, y = gains_curve(Y, SCORES)
    np.testing.assert_array_equal(line.get_xdata(), x)
    np.testing.assert_array_equal(line.get_ydata(), y)


def test_lift_bars_match_table() -> None:
    table = decile_table(Y, SCORES, n_bins=5)
    ax = lift_by_decile_figure(table).axes[0]
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, table["lift"])
    assert [ln.get_ydata()[0] for ln in ax.get_lines()] == [1.0]  # the no-lift reference


def test_importance_largest_on_top_and_truncated() -> None:
    fig = importance_figure(["a", "b", "c", "d"], [0.1, 0.4, 0.3, 0.2], top=3)
    ax = fig.axes[0]
    # y axis is inverted, so tick order from top is the label order.
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "c", "d"]
    assert ax.yaxis_inverted()
    assert "top 3 of 4" in ax.get_title()


def test_importance_length_mismatch_is_user_error() -> None:
    with pytest.raises(UserError, match="one entry per feature"):
        importance_figure(["a", "b"], [0.1])


def test_plots_validate_labels() -> None:
    with pytest.raises(UserError, match="only one class"):
        roc_figure([1, 1], [0.2, 0.3])
