"""Internal clustering metrics: how compact and separated segments are, and how stable.

Arrays in, floats out. X is the (n, d) matrix the segments are judged in (standardised
features), labels one segment id per row. A segmentation with fewer than two segments has no
separation to measure: the functions then return their worst value (silhouette -1,
Calinski-Harabasz 0, Davies-Bouldin +inf) instead of raising, so a bootstrap resample or a
degenerate tuning trial loses rather than crashes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from growthlab.errors import UserError

WORST = {"silhouette": -1.0, "calinski_harabasz": 0.0, "davies_bouldin": float("inf")}


def _check(X: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray, int]:
    """X as floats, labels as codes 0..k-1, and k."""
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    labels = np.asarray(labels)
    if X.ndim != 2 or len(X) != len(labels):
        raise UserError(f"X has {len(X)} rows but labels has {len(labels)}; pass one label a row")
    if len(labels) == 0:
        raise UserError("clustering metrics need at least one row")
    _, codes = np.unique(labels, return_inverse=True)
    return X, codes.ravel(), int(codes.max()) + 1


def _centroids(X: np.ndarray, codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    sizes = np.bincount(codes, minlength=k).astype(float)
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, codes, X)
    return sums / sizes[:, None], sizes


def calinski_harabasz(X: ArrayLike, labels: ArrayLike) -> float:
    """Between- over within-segment dispersion per degree of freedom: (B/(k-1)) / (W/(n-k))."""
    X, codes, k = _check(X, labels)
    n = len(X)
    if k < 2 or k >= n:
        return WORST["calinski_harabasz"]
    centroids, sizes = _centroids(X, codes, k)
    between = float(np.sum(sizes * np.sum((centroids - X.mean(axis=0)) ** 2, axis=1)))
    within = float(np.sum((X - centroids[codes]) ** 2))
    if within == 0:
        return float("inf") if between > 0 else WORST["calinski_harabasz"]
    return between * (n - k) / (within * (k - 1))


def davies_bouldin(X: ArrayLike, labels: ArrayLike) -> float:
    """Mean over segments of the worst (s_i + s_j) / d(c_i, c_j): lower is better.

    s_i is the mean distance of segment i's rows to its centroid, d the centroid distance.
    """
    X, codes, k = _check(X, labels)
    if k < 2:
        return WORST["davies_bouldin"]
    centroids, sizes = _centroids(X, codes, k)
    spread = np.bincount(
        codes, weights=np.linalg.norm(X - centroids[codes], axis=1), minlength=k
    ) / np.maximum(sizes, 1)
    gaps = np.linalg.norm(centroids[:, None, :] - centroids[None, :, :], axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = (spread[:, None] + spread[None, :]) / gaps
    ratios[gaps == 0] = np.inf  # two segments with one centroid are not separated at all
    np.fill_diagonal(ratios, -np.inf)
    return float(np.mean(np.max(ratios, axis=1)))


def silhouette_values(X: ArrayLike, labels: ArrayLike) -> np.ndarray:
    """Per row, (b - a) / max(a, b): a = mean distance to its own segment, b = to the nearest other.

    Rows alone in their segment get 0 (Rousseeuw's convention, as scikit-learn). O(n^2) memory
    and time: call it on a sample (silhouette below) for large data.
    """
    X, codes, k = _check(X, labels)
    n = len(X)
    if k < 2:
        return np.full(n, WORST["silhouette"])
    sq = np.sum(X**2, axis=1)
    distances = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0.0))
    np.fill_diagonal(distances, 0.0)
    sizes = np.bincount(codes, minlength=k).astype(float)
    sums = np.zeros((n, k))
    for segment in range(k):  # k columns of per-segment distance sums, no n x n x k array
        sums[:, segment] = distances[:, codes == segment].sum(axis=1)
    own_size = sizes[codes] - 1
    rows = np.arange(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = sums[rows, codes] / own_size
        means = sums / sizes[None, :]
    means[rows, codes] = np.inf
    b = means.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (b - a) / np.maximum(a, b)
    s[own_size == 0] = 0.0
    return np.nan_to_num(s, nan=0.0)


def silhouette(
    X: ArrayLike, labels: ArrayLike, sample_size: int | None = 2000, seed: int = 0
) -> float:
    """Mean silhouette over a seeded sample of rows (all rows when sample_size is None or >= n).

    The sample depends only on (n, sample_size, seed): two labelings of the same rows are
    judged on the same sample, which is what a paired bootstrap needs.
    """
    X, codes, k = _check(X, labels)
    if sample_size is not None and sample_size < len(X):
        rows = np.sort(np.random.default_rng(seed).permutation(len(X))[:sample_size])
        X, codes = X[rows], codes[rows]
    if len(np.unique(codes)) < 2:
        return WORST["silhouette"]
    return float(np.mean(silhouette_values(X, codes)))


def segment_shares(labels: ArrayLike) -> np.ndarray:
    """Share of rows in each segment present, in the order of the sorted segment ids."""
    _, counts = np.unique(np.asarray(labels), return_counts=True)
    return counts / counts.sum()


def min_segment_share(labels: ArrayLike) -> float:
    """Share of rows in the smallest segment present (1.0 for a single segment)."""
    if len(np.asarray(labels)) == 0:
        raise UserError("min_segment_share needs at least one label")
    return float(segment_shares(labels).min())


def adjusted_rand(labels_a: ArrayLike, labels_b: ArrayLike) -> float:
    """Adjusted Rand index: pair agreement of two labelings, 0 by chance, 1 when identical.

    ARI = (sum_ij C(n_ij, 2) - E) / (0.5 (A + B) - E), A = sum_i C(a_i, 2), B = sum_j C(b_j, 2),
    E = A B / C(n, 2), over the contingency table n_ij (Hubert and Arabie 1985).
    """
    a, b = np.asarray(labels_a), np.asarray(labels_b)
    if len(a) != len(b) or len(a) == 0:
        raise UserError("adjusted_rand needs two labelings of the same, non-empty rows")
    _, ca = np.unique(a, return_inverse=True)
    _, cb = np.unique(b, return_inverse=True)
    ca, cb = ca.ravel(), cb.ravel()
    table = np.zeros((ca.max() + 1, cb.max() + 1))
    np.add.at(table, (ca, cb), 1)

    def pairs(x: np.ndarray) -> float:
        return float(np.sum(x * (x - 1) / 2))

    index, rows, cols = pairs(table), pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    total = len(a) * (len(a) - 1) / 2
    expected = rows * cols / total if total else 0.0
    top = 0.5 * (rows + cols)
    if top == expected:
        return 1.0  # both labelings put every row together (or every row apart)
    return float((index - expected) / (top - expected))
