"""Train / valid / test splitters: stratified at random, or out-of-time."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from growthlab.errors import UserError

SPLITS = ("train", "valid", "test")


def stratified_split(
    y: np.ndarray, valid_size: float, test_size: float, seed: int
) -> dict[str, np.ndarray]:
    """Row positions per split, each with the same class balance."""
    _check_sizes(valid_size, test_size)
    positions = np.arange(len(y))
    rest, test = train_test_split(positions, test_size=test_size, stratify=y, random_state=seed)
    train, valid = train_test_split(
        rest, test_size=valid_size / (1 - test_size), stratify=y[rest], random_state=seed
    )
    return {"train": np.sort(train), "valid": np.sort(valid), "test": np.sort(test)}


def out_of_time_split(
    times: pd.Series, valid_size: float, test_size: float
) -> dict[str, np.ndarray]:
    """Row positions per split by time: the latest rows are the test, the ones before, valid.

    Rows sharing a timestamp never straddle two splits, so no split sees the future of another.
    """
    _check_sizes(valid_size, test_size)
    if times.isna().any():
        raise UserError(
            f"time column {times.name!r} has {int(times.isna().sum())} missing dates; "
            "fill or drop them, or remove dataset.columns.time for a random split"
        )
    order = np.argsort(times.to_numpy(), kind="stable")
    sorted_times = times.to_numpy()[order]
    n = len(order)
    valid_start = _boundary(sorted_times, int(round(n * (1 - valid_size - test_size))))
    test_start = _boundary(sorted_times, int(round(n * (1 - test_size))))
    if not 0 < valid_start < test_start < n:
        raise UserError(
            f"time column {times.name!r} has too few distinct dates for an out-of-time split; "
            "remove dataset.columns.time for a random split"
        )
    return {
        "train": np.sort(order[:valid_start]),
        "valid": np.sort(order[valid_start:test_start]),
        "test": np.sort(order[test_start:]),
    }


def _boundary(sorted_times: np.ndarray, cut: int) -> int:
    """Move a cut back to the first row of its timestamp."""
    cut = min(max(cut, 0), len(sorted_times) - 1)
    return int(np.searchsorted(sorted_times, sorted_times[cut], side="left"))


def _check_sizes(valid_size: float, test_size: float) -> None:
    if not (0 < valid_size < 1 and 0 < test_size < 1 and valid_size + test_size < 1):
        raise UserError(
            f"task.valid_size={valid_size} and task.test_size={test_size} must be in (0, 1) "
            "and leave rows for training"
        )
