"""Panel pieces: frequency, backtest windows, the leakage guard, the three forecasters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from growthlab.data import panel
from growthlab.data.dataset import Columns
from growthlab.data.panel import FUTURE, SERIES, TARGET, TIME
from growthlab.data.periods import PeriodIndexedFile
from growthlab.errors import UserError
from growthlab.models.forecasters import ETS, LOSSES, GlobalBoosted, SeasonalNaive, Theta
from growthlab.tasks.forecast import Forecast

ROLES = Columns(series=["shop"], time="day", target="sales", known=["promo"])


def daily_panel(n_series: int = 3, days: int = 120, seed: int = 0) -> pd.DataFrame:
    """Weekly-seasonal sales with a promotion lift and an undeclared column that leaks."""
    rng = np.random.default_rng(seed)
    frames = []
    for s in range(n_series):
        t = np.arange(days)
        promo = (rng.random(days) < 0.1).astype(float)
        sales = (50 + 10 * s) * (1 + 0.3 * np.sin(2 * np.pi * t / 7)) * (1 + 0.5 * promo)
        frames.append(
            pd.DataFrame(
                {
                    "shop": f"s{s}",
                    "day": pd.date_range("2024-01-01", periods=days, freq="D"),
                    "sales": sales + rng.normal(0, 1, days),
                    "promo": promo,
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    frame["leak"] = frame["sales"]  # not declared known: must never reach a model
    return frame


def canonical(frame: pd.DataFrame, future_from: str | None = None) -> pd.DataFrame:
    out = pd.DataFrame(
        {SERIES: frame["shop"], TIME: frame["day"], TARGET: frame["sales"], "promo": frame["promo"]}
    )
    out[FUTURE] = False if future_from is None else (frame["day"] >= future_from).to_numpy()
    return out


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (pd.date_range("2024-01-01", periods=10, freq="D"), "D"),
        (pd.date_range("2024-01-03", periods=10, freq="7D"), "W"),
        (pd.date_range("2024-01-01", periods=10, freq="MS"), "MS"),
        (pd.date_range("2024-01-31", periods=10, freq="ME"), "M"),
    ],
)
def test_frequency_is_inferred(dates: pd.DatetimeIndex, expected: str) -> None:
    assert panel.infer_frequency(pd.Series(dates)) == expected


def test_irregular_dates_name_the_setting() -> None:
    dates = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-04", "2024-01-07", "2024-01-10"]))
    with pytest.raises(UserError, match="declare task.frequency"):
        panel.infer_frequency(dates)


def test_backtest_windows_end_at_the_last_period_and_validation_before_test() -> None:
    assert panel.backtest_origins(100, horizon=7, windows=3, step=7) == [79, 86, 93]
    assert panel.backtest_origins(100, horizon=7, windows=2, step=3) == [90, 93]
    task = Forecast(horizon=7, backtest={"windows": 3, "valid_windows": 2})
    origins = task.origins(100, season=7)
    assert origins["test"] == [79, 86, 93]
    assert origins["valid"] == [65, 72]
    assert origins["valid"][-1] + 7 <= origins["test"][0]  # validation never touches test


def test_window_masks_hold_history_before_the_origin_and_h_periods_after() -> None:
    task = Forecast(horizon=7, backtest={"windows": 2, "valid_windows": 1})
    data = task.prepare(daily_panel(days=60), ROLES)
    origin = data.origins["test"][0]
    history, future = task.window(data, origin)
    times = data.frame[TIME]
    assert times[history].max() == data.times[origin - 1]
    assert times[future].min() == data.times[origin]
    assert times[future].max() == data.times[origin + 6]
    assert future.sum() == 3 * 7
    model_input, actual = task.window_input(data, origin)
    assert model_input.loc[model_input[FUTURE], TARGET].isna().all()
    np.testing.assert_allclose(actual, data.frame.loc[future, TARGET])


def test_too_short_a_history_for_the_backtest_is_refused() -> None:
    task = Forecast(horizon=14, backtest={"windows": 3, "valid_windows": 2})
    with pytest.raises(UserError, match="too short"):
        task.prepare(daily_panel(days=60), ROLES)


def test_bad_backtest_settings_fail_at_construction() -> None:
    with pytest.raises(UserError, match="refit"):
        Forecast(backtest={"refit": "sometimes"})
    with pytest.raises(UserError, match="task.frequency"):
        Forecast(frequency="Q")
    with pytest.raises(UserError, match="task.backtest.window"):
        Forecast(backtest={"window": 3})


@pytest.mark.parametrize("gap", [0, 3])
def test_features_at_t_use_targets_up_to_t_minus_one_only(gap: int) -> None:
    wide = panel.to_wide(canonical(daily_panel()), "D")
    t = 80
    before, _ = panel.features(wide, np.array([t]), (1, 7, 14), (7, 28), "D", gap)
    rng = np.random.default_rng(1)
    changed = wide.values.copy()
    changed[:, t - gap :] = rng.normal(1e6, 1e5, changed[:, t - gap :].shape)
    altered = panel.Wide(**{**wide.__dict__, "values": changed})
    after, _ = panel.features(altered, np.array([t]), (1, 7, 14), (7, 28), "D", gap)
    for name in before:
        np.testing.assert_array_equal(before[name], after[name], err_msg=name)
    # ...and the lag 1 really reads t - 1 - gap
    moved, _ = panel.features(altered, np.array([t]), (1,), (7,), "D", gap, normalize=False)
    np.testing.assert_array_equal(moved["lag_1"], changed[:, [t - gap - 1]])


def test_future_targets_given_in_the_input_are_never_read() -> None:
    frame = canonical(daily_panel(), future_from="2024-04-10")
    model = GlobalBoosted(n_estimators=20, horizon=7).fit(frame)
    blanked = frame.assign(**{TARGET: frame[TARGET].where(~frame[FUTURE])})
    np.testing.assert_array_equal(model.predict(frame), model.predict(blanked))


def test_an_undeclared_column_never_reaches_the_features() -> None:
    task = Forecast(horizon=7, backtest={"windows": 2, "valid_windows": 1})
    data = task.prepare(daily_panel(days=90), ROLES)
    assert "leak" not in data.frame.columns
    assert data.info["ignored_columns"] == "leak"
    model = task.fit(GlobalBoosted(n_estimators=10, horizon=7), data)
    assert not any("leak" in name for name in model.feature_names_)
    assert "known_promo" in model.feature_names_


def test_seasonal_naive_is_exact_on_a_purely_seasonal_series() -> None:
    frame = daily_panel(n_series=2, days=70)
    day = (frame["day"] - frame["day"].min()).dt.days
    frame["sales"] = np.array([3.0, 5.0, 8.0, 1.0, 9.0, 4.0, 2.0])[day % 7] * (
        1 + (frame["shop"] == "s1")
    )
    data = canonical(frame, future_from="2024-02-26")
    forecast = SeasonalNaive().fit(data).predict(data)
    np.testing.assert_array_equal(forecast, frame.loc[data[FUTURE], "sales"].to_numpy())


def test_seasonal_naive_falls_back_to_naive_on_a_short_history() -> None:
    frame = canonical(daily_panel(n_series=1, days=10), future_from="2024-01-06")
    forecast = SeasonalNaive().fit(frame).predict(frame)
    assert np.all(forecast == frame.loc[~frame[FUTURE], TARGET].iloc[-1])


def test_ets_runs_and_guards_short_series() -> None:
    frame = canonical(daily_panel(n_series=2, days=60), future_from="2024-02-20")
    forecast = ETS().fit(frame).predict(frame)
    actual = frame.loc[frame[FUTURE], TARGET].to_numpy()
    assert forecast.shape == actual.shape and np.isfinite(forecast).all()
    assert np.mean(np.abs(forecast - actual)) < 0.2 * np.mean(actual)
    short = canonical(daily_panel(n_series=1, days=5), future_from="2024-01-04")
    assert np.isfinite(ETS().fit(short).predict(short)).all()


def test_theta_follows_a_seasonal_trend_and_guards_short_series() -> None:
    t = np.arange(60)
    frame = pd.DataFrame(
        {
            SERIES: "a",
            TIME: pd.date_range("2020-01-01", periods=60, freq="MS"),
            TARGET: (100 + 2 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12)),
            FUTURE: t >= 48,
        }
    )
    forecast = Theta().fit(frame).predict(frame)
    actual = frame.loc[frame[FUTURE], TARGET].to_numpy()
    naive = SeasonalNaive().fit(frame).predict(frame)
    assert np.mean(np.abs(forecast - actual)) < 0.5 * np.mean(np.abs(naive - actual))
    short = canonical(daily_panel(n_series=1, days=5), future_from="2024-01-04")
    assert np.all(Theta().fit(short).predict(short) == short[TARGET].iloc[2])


def test_direct_strategy_forecasts_up_to_its_horizon() -> None:
    frame = canonical(daily_panel(), future_from="2024-04-24")  # 7 days ahead
    model = GlobalBoosted(strategy="direct", horizon=7, n_estimators=20).fit(frame)
    assert len(model.boosters_) == 7
    assert np.isfinite(model.predict(frame)).all()
    longer = canonical(daily_panel(), future_from="2024-04-20")
    with pytest.raises(UserError, match="at most 7 steps"):
        model.predict(longer)


def test_future_rows_without_their_known_drivers_are_refused() -> None:
    frame = canonical(daily_panel(), future_from="2024-04-24")
    model = GlobalBoosted(n_estimators=10, horizon=7).fit(frame)
    frame.loc[frame[FUTURE], "promo"] = np.nan
    with pytest.raises(UserError, match="known driver 'promo'"):
        model.predict(frame)


@pytest.mark.parametrize(("refit", "fits"), [("once", 1), ("every", 3)])
def test_refit_policy_fits_once_or_per_window_on_history_before_each_origin(
    refit: str, fits: int
) -> None:
    task = Forecast(horizon=7, backtest={"windows": 3, "valid_windows": 1, "refit": refit})
    data = task.prepare(daily_panel(days=90), ROLES)
    seen: list[pd.Timestamp] = []

    class Recording(SeasonalNaive):
        def fit(self, X: pd.DataFrame, y: object = None) -> Recording:
            seen.append(X[TIME].max())
            return super().fit(X)  # type: ignore[return-value]

    table = task.backtest_run(Recording, data, "test")
    assert len(seen) == fits
    origins = [data.times[o] for o in data.origins["test"]]
    for last, origin in zip(seen, origins, strict=False):
        assert last == origin - pd.Timedelta(days=1)  # the history ends the day before
    assert sorted(table["origin"].unique()) == origins
    assert table.groupby("origin")["step"].agg(["min", "max"]).eq([1, 7]).all().all()


def test_without_drivers_a_series_given_only_its_history_is_forecast_horizon_ahead() -> None:
    roles = Columns(series=["shop"], time="day", target="sales")
    task = Forecast(horizon=7, backtest={"windows": 2, "valid_windows": 1})
    frame = daily_panel(days=90)
    data = task.prepare(frame, roles)
    model = task.fit(SeasonalNaive(), data)
    out = task.predict_frame(model, frame.drop(columns=["promo", "leak"]), data.schema)
    assert list(out.columns) == ["shop", "day", "forecast"]
    assert len(out) == 3 * 7
    assert out.groupby("shop")["day"].min().eq(frame["day"].max() + pd.Timedelta(days=1)).all()
    last_week = frame[frame["day"] > frame["day"].max() - pd.Timedelta(days=7)]
    np.testing.assert_allclose(
        out.sort_values(["shop", "day"])["forecast"],
        last_week.sort_values(["shop", "day"])["sales"],
    )


@pytest.mark.parametrize(("align", "last_dates"), [("start", 2), ("end", 1)])
def test_period_numbers_become_weekly_dates(tmp_path: Path, align: str, last_dates: int) -> None:
    path = tmp_path / "weeks.csv"
    pd.DataFrame(
        {"shop": ["a"] * 4 + ["b"] * 3, "week": [1, 2, 3, 4, 1, 2, 3], "sales": range(7)}
    ).to_csv(path, index=False)
    roles = {"series": ["shop"], "time": "week", "target": "sales"}
    frame = PeriodIndexedFile("w", roles, str(path), "W", "2024-01-01", align).load()
    assert frame.loc[0, "week"] == pd.Timestamp("2024-01-01")  # the longest series' first week
    assert frame.groupby("shop")["week"].max().nunique() == last_dates
    assert frame.groupby("shop")["week"].diff().dropna().eq(pd.Timedelta(days=7)).all()
    if align == "end":
        assert frame.loc[4, "week"] == pd.Timestamp("2024-01-08")  # b's week 1 = a's week 2
    with pytest.raises(UserError, match="dataset.align"):
        PeriodIndexedFile("w", roles, str(path), align="middle")


def test_validation_reports_the_running_mase_per_window_as_higher_is_better() -> None:
    task = Forecast(horizon=7, backtest={"windows": 1, "valid_windows": 3})
    data = task.prepare(daily_panel(days=90), ROLES)
    reported: list[tuple[int, float]] = []
    metrics = task.validate(SeasonalNaive, data, lambda step, value: reported.append((step, value)))
    assert [step for step, _ in reported] == [0, 1, 2]
    # the tuner negates reports for a minimised metric, so the pruner sees the MASE itself
    assert reported[-1][1] == pytest.approx(-metrics["mase"])
    assert metrics["mase"] == pytest.approx(1.0, abs=0.6)  # the baseline, near its own scale


def test_drivers_enter_at_t_and_against_their_recent_mean() -> None:
    wide = panel.to_wide(canonical(daily_panel()), "D")
    t = 60
    found, _ = panel.features(wide, np.array([t]), (1,), (7, 28), "D")
    promo = wide.known["promo"]
    np.testing.assert_array_equal(found["known_promo"][:, 0], promo[:, t])
    expected = promo[:, t] - promo[:, t - 28 : t].mean(axis=1)
    np.testing.assert_allclose(found["change_promo"][:, 0], expected)
    assert not any("leak" in name for name in found)


def test_drivers_enter_as_they_were_k_periods_before() -> None:
    wide = panel.to_wide(canonical(daily_panel()), "D")
    t = 60
    found, _ = panel.features(wide, np.array([t]), (1,), (7,), "D", driver_lags=(1, 7))
    promo = wide.known["promo"]
    np.testing.assert_array_equal(found["before1_promo"][:, 0], promo[:, t - 1])
    np.testing.assert_array_equal(found["before7_promo"][:, 0], promo[:, t - 7])
    frame = canonical(daily_panel(), future_from="2024-04-24")
    model = GlobalBoosted(n_estimators=10, n_jobs=1, driver_lags=[1]).fit(frame)
    assert "before1_promo" in model.feature_names_
    extra = frame.assign(other=1.0)  # a driver the model was not trained on is ignored
    np.testing.assert_allclose(model.predict(extra), model.predict(frame))


def test_log_transform_learns_log1p_of_the_scaled_target_and_undoes_it() -> None:
    model = GlobalBoosted(transform="log")
    scaled = np.array([0.0, 0.5, 2.0])
    np.testing.assert_allclose(model._to_model(scaled), [0.0, np.log(1.5), np.log(3.0)])
    np.testing.assert_allclose(model._from_model(model._to_model(scaled)), scaled)
    frame = canonical(daily_panel(), future_from="2024-04-24")
    fit = {"n_estimators": 30, "n_jobs": 1}
    forecast = GlobalBoosted(**fit, transform="log").fit(frame).predict(frame)
    actual = frame.loc[frame[FUTURE], TARGET].to_numpy()
    assert np.mean(np.abs(forecast - actual)) < 0.2 * np.mean(actual)


@pytest.mark.parametrize("loss", ["absolute", "huber"])
def test_other_losses_fit_the_booster_with_their_objective(loss: str) -> None:
    frame = canonical(daily_panel(), future_from="2024-04-24")
    model = GlobalBoosted(n_estimators=10, n_jobs=1, loss=loss).fit(frame)
    assert model.boosters_[0].get_params()["objective"] == LOSSES[loss]
    assert np.isfinite(model.predict(frame)).all()


def test_the_blend_may_mix_in_ets_instead_of_the_seasonal_naive() -> None:
    frame = canonical(daily_panel(n_series=2, days=70), future_from="2024-03-04")
    history = frame[~frame[FUTURE]]
    ets = ETS(season_length=7).fit(history).predict(frame)
    fit = {"n_estimators": 10, "n_jobs": 1, "baseline": ETS(season_length=7)}
    whole = GlobalBoosted(**fit, baseline_weight=1.0).fit(history).predict(frame)
    np.testing.assert_allclose(whole, ets)
    boosted = GlobalBoosted(**fit).fit(history).predict(frame)
    half = GlobalBoosted(**fit, baseline_weight=0.5).fit(history).predict(frame)
    np.testing.assert_allclose(half, 0.5 * boosted + 0.5 * ets, rtol=1e-5)


def test_median_level_is_the_recent_median_and_ignores_a_spike() -> None:
    values = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, np.nan, 7.0, 100.0]])
    cols = np.array([0, 1, 5, 7])
    np.testing.assert_array_equal(panel.window_median(values, cols, 1, 3), [[np.nan, 1, 4, 6]])
    np.testing.assert_array_equal(
        panel.window_median(values, cols, 2, 3), [[np.nan, np.nan, 3, 4.5]]
    )
    wide = panel.to_wide(canonical(daily_panel(n_series=1)), "D")
    t = 60
    wide.values[0, t - 3] = 1e6  # a promotion spike: the mean level jumps, the median does not
    _, mean = panel.features(wide, np.array([t]), (1,), (7,), "D")
    _, median = panel.features(wide, np.array([t]), (1,), (7,), "D", level_by="median")
    assert mean[0, 0] > 1e5 and median[0, 0] == np.median(wide.values[0, t - 7 : t])


BAD_OPTIONS = {
    "level": ({"level": "mode"}, "model.level='mode'; use mean or median"),
    "loss": ({"loss": "cubic"}, "model.loss='cubic'; use squared, absolute, huber"),
    "transform": ({"transform": "sqrt"}, "model.transform='sqrt'; use log or null"),
    "driver lag": ({"driver_lags": [0]}, "must be positive periods"),
    "baseline": ({"baseline": "ets"}, "model.baseline must be a local forecaster node"),
    "negative target": ({"transform": "log"}, "never negative"),
}


@pytest.mark.parametrize("case", BAD_OPTIONS)
def test_bad_global_model_options_are_one_line(case: str) -> None:
    frame = canonical(daily_panel(n_series=1, days=40))
    if case == "negative target":
        frame.loc[5, TARGET] = -1.0
    options, hint = BAD_OPTIONS[case]
    with pytest.raises(UserError) as raised:
        GlobalBoosted(n_estimators=5, n_jobs=1, **options).fit(frame)
    assert hint in str(raised.value) and "\n" not in str(raised.value)
