"""The retention value curve, checked against numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from growthlab.errors import UserError
from growthlab.metrics.classification import top_mask
from growthlab.metrics.retention import VALUE_CURVE_COLUMNS, best_contact, value_curve

# Ten customers, four churners. Sorted by descending churn score they are:
#   rank:  1    2    3    4    5    6    7    8    9    10
#   score: .95  .85  .75  .65  .55  .45  .35  .25  .15  .05
#   churn: 1    1    0    1    0    0    1    0    0    0
# Stored shuffled, so the curve must really sort.
PERM = [3, 7, 0, 9, 5, 1, 8, 2, 6, 4]
RANK_SCORES = np.array([0.95, 0.85, 0.75, 0.65, 0.55, 0.45, 0.35, 0.25, 0.15, 0.05])
RANK_Y = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0])
SCORES, Y = RANK_SCORES[PERM], RANK_Y[PERM]
# Saving a customer is worth 100, a contact costs 5, 30 % of contacted churners stay.
ECONOMICS = {"value_per_saved_customer": 100.0, "contact_cost": 5.0, "save_rate": 0.3}


def test_value_curve_by_hand_in_tenths() -> None:
    curve = value_curve(Y, SCORES, **ECONOMICS, steps=10)
    assert list(curve.columns) == VALUE_CURVE_COLUMNS
    np.testing.assert_allclose(curve["fraction"], np.arange(11) / 10)
    assert curve["contacted"].tolist() == list(range(11))
    # cumulative churners down the ranking: 1 1 0 1 0 0 1 0 0 0
    assert curve["churners_reached"].tolist() == [0, 1, 2, 2, 3, 3, 3, 4, 4, 4, 4]
    # expected saved = reached * 0.3
    np.testing.assert_allclose(
        curve["expected_saved"], [0, 0.3, 0.6, 0.6, 0.9, 0.9, 0.9, 1.2, 1.2, 1.2, 1.2]
    )
    # value = saved * 100 - contacted * 5, e.g.
    #   1 contacted: 0.3 * 100 - 5  = 25      4 contacted: 0.9 * 100 - 20 = 70
    #   7 contacted: 1.2 * 100 - 35 = 85      10 contacted: 1.2 * 100 - 50 = 70
    np.testing.assert_allclose(curve["value"], [0, 25, 50, 45, 70, 65, 60, 85, 80, 75, 70])
    assert best_contact(curve) == pytest.approx((0.7, 85.0))


def test_fractions_between_customers_round_up_like_top_mask() -> None:
    # steps=4: 25 % of 10 = 2.5 -> 3 contacted; 75 % -> 7.5 -> 8.
    curve = value_curve(Y, SCORES, **ECONOMICS, steps=4)
    assert curve["contacted"].tolist() == [0, 3, 5, 8, 10]
    assert curve["churners_reached"].tolist() == [0, 2, 3, 4, 4]
    # 3: 0.6 * 100 - 15 = 45; 5: 0.9 * 100 - 25 = 65; 8: 1.2 * 100 - 40 = 80; 10: 70
    np.testing.assert_allclose(curve["value"], [0, 45, 65, 80, 70])
    assert best_contact(curve) == pytest.approx((0.75, 80.0))


def test_default_steps_agree_with_top_mask_at_every_fraction() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 137)
    scores = rng.integers(0, 5, 137) / 4  # many ties
    curve = value_curve(y, scores, **ECONOMICS)
    assert len(curve) == 101 and curve["fraction"].iloc[0] == 0.0
    assert curve["fraction"].iloc[-1] == 1.0 and curve["contacted"].iloc[-1] == 137
    for row in curve.iloc[1:].itertuples():
        mask = top_mask(scores, row.fraction)
        assert (row.contacted, row.churners_reached) == (mask.sum(), y[mask].sum())


def test_tied_scores_keep_row_order() -> None:
    # All scores equal: the ranking is the row order, so churners at rows 1 and 4 come in
    # at 2 and 5 contacted.
    y = np.array([0, 1, 0, 0, 1, 0, 0, 0, 0, 0])
    curve = value_curve(y, np.full(10, 0.5), **ECONOMICS, steps=10)
    assert curve["churners_reached"].tolist() == [0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2]
    reversed_rows = value_curve(y[::-1], np.full(10, 0.5), **ECONOMICS, steps=10)
    # reversed: churners at rows 5 and 8, reached at 6 and 9 contacted
    assert reversed_rows["churners_reached"].tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2]


def test_best_contact_takes_the_first_of_equal_values() -> None:
    curve = pd.DataFrame({"fraction": [0.0, 0.25, 0.5, 0.75], "value": [0.0, 10.0, 10.0, 5.0]})
    assert best_contact(curve) == (0.25, 10.0)
    # Contacts free and saves worthless: every row is worth 0, so contact nobody.
    flat = value_curve(Y, SCORES, 0.0, 0.0, 0.3, steps=10)
    assert best_contact(flat) == (0.0, 0.0)
    # Contacts too dear for any save to pay: contacting nobody is best too.
    assert best_contact(value_curve(Y, SCORES, 10.0, 5.0, 0.3, steps=10)) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"save_rate": 1.5}, "save_rate"),
        ({"contact_cost": -1.0}, "contact_cost"),
        ({"value_per_saved_customer": float("nan")}, "value_per_saved_customer"),
        ({"steps": 0}, "steps"),
    ],
)
def test_bad_economics_are_user_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(UserError, match=match):
        value_curve(Y, SCORES, **(ECONOMICS | kwargs))


def test_bad_inputs_are_user_errors() -> None:
    with pytest.raises(UserError, match="only one class"):
        value_curve(np.zeros(10), SCORES, **ECONOMICS)
    with pytest.raises(UserError, match="value_curve"):
        best_contact(pd.DataFrame())
