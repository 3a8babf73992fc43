"""Train / valid / test splits: stratified at random, or out-of-time without leaking the future."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from growthlab.data.split import SPLITS, out_of_time_split, stratified_split
from growthlab.errors import UserError

N = 1000
# 10 % positives, in a fixed scattered order.
Y = np.zeros(N, dtype=int)
Y[np.random.default_rng(1).choice(N, 100, replace=False)] = 1


def assert_partition(parts: dict[str, np.ndarray], n: int) -> None:
    assert tuple(parts) == SPLITS
    together = np.concatenate(list(parts.values()))
    assert len(together) == n  # disjoint ...
    assert np.array_equal(np.sort(together), np.arange(n))  # ... and covering every row


# --- stratified -----------------------------------------------------------------------------


def test_stratified_sizes() -> None:
    parts = stratified_split(Y, valid_size=0.2, test_size=0.2, seed=0)
    assert {k: len(v) for k, v in parts.items()} == {"train": 600, "valid": 200, "test": 200}


def test_stratified_keeps_class_balance_in_every_split() -> None:
    parts = stratified_split(Y, valid_size=0.2, test_size=0.2, seed=0)
    assert {k: int(Y[v].sum()) for k, v in parts.items()} == {"train": 60, "valid": 20, "test": 20}


def test_stratified_splits_are_disjoint_and_cover_all_rows() -> None:
    assert_partition(stratified_split(Y, valid_size=0.15, test_size=0.25, seed=3), N)


def test_stratified_positions_are_sorted() -> None:
    parts = stratified_split(Y, valid_size=0.2, test_size=0.2, seed=0)
    assert all(np.array_equal(v, np.sort(v)) for v in parts.values())


def test_stratified_is_deterministic_per_seed() -> None:
    first = stratified_split(Y, valid_size=0.2, test_size=0.2, seed=7)
    again = stratified_split(Y, valid_size=0.2, test_size=0.2, seed=7)
    other = stratified_split(Y, valid_size=0.2, test_size=0.2, seed=8)
    assert all(np.array_equal(first[k], again[k]) for k in SPLITS)
    assert not np.array_equal(first["test"], other["test"])


@pytest.mark.parametrize(
    ("valid_size", "test_size"),
    [(0.0, 0.2), (0.2, 0.0), (1.0, 0.2), (-0.1, 0.2), (0.5, 0.5), (0.6, 0.5)],
)
def test_stratified_bad_sizes_are_user_error(valid_size: float, test_size: float) -> None:
    with pytest.raises(UserError, match="valid_size"):
        stratified_split(Y, valid_size=valid_size, test_size=test_size, seed=0)


# --- out of time ----------------------------------------------------------------------------


def daily_times(n_rows: int = N, n_days: int = 100, seed: int = 0) -> pd.Series:
    """Rows spread over n_days, many sharing a date, in shuffled row order, odd index labels."""
    rng = np.random.default_rng(seed)
    days = rng.integers(0, n_days, n_rows)
    times = pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")
    return pd.Series(times, index=rng.permutation(n_rows) + 10_000, name="created_at")


def test_out_of_time_orders_train_before_valid_before_test() -> None:
    times = daily_times()
    parts = out_of_time_split(times, valid_size=0.2, test_size=0.2)
    t = times.to_numpy()
    assert t[parts["train"]].max() < t[parts["valid"]].min()
    assert t[parts["valid"]].max() < t[parts["test"]].min()


def test_out_of_time_splits_are_disjoint_and_cover_all_rows() -> None:
    assert_partition(out_of_time_split(daily_times(), valid_size=0.2, test_size=0.2), N)


def test_out_of_time_sizes_are_approximately_right() -> None:
    parts = out_of_time_split(daily_times(), valid_size=0.2, test_size=0.2)
    # 100 days of ~10 rows: a cut moves at most one day's rows (~10, say < 30).
    assert abs(len(parts["train"]) - 600) < 30
    assert abs(len(parts["valid"]) - 200) < 30
    assert abs(len(parts["test"]) - 200) < 30


def test_out_of_time_never_splits_a_shared_timestamp() -> None:
    # Rows 2-7 share one day: the 0.4 / 0.4 / 0.2 cut after row 4 would land inside it.
    times = pd.Series(pd.to_datetime(["2024-01-01"] * 2 + ["2024-01-02"] * 6 + ["2024-01-03"] * 2))
    parts = out_of_time_split(times, valid_size=0.4, test_size=0.2)
    assert {k: len(v) for k, v in parts.items()} == {"train": 2, "valid": 6, "test": 2}


def test_out_of_time_uses_positions_not_index_labels() -> None:
    times = pd.Series(pd.to_datetime(["2024-03-01", "2024-01-01", "2024-02-01"]), index=[7, 8, 9])
    parts = out_of_time_split(times, valid_size=0.34, test_size=0.33)
    assert {k: v.tolist() for k, v in parts.items()} == {"train": [1], "valid": [2], "test": [0]}


def test_out_of_time_missing_dates_are_user_error() -> None:
    times = daily_times().copy()
    times.iloc[[3, 50]] = pd.NaT
    with pytest.raises(UserError, match=r"'created_at' has 2 missing dates"):
        out_of_time_split(times, valid_size=0.2, test_size=0.2)


@pytest.mark.parametrize("n_days", [1, 2])
def test_out_of_time_too_few_distinct_dates_is_user_error(n_days: int) -> None:
    with pytest.raises(UserError, match="too few distinct dates"):
        out_of_time_split(daily_times(n_days=n_days), valid_size=0.2, test_size=0.2)


def test_out_of_time_one_dominant_date_is_user_error() -> None:
    # 95 % of rows on the last day: valid and test cannot both get their own dates.
    times = pd.Series(pd.to_datetime(["2024-01-01"] * 5 + ["2024-02-01"] * 95))
    with pytest.raises(UserError, match="too few distinct dates"):
        out_of_time_split(times, valid_size=0.2, test_size=0.2)


@pytest.mark.parametrize(
    ("valid_size", "test_size"),
    [(0.0, 0.2), (0.2, 0.0), (1.0, 0.2), (-0.1, 0.2), (0.5, 0.5), (0.6, 0.5)],
)
def test_out_of_time_bad_sizes_are_user_error(valid_size: float, test_size: float) -> None:
    with pytest.raises(UserError, match="valid_size"):
        out_of_time_split(daily_times(), valid_size=valid_size, test_size=test_size)
