"""Sentiment metrics: classes against classes, and predicted against rated intensity."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike


def class_metrics(y: ArrayLike, predicted: ArrayLike) -> dict[str, float]:
    """Accuracy, macro F1 (every class counts the same) and weighted F1 (by class support)."""
    y, predicted = np.asarray(y).astype(str), np.asarray(predicted).astype(str)
    if len(y) == 0:
        return {"accuracy": float("nan"), "macro_f1": float("nan"), "weighted_f1": float("nan")}
    labels = np.unique(y)  # classes absent from y would count as F1 0 in the macro mean
    f1 = np.array([_f1(y, predicted, c) for c in labels])
    support = np.array([(y == c).sum() for c in labels])
    return {
        "accuracy": float((y == predicted).mean()),
        "macro_f1": float(f1.mean()),
        "weighted_f1": float(f1 @ support / support.sum()),
    }


def per_class(y: ArrayLike, predicted: ArrayLike, classes: Sequence[str]) -> dict[str, float]:
    """precision_<class> and recall_<class> (0 when the class is never predicted / present)."""
    y, predicted = np.asarray(y).astype(str), np.asarray(predicted).astype(str)
    out = {}
    for c in classes:
        hits = float(((y == c) & (predicted == c)).sum())
        out[f"precision_{c}"] = hits / max(int((predicted == c).sum()), 1)
        out[f"recall_{c}"] = hits / max(int((y == c).sum()), 1)
    return out


def confusion(y: ArrayLike, predicted: ArrayLike, classes: Sequence[str]) -> np.ndarray:
    """Counts: row = true class, column = predicted class, in the order of `classes`."""
    y, predicted = np.asarray(y).astype(str), np.asarray(predicted).astype(str)
    return np.array([[int(((y == t) & (predicted == p)).sum()) for p in classes] for t in classes])


def intensity_correlation(rating: ArrayLike, polarity: ArrayLike) -> float:
    """Pearson correlation of the rated intensity and the predicted polarity (nan if constant)."""
    rating, polarity = np.asarray(rating, dtype=float), np.asarray(polarity, dtype=float)
    if len(rating) < 2 or rating.std() == 0 or polarity.std() == 0:
        return float("nan")
    return float(np.corrcoef(rating, polarity)[0, 1])


def _f1(y: np.ndarray, predicted: np.ndarray, label: str) -> float:
    hits = ((y == label) & (predicted == label)).sum()
    denominator = (y == label).sum() + (predicted == label).sum()
    return float(2 * hits / denominator) if denominator else 0.0
