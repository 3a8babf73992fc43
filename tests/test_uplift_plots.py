"""Smoke tests: each uplift figure draws from a small simulated campaign and saves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from growthlab.data.simulator import MarketingSimulator
from growthlab.metrics.uplift import uplift_decile_table
from growthlab.plots.uplift import profit_figure, qini_figure, uplift_by_decile_figure


@pytest.fixture(scope="module")
def arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    frame = MarketingSimulator(0).campaign(5000)
    noisy = frame["true_uplift"] + np.random.default_rng(0).normal(0, 0.03, len(frame))
    return (
        frame["converted"].to_numpy(),
        frame["treatment"].to_numpy(),
        noisy.to_numpy(),
        frame["true_uplift"].to_numpy(),
    )


def _saves(fig: Figure, path: Path) -> None:
    assert isinstance(fig, Figure)
    fig.savefig(path)
    assert path.stat().st_size > 1000


def test_qini_figure(arrays: tuple, tmp_path: Path) -> None:
    y, t, score, oracle = arrays
    fig = qini_figure(y, t, score, oracle)
    assert len(fig.axes[0].lines) >= 3  # model, oracle, random
    _saves(fig, tmp_path / "qini.png")


def test_uplift_by_decile_figure(arrays: tuple, tmp_path: Path) -> None:
    y, t, score, _ = arrays
    fig = uplift_by_decile_figure(uplift_decile_table(y, t, score))
    assert len(fig.axes[0].patches) == 20  # a treated and a control bar per decile
    _saves(fig, tmp_path / "deciles.png")


def test_profit_figure(arrays: tuple, tmp_path: Path) -> None:
    y, t, score, _ = arrays
    fig = profit_figure(y, t, score, value=50.0, cost=0.5)
    assert "best: top" in fig.axes[0].texts[0].get_text()
    _saves(fig, tmp_path / "profit.png")
