"""Forecast figures build without pyplot, carry the expected axes, and save to PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from growthlab.plots.forecast import (
    actual_vs_forecast_figure,
    error_by_horizon_figure,
    residuals_figure,
)


def test_actual_vs_forecast_has_one_panel_per_series_and_shaded_windows(tmp_path: Path) -> None:
    times = pd.date_range("2024-01-01", periods=60, freq="D").to_numpy()
    actual = np.sin(np.arange(60))
    windows = [(times[40], times[46]), (times[47], times[53]), (times[54], times[59])]
    lines = [(f"s{k}", times, actual, times[40:], actual[40:] + 0.1, actual[33:53]) for k in (1, 2)]
    fig = actual_vs_forecast_figure(lines, windows)
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["s1", "s2"]
    assert len(axes[0].patches) == 3  # one shaded span per backtest window
    labels = axes[0].get_legend_handles_labels()[1]
    assert labels == ["actual", "forecast", "seasonal naive", "backtest windows"]
    fig.savefig(tmp_path / "actual.png")


def test_error_by_horizon_and_residuals(tmp_path: Path) -> None:
    fig = error_by_horizon_figure(np.arange(1, 8), np.linspace(1, 2, 7), np.linspace(2, 4, 7))
    ax = fig.get_axes()[0]
    assert ax.get_xlabel() == "Steps ahead" and len(ax.get_lines()) == 2
    fig.savefig(tmp_path / "horizon.png")
    residuals = np.random.default_rng(0).normal(1.0, 1.0, 500)
    fig = residuals_figure(residuals)
    ax = fig.get_axes()[0]
    assert ax.get_legend_handles_labels()[1][0] == f"mean {residuals.mean():,.2f}"
    fig.savefig(tmp_path / "residuals.png")
    residuals_figure(np.array([])).savefig(tmp_path / "empty.png")
