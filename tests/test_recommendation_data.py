"""Interaction pairs, filters and splits: no test pair is ever in training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from growthlab.data.dataset import Columns
from growthlab.data.interactions import (
    WEIGHT,
    collapse_pairs,
    filter_min_interactions,
    holdout_last,
    holdout_mask,
    index_of,
    interaction_matrix,
)
from growthlab.data.simulator import INTERACTIONS_COLUMNS, MarketingSimulator
from growthlab.errors import UserError
from growthlab.tasks.recommendation import Recommendation

ROLES = Columns.from_mapping(INTERACTIONS_COLUMNS)


@pytest.fixture(scope="module")
def purchases() -> pd.DataFrame:
    return MarketingSimulator(5).interactions(800, 120)


def pairs_of(frame: pd.DataFrame) -> set[tuple[object, object]]:
    return set(zip(frame.iloc[:, 0], frame.iloc[:, 1], strict=True))


def test_repeats_collapse_into_one_pair_with_summed_weight_and_first_time() -> None:
    frame = pd.DataFrame(
        {
            "u": [1, 1, 1, 2],
            "i": ["x", "x", "y", "x"],
            "w": [2, 3, 1, 1],
            "t": pd.to_datetime(["2024-02-01", "2024-01-01", "2024-03-01", "2024-01-05"]),
        }
    )
    pairs = collapse_pairs(frame, "u", "i", "w", "t")
    assert len(pairs) == 3
    x = pairs[(pairs.u == 1) & (pairs.i == "x")].iloc[0]
    assert x.w == 5 and x.t == pd.Timestamp("2024-01-01")
    counted = collapse_pairs(frame, "u", "i")
    assert counted[WEIGHT].tolist() == [2.0, 1.0, 1.0]


def test_cancelled_pairs_are_dropped_and_blanks_refused() -> None:
    frame = pd.DataFrame({"u": [1, 1, 2], "i": ["x", "x", "y"], "w": [1, -1, 2]})
    assert pairs_of(collapse_pairs(frame, "u", "i", "w")) == {(2, "y")}
    with pytest.raises(UserError, match="missing values"):
        collapse_pairs(frame.assign(i=["x", None, "y"]), "u", "i")
    with pytest.raises(UserError, match="numeric"):
        collapse_pairs(frame.assign(w=["1", "a", "2"]), "u", "i", "w")


def test_min_interactions_keeps_only_users_with_enough_items() -> None:
    pairs = pd.DataFrame({"u": [1, 1, 1, 2, 2, 3], "i": list("abcabz")})
    assert sorted(filter_min_interactions(pairs, "u", 3).u.unique()) == [1]
    assert sorted(filter_min_interactions(pairs, "u", 2).u.unique()) == [1, 2]


def test_leave_last_out_holds_out_each_users_latest_items() -> None:
    users = np.array([1, 1, 1, 2, 2, 3])
    times = np.array([5, 1, 9, 3, 2, 7])
    held = holdout_last(users, times, 1)
    # user 1: time 9; user 2: time 3; user 3 has a single item and keeps it in training
    assert held.tolist() == [False, False, True, True, False, False]
    assert holdout_last(users, times, 2).tolist() == [True, False, True, False, False, False]


def test_random_holdout_is_seeded_and_takes_n_per_user(purchases: pd.DataFrame) -> None:
    pairs = filter_min_interactions(
        collapse_pairs(purchases, "customer_id", "product_id"), "customer_id", 3
    )
    first = holdout_mask(pairs, "customer_id", 2, seed=3)
    assert np.array_equal(first, holdout_mask(pairs, "customer_id", 2, seed=3))
    assert not np.array_equal(first, holdout_mask(pairs, "customer_id", 2, seed=4))
    per_user = pairs[first].groupby("customer_id").size()
    assert (per_user == 2).all() and len(per_user) == pairs.customer_id.nunique()


@pytest.mark.parametrize("timed", [True, False])
def test_prepared_splits_never_share_a_pair(purchases: pd.DataFrame, timed: bool) -> None:
    roles = ROLES if timed else Columns.from_mapping({**INTERACTIONS_COLUMNS, "time": None})
    data = Recommendation(min_interactions=4).prepare(purchases, roles)
    train, valid, test = (pairs_of(data.parts[s].X) for s in ("train", "valid", "test"))
    assert not train & test and not train & valid and not valid & test
    assert data.info["split"] == ("leave_last_out_by_time" if timed else "random_holdout_per_user")
    # every user with >= 4 items has one test and one validation item; all other pairs train
    pairs = collapse_pairs(purchases, "customer_id", "product_id")
    kept = filter_min_interactions(pairs, "customer_id", 4)
    assert len(train) + len(valid) + len(test) == len(pairs)
    for split in ("valid", "test"):
        sizes = data.parts[split].X.groupby("customer_id").size()
        assert (sizes == 1).all() and set(sizes.index) == set(kept.customer_id)
    light = set(pairs.customer_id) - set(kept.customer_id)
    assert light and light <= set(data.parts["train"].X.customer_id)
    refit = data.with_valid_in_train()
    assert pairs_of(refit.parts["train"].X) == train | valid
    assert not pairs_of(refit.parts["train"].X) & test
    assert refit.item_attributes is not None and "category" in refit.item_attributes


def test_chronological_test_items_are_each_users_latest(purchases: pd.DataFrame) -> None:
    data = Recommendation().prepare(purchases, ROLES)
    first = purchases.groupby(["customer_id", "product_id"]).timestamp.min()
    key = ["customer_id", "product_id"]
    test = data.parts["test"].X.join(first, on=key).set_index("customer_id").timestamp
    train = data.parts["train"].X.join(first, on=key).groupby("customer_id").timestamp.max()
    assert (test >= train.reindex(test.index)).all()


def test_matrix_sums_repeats_and_ignores_unknown_ids() -> None:
    users, items = index_of(np.array([1, 2])), index_of(np.array(["x", "y"]))
    matrix = interaction_matrix(
        np.array([1, 1, 2, 9]),
        np.array(["x", "x", "y", "x"]),
        np.array([1, 2, 3, 4]),
        users,
        items,
    )
    assert matrix.toarray().tolist() == [[3.0, 0.0], [0.0, 3.0]]


def test_settings_are_checked_before_data() -> None:
    for bad, match in [
        ({"k": 0}, "task.k"),
        ({"k": -3}, "task.k"),
        ({"min_interactions": 2}, "min_interactions"),
        ({"split": "sideways"}, "task.split"),
        ({"test_items": 0}, "test_items"),
    ]:
        with pytest.raises(UserError, match=match):
            Recommendation(**bad)


def test_bad_data_gives_user_errors(purchases: pd.DataFrame) -> None:
    task = Recommendation()
    with pytest.raises(UserError, match="columns.user"):
        task.prepare(purchases, Columns(item="product_id"))
    with pytest.raises(UserError, match="'buyer'"):
        task.prepare(purchases, Columns(user="buyer", item="product_id"))
    with pytest.raises(UserError, match="min_interactions"):
        Recommendation(min_interactions=200).prepare(purchases, ROLES)
    with pytest.raises(UserError, match="no rows"):
        task.prepare(purchases.head(0), ROLES)


def test_simulated_purchases_have_a_long_tail_and_are_seeded(purchases: pd.DataFrame) -> None:
    again = MarketingSimulator(5).interactions(800, 120)
    pd.testing.assert_frame_equal(purchases, again)
    assert list(purchases.columns) == [
        "customer_id",
        "product_id",
        "category",
        "quantity",
        "timestamp",
    ]
    assert purchases.timestamp.is_monotonic_increasing
    buyers = purchases.groupby("product_id").customer_id.nunique().sort_values(ascending=False)
    top_tenth = buyers.head(len(buyers) // 10).sum() / buyers.sum()
    assert top_tenth > 0.3  # the best-selling tenth of products has a third of the buyers
    assert purchases.duplicated(["customer_id", "product_id"]).mean() > 0.05  # re-purchases
    assert purchases.groupby("product_id").category.nunique().max() == 1
