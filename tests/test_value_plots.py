"""Value figures build without pyplot, draw what their tables say, and save to PNG."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from growthlab.errors import UserError
from growthlab.metrics.value import calibration_table, gains_curve, tier_table
from growthlab.plots.value import tier_figure, value_calibration_figure, value_gains_figure

RNG = np.random.default_rng(0)
ACTUAL = RNG.gamma(0.4, 50.0, 300) * (RNG.uniform(size=300) < 0.5)
MODEL = ACTUAL + RNG.normal(0, 20, 300)
NAIVE = np.round(ACTUAL * RNG.uniform(0, 2, 300), -1)

CASES: dict[str, Callable[[], Figure]] = {
    "calibration": lambda: value_calibration_figure(calibration_table(ACTUAL, MODEL)),
    "tiers": lambda: tier_figure(tier_table(ACTUAL, MODEL, [0.1, 0.3, 0.6])),
    "gains": lambda: value_gains_figure(ACTUAL, {"model": MODEL, "naive": NAIVE}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_figure_builds_and_saves(name: str, tmp_path: Path) -> None:
    fig = CASES[name]()
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    out = tmp_path / f"{name}.png"
    fig.savefig(out, dpi=60)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == []


def test_calibration_bars_match_the_table() -> None:
    table = calibration_table(ACTUAL, MODEL)
    heights = [p.get_height() for p in value_calibration_figure(table).axes[0].patches]
    np.testing.assert_allclose(heights, [*table["mean_predicted"], *table["mean_actual"]])


def test_tier_bars_match_the_table() -> None:
    table = tier_table(ACTUAL, MODEL, [0.1, 0.3, 0.6])
    heights = [p.get_height() for p in tier_figure(table).axes[0].patches]
    shares = [*table["customer_share"], *table["predicted_share"], *table["actual_share"]]
    np.testing.assert_allclose(heights, shares)


def test_gains_lines_and_legend() -> None:
    ax = value_gains_figure(ACTUAL, {"model": MODEL, "naive": NAIVE}).axes[0]
    lines = ax.get_lines()
    assert len(lines) == 4  # perfect, model, naive, random
    np.testing.assert_allclose(lines[1].get_ydata(), gains_curve(ACTUAL, MODEL)[1])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[1].startswith("model (normalised Gini = 0.")
    with pytest.raises(UserError, match="at least one"):
        value_gains_figure(ACTUAL, {})
