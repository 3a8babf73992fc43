"""FrameEncoder: raw marketing columns in, categories and floats (or a one-hot matrix) out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks
from xgboost import XGBClassifier

from growthlab.errors import UserError
from growthlab.models.preprocessing import FrameEncoder
from tests.conftest import API_CHECKS


def raw_frame() -> pd.DataFrame:
    """One column per input kind the encoder must type from its dtype."""
    return pd.DataFrame(
        {
            "text": ["a", "b", None, "a"],  # pandas 3: the str dtype
            "obj": pd.Series(["x", 1, None, "x"], dtype=object),
            "cat": pd.Categorical(["u", "v", "u", None]),
            "int": [1, 2, 3, 4],
            "nullable_int": pd.array([1, None, 3, 4], dtype="Int64"),
            "flag": [True, False, True, False],
            "nullable_flag": pd.array([True, None, False, True], dtype="boolean"),
            "real": [1.5, np.nan, 2.0, 3.0],
            "day": pd.to_datetime(["1970-01-02", "1970-01-03", None, "1970-01-11"]),
        }
    )


# --- dtype inference ------------------------------------------------------------------------


def test_strings_objects_and_categories_are_categorical() -> None:
    enc = FrameEncoder().fit(raw_frame())
    assert enc.categorical_ == ["text", "obj", "cat"]


def test_ints_bools_floats_and_dates_are_numeric() -> None:
    enc = FrameEncoder().fit(raw_frame())
    assert enc.numeric_ == ["int", "nullable_int", "flag", "nullable_flag", "real", "day"]


def test_output_keeps_column_order_with_category_and_float_dtypes() -> None:
    frame = raw_frame()
    out = FrameEncoder().fit_transform(frame)
    assert list(out.columns) == list(frame.columns)
    assert all(isinstance(out[c].dtype, pd.CategoricalDtype) for c in ["text", "obj", "cat"])
    assert all(out[c].dtype == np.float64 for c in FrameEncoder().fit(frame).numeric_)


def test_numeric_values_become_floats_with_missing_as_nan() -> None:
    out = FrameEncoder().fit_transform(raw_frame())
    np.testing.assert_array_equal(out["nullable_int"], [1.0, np.nan, 3.0, 4.0])
    np.testing.assert_array_equal(out["flag"], [1.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(out["nullable_flag"], [1.0, np.nan, 0.0, 1.0])


def test_dates_become_days_since_epoch() -> None:
    out = FrameEncoder().fit_transform(raw_frame())
    np.testing.assert_array_equal(out["day"], [1.0, 2.0, np.nan, 10.0])


def test_categories_are_strings_with_missing_kept_missing() -> None:
    out = FrameEncoder().fit_transform(raw_frame())
    assert out["obj"].tolist()[:2] == ["x", "1"]
    assert out["text"].isna().tolist() == [False, False, True, False]


def test_timezone_aware_dates_become_days_since_epoch() -> None:
    days = pd.Series(pd.to_datetime(["1970-01-02", "1970-01-03"]).tz_localize("UTC"))
    out = FrameEncoder().fit_transform(pd.DataFrame({"day": days}))
    np.testing.assert_array_equal(out["day"], [1.0, 2.0])


# --- forced roles ---------------------------------------------------------------------------


def test_forced_categorical_turns_numeric_codes_into_levels() -> None:
    enc = FrameEncoder(categorical=["area_code"]).fit(pd.DataFrame({"area_code": [415, 510, 415]}))
    assert enc.categorical_ == ["area_code"]
    assert enc.categories_ == {"area_code": ["415", "510"]}
    assert enc.transform(pd.DataFrame({"area_code": [510]}))["area_code"].tolist() == ["510"]


def test_forced_categorical_codes_match_whether_read_as_int_or_float() -> None:
    enc = FrameEncoder(categorical=["area_code"])
    enc.fit(pd.DataFrame({"area_code": [415.0, 510.0, np.nan]}))
    out = enc.transform(pd.DataFrame({"area_code": [415, 510]}))
    assert out["area_code"].notna().all()


def test_forced_numeric_parses_numbers_held_as_strings() -> None:
    frame = pd.DataFrame({"spend": ["1.5", "2", None]})
    enc = FrameEncoder(numeric=["spend"]).fit(frame)
    assert enc.numeric_ == ["spend"]
    np.testing.assert_array_equal(enc.transform(frame)["spend"], [1.5, 2.0, np.nan])


def test_non_numeric_value_in_declared_numeric_column_is_user_error() -> None:
    frame = pd.DataFrame({"spend": ["1.5", "lots"]})
    with pytest.raises(UserError, match=r"'spend' should be numeric but row 2 is not") as caught:
        FrameEncoder(numeric=["spend"]).fit_transform(frame)
    assert "lots" not in str(caught.value)  # rows are named, cell values never


@pytest.mark.parametrize("one_hot", [False, True])
def test_an_infinite_number_is_named_by_row(one_hot: bool) -> None:
    frame = pd.DataFrame({"spend": [1.5, 2.0, float("-inf")]}, index=[10, 11, 12])
    with pytest.raises(UserError, match=r"'spend' holds an infinite number in row 13"):
        FrameEncoder(one_hot=one_hot).fit_transform(frame)


def test_non_numeric_value_is_user_error_at_one_hot_fit() -> None:
    with pytest.raises(UserError, match="'spend'"):
        FrameEncoder(numeric=["spend"], one_hot=True).fit(pd.DataFrame({"spend": ["1", "x"]}))


# --- levels ---------------------------------------------------------------------------------


def test_unseen_level_at_transform_becomes_missing() -> None:
    enc = FrameEncoder().fit(pd.DataFrame({"channel": ["email", "seo", "email"]}))
    out = enc.transform(pd.DataFrame({"channel": ["seo", "tiktok", None]}))
    assert out["channel"].isna().tolist() == [False, True, True]
    assert list(out["channel"].cat.categories) == ["email", "seo"]


def test_categories_are_frozen_even_when_a_batch_lacks_some() -> None:
    enc = FrameEncoder().fit(pd.DataFrame({"channel": ["email", "seo", "ads"]}))
    out = enc.transform(pd.DataFrame({"channel": ["seo"]}))
    assert list(out["channel"].cat.categories) == ["ads", "email", "seo"]
    assert out["channel"].cat.codes.tolist() == [2]


def test_max_categories_folds_rare_levels_into_other() -> None:
    frame = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"]})
    enc = FrameEncoder(max_categories=2).fit(frame)
    assert enc.categories_ == {"c": ["a", "b", "__other__"]}
    out = enc.transform(pd.DataFrame({"c": ["a", "b", "c", "d", "never_seen", None]}))
    assert out["c"].tolist()[:5] == ["a", "b", "__other__", "__other__", "__other__"]
    assert pd.isna(out["c"].iloc[5])


def test_max_categories_not_reached_adds_no_other_level() -> None:
    enc = FrameEncoder(max_categories=3).fit(pd.DataFrame({"c": ["a", "b", "c", "a"]}))
    assert enc.categories_ == {"c": ["a", "b", "c"]}


# --- input checks ---------------------------------------------------------------------------


def test_missing_column_at_transform_is_user_error_naming_it() -> None:
    enc = FrameEncoder().fit(pd.DataFrame({"channel": ["a", "b"], "pages": [1, 2]}))
    with pytest.raises(UserError, match="'pages'"):
        enc.transform(pd.DataFrame({"channel": ["a"]}))


def test_extra_and_reordered_columns_at_transform_are_ignored() -> None:
    frame = pd.DataFrame({"channel": ["a", "b"], "pages": [1, 2]})
    enc = FrameEncoder().fit(frame)
    shuffled = frame.assign(extra=[0, 0])[["extra", "pages", "channel"]]
    pd.testing.assert_frame_equal(enc.transform(shuffled), enc.transform(frame))


def test_array_input_is_refused() -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        FrameEncoder().fit(np.zeros((3, 2)))


# --- one-hot --------------------------------------------------------------------------------

# color: blue, red levels (sorted) + __missing__. n: median of [1, 2, 5] = 2 fills the gap,
# giving [1, 2, 2, 5]: mean 2.5, population std sqrt((2.25 + .25 + .25 + 6.25) / 4) = 1.5.
ONE_HOT_FRAME = pd.DataFrame({"color": ["red", "blue", "red", None], "n": [1.0, 2.0, np.nan, 5.0]})
ONE_HOT_EXPECTED = np.array(
    [
        [0.0, 1.0, 0.0, (1 - 2.5) / 1.5],
        [1.0, 0.0, 0.0, (2 - 2.5) / 1.5],
        [0.0, 1.0, 0.0, (2 - 2.5) / 1.5],
        [0.0, 0.0, 1.0, (5 - 2.5) / 1.5],
    ]
)


def test_one_hot_values_by_hand() -> None:
    out = FrameEncoder(one_hot=True).fit_transform(ONE_HOT_FRAME)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, ONE_HOT_EXPECTED)


def test_one_hot_unseen_level_goes_to_missing_column_and_uses_fit_statistics() -> None:
    enc = FrameEncoder(one_hot=True).fit(ONE_HOT_FRAME)
    out = enc.transform(pd.DataFrame({"color": ["green"], "n": [np.nan]}))
    np.testing.assert_allclose(out, [[0.0, 0.0, 1.0, (2 - 2.5) / 1.5]])


def test_one_hot_constant_column_is_not_divided_by_zero() -> None:
    out = FrameEncoder(one_hot=True).fit_transform(pd.DataFrame({"n": [3.0, 3.0, np.nan]}))
    np.testing.assert_array_equal(out, [[0.0], [0.0], [0.0]])


def test_one_hot_feature_names_out() -> None:
    enc = FrameEncoder(one_hot=True).fit(ONE_HOT_FRAME)
    names = enc.get_feature_names_out()
    assert names.tolist() == ["color=blue", "color=red", "color=__missing__", "n"]
    assert len(names) == enc.transform(ONE_HOT_FRAME).shape[1]


def test_feature_names_out_without_one_hot_are_the_input_columns() -> None:
    enc = FrameEncoder().fit(raw_frame())
    assert enc.get_feature_names_out().tolist() == list(raw_frame().columns)


# --- scikit-learn integration ---------------------------------------------------------------


def leads(n: int = 200) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "channel": rng.choice(["email", "seo", "ads"], n),
            "pages": rng.integers(1, 20, n),
            "spend": rng.normal(size=n),
            "webinar": rng.random(n) < 0.3,
            "created_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, n), "D"),
        }
    )
    frame.loc[::9, "channel"] = None
    frame.loc[::11, "spend"] = np.nan
    y = ((frame["channel"] == "email") ^ (frame["spend"] > 0)).astype(int).to_numpy()
    return frame, y


PIPELINES = {
    "logistic_regression": lambda: make_pipeline(
        FrameEncoder(one_hot=True), LogisticRegression(max_iter=500)
    ),
    "xgboost": lambda: make_pipeline(
        FrameEncoder(),
        XGBClassifier(enable_categorical=True, n_estimators=20, tree_method="hist", n_jobs=1),
    ),
    "hist_gradient_boosting": lambda: make_pipeline(
        FrameEncoder(),
        HistGradientBoostingClassifier(max_iter=20, categorical_features="from_dtype"),
    ),
}


@pytest.mark.parametrize("name", PIPELINES)
def test_pipeline_fits_and_scores_raw_frames_with_unseen_levels(name: str) -> None:
    frame, y = leads()
    pipeline = PIPELINES[name]().fit(frame, y)
    scored = frame.assign(channel=frame["channel"].where(frame.index % 5 != 0, "tiktok"))
    proba = pipeline.predict_proba(scored)
    assert proba.shape == (len(frame), 2)
    assert np.isfinite(proba).all()
    assert (pipeline.predict(frame) == y).mean() > 0.7


def test_clone_keeps_parameters_and_drops_fitted_state() -> None:
    enc = FrameEncoder(categorical=["a"], numeric=["b"], one_hot=True, max_categories=7)
    enc.fit(pd.DataFrame({"a": [1, 2], "b": ["1", "2"]}))
    copy = clone(enc)
    assert copy.get_params() == enc.get_params()
    assert not hasattr(copy, "categories_")


def test_clone_of_a_pipeline_refits_to_the_same_predictions() -> None:
    frame, y = leads()
    pipeline = PIPELINES["logistic_regression"]().fit(frame, y)
    again = clone(pipeline).fit(frame, y)
    np.testing.assert_allclose(again.predict_proba(frame), pipeline.predict_proba(frame))


# The API-contract checks (tests/conftest.py), and one for transformers that needs no array fit.
@pytest.mark.parametrize("check", [*API_CHECKS, "check_transformers_unfitted"])
def test_sklearn_api_contract(check: str) -> None:
    getattr(estimator_checks, check)("FrameEncoder", FrameEncoder())
