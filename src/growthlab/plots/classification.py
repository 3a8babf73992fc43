"""Classification figures for marketing analysts.

Each function returns a matplotlib Figure made with ``Figure()`` rather than pyplot: no global
figure registry, no GUI backend, nothing to close. Save with ``fig.savefig(path)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from numpy.typing import ArrayLike
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from growthlab.errors import UserError
from growthlab.metrics.classification import check_binary, gains_curve

_MODEL = "tab:blue"
_REFERENCE = "grey"


def roc_figure(
    y_true: ArrayLike, y_score: ArrayLike, oracle_score: ArrayLike | None = None
) -> Figure:
    """ROC curve with the random diagonal, and the oracle's curve when true probabilities exist."""
    labels, scores = check_binary(y_true, y_score, "roc_figure")
    fig = Figure(figsize=(6, 5.5), layout="constrained")
    ax = fig.subplots()
    fpr, tpr, _ = roc_curve(labels, scores)
    ax.plot(
        fpr, tpr, color=_MODEL, lw=2, label=f"model (AUC = {roc_auc_score(labels, scores):.3f})"
    )
    if oracle_score is not None:
        # The oracle (true probability, simulated data only) is the best any model could do.
        _, oracle = check_binary(labels, oracle_score, "roc_figure oracle_score")
        ofpr, otpr, _ = roc_curve(labels, oracle)
        auc = roc_auc_score(labels, oracle)
        ax.plot(ofpr, otpr, color="tab:green", lw=1.5, ls="--", label=f"oracle (AUC = {auc:.3f})")
    ax.plot([0, 1], [0, 1], color=_REFERENCE, ls=":", label="random (AUC = 0.500)")
    ax.set(
        title="ROC curve: how well scores separate converters",
        xlabel="False positive rate (share of non-converters flagged)",
        ylabel="True positive rate (share of converters found)",
        xlim=(0, 1),
        ylim=(0, 1.01),
        aspect="equal",
    )
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def precision_recall_figure(y_true: ArrayLike, y_score: ArrayLike) -> Figure:
    """Precision-recall curve with the base rate, i.e. the precision of contacting at random."""
    labels, scores = check_binary(y_true, y_score, "precision_recall_figure")
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.subplots()
    precision, recall, _ = precision_recall_curve(labels, scores)
    ap = average_precision_score(labels, scores)
    # Step drawing matches how average precision sums the curve (no optimistic interpolation).
    ax.step(recall, precision, where="post", color=_MODEL, lw=2, label=f"model (AP = {ap:.3f})")
    base = labels.mean()
    ax.axhline(base, color=_REFERENCE, ls=":", label=f"random = base rate ({base:.1%})")
    ax.set(
        title="Precision-recall: conversion rate vs converters found",
        xlabel="Recall (share of converters found)",
        ylabel="Precision (conversion rate among contacted)",
        xlim=(0, 1),
        ylim=(0, 1.01),
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    return fig


def gains_figure(y_true: ArrayLike, y_score: ArrayLike) -> Figure:
    """Cumulative gains curve with random-targeting and perfect-model references."""
    labels, scores = check_binary(y_true, y_score, "gains_figure")
    x, y = gains_curve(labels, scores)
    base = labels.mean()
    fig = Figure(figsize=(6, 5.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(x, y, color=_MODEL, lw=2, label="model")
    # A perfect model puts every converter first: all are captured after contacting base_rate.
    ax.plot([0, base, 1], [0, 1, 1], color="tab:green", ls="--", label="perfect model")
    ax.plot([0, 1], [0, 1], color=_REFERENCE, ls=":", label="random targeting")
    ax.set(
        title="Cumulative gains: converters captured by top scores",
        xlabel="Share of customers contacted (highest scores first)",
        ylabel="Share of all converters captured",
        xlim=(0, 1),
        ylim=(0, 1.01),
        aspect="equal",
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def lift_by_decile_figure(table: pd.DataFrame) -> Figure:
    """Bar per bin of lift over random (from decile_table), with the no-lift line at 1."""
    missing = {"decile", "lift"} - set(table.columns)
    if missing:
        raise UserError(
            f"lift_by_decile_figure needs the output of decile_table; missing {sorted(missing)}"
        )
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    bars = ax.bar(table["decile"].astype(str), table["lift"], color=_MODEL)
    ax.bar_label(bars, fmt="{:.2f}x", padding=2, fontsize=8)
    ax.axhline(1.0, color="tab:red", ls="--", label="random targeting (lift = 1)")
    ax.set(
        title="Lift by score decile (1 = highest scores)",
        xlabel="Decile of customers ranked by score",
        ylabel="Lift (conversion rate / overall rate)",
    )
    ax.margins(y=0.12)  # room for the bar labels
    ax.legend(loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return fig


def calibration_figure(
    y_true: ArrayLike, y_score: ArrayLike, n_bins: int = 10, before: ArrayLike | None = None
) -> Figure:
    """Reliability diagram on quantile bins, with the score histogram underneath.

    `before`: the same model's scores before calibration, drawn for comparison.
    """
    labels, scores = check_binary(y_true, y_score, "calibration_figure")
    if scores.min() < 0.0 or scores.max() > 1.0:
        raise UserError("calibration_figure needs probabilities in [0, 1]; use predict_proba")
    # Quantile bins hold equal numbers of rows, so each point is equally trustworthy even when
    # scores crowd near 0 as they do for rare conversions.
    observed, predicted = calibration_curve(labels, scores, n_bins=n_bins, strategy="quantile")
    fig = Figure(figsize=(6, 6.5), layout="constrained")
    ax, hist = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    ax.plot([0, 1], [0, 1], color=_REFERENCE, ls=":", label="perfectly calibrated")
    if before is not None:
        raw_observed, raw_predicted = calibration_curve(
            labels,
            np.clip(np.asarray(before, dtype=float), 0, 1),
            n_bins=n_bins,
            strategy="quantile",
        )
        ax.plot(
            raw_predicted,
            raw_observed,
            marker="s",
            color=_REFERENCE,
            lw=1.5,
            label="before calibration",
        )
    label = "after calibration" if before is not None else "model"
    ax.plot(
        predicted,
        observed,
        marker="o",
        color=_MODEL,
        lw=2,
        label=f"{label} ({n_bins} quantile bins)",
    )
    ax.set(
        title="Calibration: predicted vs observed conversion rate",
        ylabel="Observed conversion rate",
        xlim=(0, 1),
        ylim=(0, 1.01),
    )
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    hist.hist(scores, bins=50, range=(0, 1), color=_MODEL, alpha=0.7)
    hist.set(
        title="Distribution of predicted probabilities",
        xlabel="Predicted probability",
        ylabel="Customers",
    )
    hist.grid(alpha=0.3)
    return fig


def importance_figure(
    names: Sequence[str],
    importances: ArrayLike,
    errors: ArrayLike | None = None,
    top: int = 20,
    *,
    xlabel: str = "Importance",
) -> Figure:
    """Horizontal bars of the `top` largest importances, largest at the top, optional error bars."""
    values = np.asarray(importances, dtype=np.float64).ravel()
    errs = None if errors is None else np.asarray(errors, dtype=np.float64).ravel()
    if len(names) != values.size or (errs is not None and errs.size != values.size):
        raise UserError(
            f"importance_figure got {len(names)} names, {values.size} importances"
            + ("" if errs is None else f" and {errs.size} errors")
            + "; they must have one entry per feature"
        )
    if top < 1:
        raise UserError(f"top must be at least 1, got {top!r}")
    # Stable descending order so equal importances keep the caller's feature order.
    keep = np.argsort(-values, kind="stable")[:top]
    fig = Figure(figsize=(7, 1.5 + 0.3 * keep.size), layout="constrained")
    ax = fig.subplots()
    positions = np.arange(keep.size)
    ax.barh(
        positions,
        values[keep],
        xerr=None if errs is None else errs[keep],
        color=_MODEL,
        capsize=3 if errs is not None else 0,
    )
    ax.set_yticks(positions, [str(names[i]) for i in keep])
    ax.invert_yaxis()  # barh draws the first bar at the bottom; analysts read top-down
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set(
        title=f"Feature importance (top {keep.size} of {values.size})",
        xlabel=xlabel,
        ylabel="Feature",
    )
    ax.grid(axis="x", alpha=0.3)
    return fig


def confusion_figure(counts: np.ndarray, classes: Sequence[str]) -> Figure:
    """Confusion matrix: counts and the share of each true class, true classes as rows."""
    counts = np.asarray(counts)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig = Figure(figsize=(1.6 * len(classes) + 2.5, 1.4 * len(classes) + 1.8), layout="constrained")
    ax = fig.subplots()
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            colour = "white" if shares[i, j] > 0.6 else "black"
            ax.text(
                j, i, f"{counts[i, j]}\n{shares[i, j]:.0%}", ha="center", va="center", color=colour
            )
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("Confusion matrix (share of each true class)")
    return fig
