"""The ratio split (75 / 25 per user, by time or at random): a hand-made split, reproduced."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from growthlab.data.dataset import Columns
from growthlab.data.interactions import holdout_share
from growthlab.errors import UserError
from growthlab.tasks.recommendation import Recommendation


def _log(n_users: int = 20) -> pd.DataFrame:
    """User u has 4 + u % 5 items (4..8), bought one a day in item order."""
    rows = []
    for u in range(n_users):
        for j in range(4 + u % 5):
            rows.append((u, f"i{j}", pd.Timestamp("2024-01-01") + pd.Timedelta(days=j)))
    # shuffled, so the split cannot lean on the file's order
    frame = pd.DataFrame(rows, columns=["user", "item", "time"])
    return frame.sample(frac=1.0, random_state=3).reset_index(drop=True)


def _items(part: pd.DataFrame, user: int) -> list[str]:
    return sorted(part.loc[part["user"] == user, "item"], key=lambda s: int(s[1:]))


def test_ratio_by_time_reproduces_a_hand_made_split() -> None:
    task = Recommendation(split="ratio", order="time", test_fraction=0.25, min_interactions=3)
    data = task.prepare(_log(), Columns(user="user", item="item", time="time"))
    test, valid, train = (data.parts[s].X for s in ("test", "valid", "train"))
    # By hand, 25 % of n items rounded (halves up), at least 1: the latest items are the
    # test; the validation takes 25 % of the rest, the latest of those.
    expected = {  # n: (test, valid) counts
        4: (1, 1),  # 4 -> test 1 (i3); rest 3 -> valid 1 (i2); train i0, i1
        5: (1, 1),  # 1.25 -> 1; rest 4 -> 1
        6: (2, 1),  # 1.5 -> 2; rest 4 -> 1
        7: (2, 1),  # 1.75 -> 2; rest 5 -> 1.25 -> 1
        8: (2, 2),  # 2 -> 2; rest 6 -> 1.5 -> 2
    }
    for u in range(20):
        n = 4 + u % 5
        n_test, n_valid = expected[n]
        items = [f"i{j}" for j in range(n)]
        assert _items(test, u) == items[n - n_test :], u
        assert _items(valid, u) == items[n - n_test - n_valid : n - n_test], u
        assert _items(train, u) == items[: n - n_test - n_valid], u
    assert data.info["split"] == "ratio_by_time"


def test_ratio_at_random_is_stratified_per_user_and_seeded() -> None:
    frame, roles = _log(), Columns(user="user", item="item")
    first = Recommendation(split="ratio", order="random", seed=7).prepare(frame, roles)
    again = Recommendation(split="ratio", order="random", seed=7).prepare(frame, roles)
    other = Recommendation(split="ratio", order="random", seed=8).prepare(frame, roles)
    pd.testing.assert_frame_equal(first.parts["test"].X, again.parts["test"].X)
    assert not first.parts["test"].X.equals(other.parts["test"].X)
    sizes = first.parts["test"].X.groupby("user").size()
    n = pd.Series({u: 4 + u % 5 for u in range(20)})
    assert (sizes == np.clip(np.floor(0.25 * n + 0.5), 1, None).astype(int)).all()
    assert first.info["split"] == "ratio_random_per_user"


def test_holdout_share_never_holds_out_all_of_a_users_items() -> None:
    pairs = pd.DataFrame({"u": [1, 1, 2], "i": ["a", "b", "a"]})
    mask = holdout_share(pairs, "u", 0.9, seed=0)
    assert mask.tolist().count(True) == 1 and not mask[2]  # user 2's only item trains


def test_older_split_spellings_still_mean_leave_last_n() -> None:
    task = Recommendation(split="time")
    assert (task.split, task.order) == ("leave_last_n", "time")


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"split": "ratio", "test_fraction": 0}, "task.test_fraction"),
        ({"split": "ratio", "test_fraction": 1.5}, "task.test_fraction"),
        ({"order": "sideways"}, "task.order"),
        ({"split": "time", "order": "random"}, "task.split=leave_last_n task.order=random"),
    ],
)
def test_bad_ratio_settings_are_one_line_errors(bad: dict, match: str) -> None:
    with pytest.raises(UserError, match=match) as error:
        Recommendation(**bad)
    assert "\n" not in str(error.value)


def test_order_by_time_needs_a_time_column() -> None:
    with pytest.raises(UserError, match="task.order=time needs dataset.columns.time"):
        Recommendation(order="time").prepare(_log(), Columns(user="user", item="item"))
