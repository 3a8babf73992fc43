"""Segmentation figures: sizes, a profile heatmap, a 2-D PCA map and a silhouette plot.

Arrays in, matplotlib Figure out (``Figure()``, no pyplot state), as the other plot modules.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from numpy.typing import ArrayLike


def _labels(segments: ArrayLike, names: dict[int, str], width: int = 34) -> list[str]:
    """'id: name', wrapped so long names fit beside a bar or a heatmap row."""
    return [textwrap.fill(f"{int(s)}: {names.get(int(s), 'segment')}", width) for s in segments]


def _colors(n: int) -> list[tuple[float, ...]]:
    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def sizes_figure(segments: ArrayLike, names: dict[int, str]) -> Figure:
    """Customers per segment, largest first, with the share of all customers."""
    ids, counts = np.unique(np.asarray(segments), return_counts=True)
    order = np.argsort(counts)
    fig = Figure(figsize=(9, 0.8 * len(ids) + 1.5), layout="constrained")
    ax = fig.subplots()
    bars = ax.barh(_labels(ids[order], names), counts[order], color="tab:blue")
    for bar, count in zip(bars, counts[order], strict=True):
        share = count / counts.sum()
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {share:.1%}", va="center")
    ax.set(title="Segment sizes", xlabel="Customers")
    ax.margins(x=0.15)
    return fig


def profile_heatmap_figure(
    Z: ArrayLike, segments: ArrayLike, names: dict[int, str], columns: Sequence[str]
) -> Figure:
    """Mean standardised value of each feature per segment (0 = the average customer)."""
    Z, segments = np.asarray(Z, dtype=float), np.asarray(segments)
    ids = np.unique(segments)
    means = np.array([Z[segments == s].mean(axis=0) for s in ids]).reshape(len(ids), -1)
    width, height = 4.5 + 0.6 * max(len(columns), 3), 2.5 + 0.7 * len(ids)
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.subplots()
    limit = max(float(np.abs(means).max()) if means.size else 1.0, 1e-9)
    image = ax.imshow(means, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(
        range(len(columns)), [c.replace("_", " ") for c in columns], rotation=60, ha="right"
    )
    ax.set_yticks(range(len(ids)), _labels(ids, names))
    ax.grid(False)  # a style's grid would cross the cells
    if means.size <= 400:
        for (i, j), value in np.ndenumerate(means):
            dark = abs(value) > 0.6 * limit  # white on the deep ends of the colour map
            color = "white" if dark else "black"
            ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=7, color=color)
    fig.colorbar(image, ax=ax, label="standardised mean")
    ax.set_title("Segment profiles")
    return fig


def pca_figure(Z: ArrayLike, segments: ArrayLike, names: dict[int, str]) -> Figure:
    """The customers on the first two principal components, coloured by segment."""
    Z, segments = np.asarray(Z, dtype=float), np.asarray(segments)
    centered = Z - Z.mean(axis=0)
    _, singular, vt = np.linalg.svd(centered, full_matrices=False)
    points = (
        centered @ vt[:2].T
        if vt.shape[0] >= 2
        else np.column_stack([centered[:, 0], 0 * centered[:, 0]])
    )
    explained = singular**2 / max(float(np.sum(singular**2)), 1e-12)
    fig = Figure(figsize=(7, 5.5), layout="constrained")
    ax = fig.subplots()
    ids = np.unique(segments)
    for color, s in zip(_colors(len(ids)), ids, strict=True):
        mask = segments == s
        ax.scatter(
            points[mask, 0],
            points[mask, 1],
            s=6,
            alpha=0.6,
            color=color,
            label=_labels([s], names)[0],
        )
    share = [f"{e:.0%}" for e in explained[:2]] + ["0%"] * max(0, 2 - len(explained))
    ax.set(
        title="Customers on two principal components",
        xlabel=f"PC 1 ({share[0]} of variance)",
        ylabel=f"PC 2 ({share[1]} of variance)",
    )
    ax.legend(loc="best", fontsize=7, markerscale=2)
    return fig


def silhouette_figure(values: ArrayLike, segments: ArrayLike, names: dict[int, str]) -> Figure:
    """Each customer's silhouette, sorted within its segment; the dashed line is the mean."""
    values, segments = np.asarray(values, dtype=float), np.asarray(segments)
    fig = Figure(figsize=(7, 5.5), layout="constrained")
    ax = fig.subplots()
    ids = np.unique(segments)
    low = 0
    for color, s in zip(_colors(len(ids)), ids, strict=True):
        part = np.sort(values[segments == s])
        ax.fill_betweenx(np.arange(low, low + len(part)), 0, part, color=color, alpha=0.8)
        ax.text(
            -0.02, low + len(part) / 2, _labels([s], names)[0], ha="right", va="center", fontsize=7
        )
        low += len(part) + 10
    ax.axvline(float(np.mean(values)) if len(values) else 0.0, color="grey", ls="--")
    ax.set(title="Silhouette per customer", xlabel="Silhouette", yticks=[], xlim=(-1, 1))
    return fig


def choice_figure(table: pd.DataFrame, objective: str, min_stability: float) -> Figure:
    """Separation and bootstrap stability per k of the business range, the chosen k marked."""
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    ks = table["k"].to_numpy()
    feasible = table["feasible"].to_numpy(bool)
    value = table[objective].to_numpy(float)
    ax.plot(ks[feasible], value[feasible], "o", color="tab:blue", label=f"{objective} (feasible)")
    ax.plot(ks[~feasible], value[~feasible], "x", color="tab:gray", label="infeasible (penalised)")
    ax.set(xlabel="segments (k)", ylabel=objective, title="Choosing k: separation and stability")
    right = ax.twinx()
    right.plot(ks, table["stability_ari"], "s-", color="tab:orange", label="stability ARI")
    right.axhline(min_stability, color="tab:orange", ls=":", label="stability floor")
    right.set(ylabel="bootstrap ARI", ylim=(min(0.0, table["stability_ari"].min()), 1.05))
    for k in ks[table["chosen"].to_numpy(bool)]:
        ax.axvline(k, color="tab:green", ls="--", label=f"chosen k = {k}")
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="best", fontsize=8)
    return fig
