"""Value snapshots: next-horizon spend by hand, churn's features reused, no look into the future.

The hand-checked and leakage tests run on both engines (`build`: pandas build_value_snapshots,
and growthlab.spark.value on a local Spark session), and a simulated log is built by both and
compared cell by cell.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from growthlab.data.snapshots import build_snapshots, snapshot_cutoffs
from growthlab.data.value_targets import NAIVE, PURCHASES, SPEND, build_value_snapshots
from growthlab.errors import UserError
from tests.conftest import assert_same_cells
from tests.test_snapshots import C1, C2, EVENTS, simulated_log

ENGINES = ["pandas", "spark"]
Builder = Callable[..., pd.DataFrame]


@pytest.fixture(params=ENGINES)
def build(request: pytest.FixtureRequest) -> Builder:
    """build_value_snapshots of either engine: pandas in, pandas out (Spark's rows sorted as
    pandas's)."""
    if request.param == "pandas":
        return build_value_snapshots
    spark = request.getfixturevalue("spark")
    from growthlab.spark.value import build_value_snapshots as spark_build

    def built(log: pd.DataFrame, cutoffs: list, **options: object) -> pd.DataFrame:
        frame = spark_build(spark.createDataFrame(log), cutoffs, **options).toPandas()
        frame["cutoff"] = frame["cutoff"].astype("datetime64[ns]")
        return frame.sort_values(["cutoff", options["id_col"]], ignore_index=True)

    return built


# churn's hand-made log (tests/test_snapshots.py) plus a second April purchase of A.
# Horizon 30 days: C1's window is [04-01, 05-01), C2's [05-01, 05-31).
EXTRA = [("A", "2024-04-10", 7.0, "web")]
EXPECTED = [
    # customer, cutoff, future spend, future purchases, naive = spend in the 30 days before
    ("A", C1, 57.0, 2, 70.0),  # 04-01 (50, at the cutoff: future) + 04-10 (7); 03-10 + 03-25
    ("B", C1, 0.0, 0, 25.0),  # nothing after; 03-31 18:00 before
    ("C", C1, 70.0, 1, 0.0),  # one purchase in 2023: inactive for churn, still scored here
    ("A", C2, 60.0, 1, 57.0),  # 05-20; 04-01 + 04-10
    ("B", C2, 0.0, 0, 0.0),
    ("C", C2, 10.0, 1, 70.0),  # 05-30 23:00 is inside; 04-15 before
    ("D", C2, 0.0, 0, 30.0),  # 05-31 = C2 + 30 days is outside; 04-10 + 04-20 before
]


def hand_log(extra: list[tuple] = EXTRA) -> pd.DataFrame:
    frame = pd.DataFrame(EVENTS + extra, columns=["customer", "ts", "amount", "channel"])
    frame["ts"] = pd.to_datetime(frame["ts"], format="ISO8601")
    return frame.sample(frac=1.0, random_state=1).reset_index(drop=True)


def value_snapshots(
    log: pd.DataFrame, cutoffs: list, build: Builder = build_value_snapshots, **kwargs: object
) -> pd.DataFrame:
    names = {"id_col": "customer", "time_col": "ts", "amount_col": "amount"}
    return build(log, cutoffs, **names, channel_col="channel", **kwargs)


def test_hand_log_future_spend_purchases_and_naive(build: Builder) -> None:
    got = value_snapshots(hand_log(), [C2, C1], build, horizon_days=30, windows=(60,))
    columns = ["customer", "cutoff", SPEND, PURCHASES, NAIVE]
    expected = pd.DataFrame(EXPECTED, columns=columns)
    pd.testing.assert_frame_equal(got[columns], expected, check_dtype=False)
    assert got[PURCHASES].dtype == np.int64 and got[SPEND].dtype == np.float64
    assert "churned" not in got.columns
    assert "monetary_30d" in got.columns and "monetary_60d" in got.columns  # horizon window added


def test_features_are_churns_features() -> None:
    log = hand_log()
    got = value_snapshots(log, [C1, C2], horizon_days=30)
    churn = build_snapshots(
        log,
        [C1, C2],
        id_col="customer",
        time_col="ts",
        amount_col="amount",
        channel_col="channel",
        horizon_days=30,
        active_window_days=10_000,
    ).drop(columns="churned")
    pd.testing.assert_frame_equal(got[list(churn.columns)], churn)


def test_without_labels_only_features_and_naive() -> None:
    # Scoring today: the horizon after the last cutoff is not observed, and need not be.
    log = hand_log()
    today = log["ts"].max().normalize() + pd.Timedelta(days=1)
    got = value_snapshots(log, [today], horizon_days=30, labels=False)
    assert SPEND not in got.columns and PURCHASES not in got.columns
    assert list(got["customer"]) == ["A", "B", "C", "D"]


def sim_snapshots(
    log: pd.DataFrame, cutoffs: list[pd.Timestamp], build: Builder = build_value_snapshots
) -> pd.DataFrame:
    return build(log, cutoffs, id_col="cid", time_col="when", amount_col="spend", channel_col="via")


def test_events_at_or_after_the_cutoff_never_change_features(build: Builder) -> None:
    log = simulated_log(7)
    cutoffs = snapshot_cutoffs(log["when"], 90, 60, 3, history_days=180)
    rng = np.random.default_rng(9)
    for cutoff in cutoffs:
        base = sim_snapshots(log, [cutoff], build)
        assert len(base) > 30 and 0 < (base[SPEND] > 0).mean() < 1
        buyers = base["cid"].to_numpy()[:10]
        later = rng.choice(log["cid"].unique(), 200)
        future = pd.DataFrame(
            {
                "cid": np.concatenate([buyers, [1, 2], later]),
                "when": [cutoff] * (buyers.size + 2)
                + list(cutoff + pd.to_timedelta(rng.integers(1, 400 * 86_400, 200), unit="s")),
                "spend": 1e6,
                "via": rng.choice(["app", "email", "shop"], buyers.size + 202),
            }
        )
        after = sim_snapshots(pd.concat([log, future], ignore_index=True), [cutoff], build)
        features = [c for c in base.columns if c not in (SPEND, PURCHASES)]
        pd.testing.assert_frame_equal(after[features], base[features])  # same rows, same values
        # The purchase AT the cutoff is future: it adds to those customers' labels.
        gained = (
            after.set_index("cid").loc[buyers, SPEND] - base.set_index("cid").loc[buyers, SPEND]
        )
        assert (gained >= 1e6).all()
        assert (after[PURCHASES] >= base[PURCHASES]).all()


def test_labels_end_at_the_horizon(build: Builder) -> None:
    log = simulated_log(5)
    cutoff = snapshot_cutoffs(log["when"], 90, 30, 1, history_days=180)[0]
    base = sim_snapshots(log, [cutoff], build)
    late = pd.DataFrame(
        {
            "cid": base["cid"].to_numpy()[:5],
            "when": cutoff + pd.Timedelta(days=90),  # first instant after [cutoff, cutoff + 90d)
            "spend": 1e6,
            "via": "app",
        }
    )
    after = sim_snapshots(pd.concat([log, late], ignore_index=True), [cutoff], build)
    pd.testing.assert_frame_equal(after, base)


def test_all_cutoffs_at_once_match_one_at_a_time() -> None:
    log = simulated_log(11)
    cutoffs = snapshot_cutoffs(log["when"], 90, 30, 4, history_days=180)
    together = sim_snapshots(log, cutoffs)
    alone = pd.concat([sim_snapshots(log, [c]) for c in cutoffs], ignore_index=True)
    pd.testing.assert_frame_equal(together, alone)


def test_labels_match_a_direct_sum() -> None:
    log = simulated_log(3)
    cutoffs = snapshot_cutoffs(log["when"], 90, 45, 3, history_days=180)
    got = sim_snapshots(log, cutoffs)
    for cutoff, frame in got.groupby("cutoff"):
        window = log[(log["when"] >= cutoff) & (log["when"] < cutoff + pd.Timedelta(days=90))]
        sums = window.groupby("cid")["spend"].sum().reindex(frame["cid"], fill_value=0.0)
        np.testing.assert_allclose(frame[SPEND], sums.to_numpy())
        assert frame["cid"].isin(log.loc[log["when"] < cutoff, "cid"]).all()
        assert frame["cid"].nunique() == log.loc[log["when"] < cutoff, "cid"].nunique()


def test_zoned_log() -> None:
    log = hand_log()
    log["ts"] = log["ts"].dt.tz_localize("Europe/Berlin")
    got = value_snapshots(log, [C1, C2], horizon_days=30, windows=(60,))
    assert got[SPEND].tolist() == [row[2] for row in EXPECTED]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda log: log.assign(amount=log["amount"].where(log.index != 3, -5.0)), "negative"),
        (lambda log: log.assign(amount=log["amount"].where(log.index != 3, np.nan)), "missing"),
        (lambda log: log.drop(columns="amount"), "amount"),
    ],
)
def test_bad_amounts_are_user_errors(build: Builder, change: object, message: str) -> None:
    with pytest.raises(UserError, match=message):
        value_snapshots(change(hand_log()), [C1], build, horizon_days=30)  # type: ignore[operator]


def test_horizon_past_the_data_is_a_user_error(build: Builder) -> None:
    with pytest.raises(UserError, match="future spend is unobserved"):
        value_snapshots(hand_log(), [C2], build, horizon_days=60)


# --- both engines, cell by cell ----------------------------------------------------------------


def test_spark_value_snapshots_equal_pandas_on_the_simulators_log(spark: object) -> None:
    from growthlab.data.simulator import SimulatedTransactions
    from growthlab.spark.value import build_value_snapshots as spark_build

    columns = {"id": "customer_id", "time": "timestamp", "amount": "amount"}
    log = SimulatedTransactions("log", columns, n_customers=400, days=700, seed=3).read()
    cutoffs = snapshot_cutoffs(log["timestamp"], 90, 30, 4, history_days=180)
    options = {
        "id_col": "customer_id",
        "time_col": "timestamp",
        "amount_col": "amount",
        "channel_col": "channel",
        "windows": (30, 180),  # the horizon's window (90) is added, as the naive baseline
    }
    expected = build_value_snapshots(log, cutoffs, **options)
    got = spark_build(spark.createDataFrame(log), cutoffs, **options).toPandas()
    got = got.sort_values(["cutoff", "customer_id"], ignore_index=True)
    assert len(got) == len(expected) > 500 and 0 < (expected[SPEND] > 0).mean() < 1
    assert_same_cells(got, expected, keys=["customer_id", "cutoff"])


def test_spark_scoring_table_equals_pandas(spark: object) -> None:
    from growthlab.data.simulator import SimulatedTransactions
    from growthlab.tasks.customer_value import CustomerValue

    columns = {"id": "customer_id", "time": "timestamp", "amount": "amount"}
    log = SimulatedTransactions("log", columns, n_customers=200, days=500, seed=4).read()
    schema = {"log": {**columns, "channel": "channel"}}
    task, cutoff = CustomerValue(), "2024-04-01"  # scoring: no horizon after it is needed
    expected = task.table_from_log(log, cutoff, schema)
    got = task.table_from_log_spark(spark.createDataFrame(log), cutoff, schema).toPandas()
    got = got.sort_values("customer_id", ignore_index=True)
    assert list(got.columns) == list(expected.columns) and len(got) == len(expected) > 50
    assert NAIVE not in got.columns and "cutoff_month" in got.columns
    pd.testing.assert_frame_equal(
        got.drop(columns="cutoff"), expected.drop(columns="cutoff"), check_dtype=False, atol=1e-9
    )
