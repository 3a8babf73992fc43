"""Churn snapshots: features checked by hand, and proof that no feature sees its cutoff's future.

The hand-checked and leakage tests run on both engines (`engine`: pandas build_snapshots, and
growthlab.spark.snapshots on a local Spark session), and a simulated log is built by both and
compared cell by cell.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from growthlab.data.snapshots import build_snapshots, snapshot_cutoffs
from growthlab.errors import UserError
from tests.conftest import assert_same_cells

ENGINES = ["pandas", "spark"]
Builder = Callable[..., pd.DataFrame]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Builder:
    """build_snapshots of either engine: pandas in, pandas out (Spark's rows sorted as pandas's)."""
    if request.param == "pandas":
        return build_snapshots
    spark = request.getfixturevalue("spark")
    from growthlab.spark.snapshots import build_snapshots as spark_build

    def built(log: pd.DataFrame, cutoffs: list, **options: object) -> pd.DataFrame:
        frame = spark_build(spark.createDataFrame(log), cutoffs, **options).toPandas()
        frame["cutoff"] = frame["cutoff"].astype("datetime64[ns]")
        return frame.sort_values(["cutoff", options["id_col"]], ignore_index=True)

    return built


# --- a hand-made log ------------------------------------------------------------------------
# Four customers, 15 events, channels email / store / web. Cutoffs C1 = 2024-04-01 and
# C2 = 2024-05-01, horizon 30 days, windows 30 and 60 days, active window 90 days.
# Day arithmetic (2024 is a leap year):
#   C1 - 30 = 2024-03-02   C1 - 60 = 2024-02-01   C1 - 90 = 2024-01-02   C1 - 180 = 2023-10-04
#   C2 - 30 = 2024-04-01   C2 - 60 = 2024-03-02   C2 - 90 = 2024-02-01   C2 - 180 = 2023-11-03
# Label windows: [C1, 2024-05-01) and [C2, 2024-05-31).
EVENTS = [
    # customer, time, amount, channel
    ("A", "2023-12-01", 10.0, "email"),
    ("A", "2024-02-15", 20.0, "web"),
    ("A", "2024-03-10", 30.0, "email"),
    ("A", "2024-03-25", 40.0, "email"),
    ("A", "2024-04-01", 50.0, "web"),  # exactly at C1: C1's label, a feature only for C2
    ("A", "2024-05-20", 60.0, "web"),
    ("B", "2023-10-05", 100.0, "web"),
    ("B", "2024-01-10", 50.0, "web"),
    ("B", "2024-03-31 18:00", 25.0, "email"),  # a quarter day before C1
    ("C", "2023-06-01", 80.0, "store"),  # alone before C1 and older than 90 days: no C1 row
    ("C", "2024-04-15", 70.0, "store"),
    ("C", "2024-05-30 23:00", 10.0, "store"),  # last hour of C2's horizon: not churned
    ("D", "2024-04-10", 15.0, "web"),  # first event after C1: no C1 row
    ("D", "2024-04-20", 15.0, "web"),
    ("D", "2024-05-31", 15.0, "web"),  # = C2 + 30 days: just outside C2's horizon
]
C1, C2 = pd.Timestamp("2024-04-01"), pd.Timestamp("2024-05-01")
LABEL = "churned"
COLUMNS = [
    "customer",
    "cutoff",
    "recency_days",
    "tenure_days",
    "frequency_30d",
    "monetary_30d",
    "frequency_60d",
    "monetary_60d",
    "frequency_total",
    "monetary_total",
    "avg_amount",
    "trend_frequency",
    "mean_interpurchase_days",
    "share_email",
    "share_store",
    "share_web",
    "churned",
]
# trend_frequency = events in [cutoff - 90, cutoff) - events in [cutoff - 180, cutoff - 90).
EXPECTED = [
    # A at C1: before it 12-01 (10 email), 02-15 (20 web), 03-10 (30 email), 03-25 (40 email).
    #   recency 04-01 - 03-25 = 7; tenure 04-01 - 2023-12-01 = 31 + 31 + 29 + 31 = 122.
    #   30d [03-02, 04-01): 03-10, 03-25 -> 2, 70. 60d [02-01, 04-01): + 02-15 -> 3, 90.
    #   total 4, 100, avg 25. trend: 3 in [01-02, 04-01) - 1 (12-01) in [10-04, 01-02) = 2.
    #   gaps: (03-25 - 12-01) / 3 = 115 / 3. email 3/4, web 1/4. 04-01 is in [C1, 05-01): stays.
    ("A", C1, 7.0, 122.0, 2, 70.0, 3, 90.0, 4, 100.0, 25.0, 2, 115 / 3, 0.75, 0.0, 0.25, 0),
    # B at C1: 2023-10-05 (100 web), 01-10 (50 web), 03-31 18:00 (25 email).
    #   recency 0.25; tenure 2023-10-05 -> 2024-04-01 = 179. 30d and 60d: only 03-31 -> 1, 25.
    #   total 3, 175, avg 175 / 3. trend: 2 (01-10, 03-31) - 1 (10-05 >= 10-04) = 1.
    #   gaps: (178 + 0.75) / 2 = 89.375. email 1/3, web 2/3. Nothing in [04-01, 05-01): churned.
    ("B", C1, 0.25, 179.0, 1, 25.0, 1, 25.0, 3, 175.0, 175 / 3, 1, 89.375, 1 / 3, 0.0, 2 / 3, 1),
    # A at C2: the C1 events + 04-01 (50 web). recency 30; tenure 122 + 30 = 152.
    #   30d [04-01, 05-01): 04-01 (window start is inclusive) -> 1, 50.
    #   60d [03-02, 05-01): 03-10, 03-25, 04-01 -> 3, 120. total 5, 150, avg 30.
    #   trend: 4 (02-15, 03-10, 03-25, 04-01) in [02-01, 05-01) - 1 (12-01) in [11-03, 02-01) = 3.
    #   gaps: (04-01 - 12-01) / 4 = 122 / 4 = 30.5. email 3/5, web 2/5. 05-20 returns: 0.
    ("A", C2, 30.0, 152.0, 1, 50.0, 3, 120.0, 5, 150.0, 30.0, 3, 30.5, 0.6, 0.0, 0.4, 0),
    # B at C2: same three events. recency 30.25; tenure 179 + 30 = 209.
    #   30d [04-01, 05-01): none -> 0, 0. 60d [03-02, 05-01): 03-31 -> 1, 25. total 3, 175.
    #   trend: 1 (03-31) in [02-01, 05-01) - 1 (01-10; 10-05 is before 11-03) = 0. churned.
    ("B", C2, 30.25, 209.0, 0, 0.0, 1, 25.0, 3, 175.0, 175 / 3, 0, 89.375, 1 / 3, 0.0, 2 / 3, 1),
    # C at C2: 2023-06-01 (80 store), 04-15 (70 store). recency 16; tenure 335 (2023-06-01 ->
    #   2024-05-01). 30d and 60d: 04-15 -> 1, 70. total 2, 150, avg 75. trend 1 - 0 = 1.
    #   gaps: 04-15 - 2023-06-01 = 319. store 1. 05-30 23:00 is in [05-01, 05-31): not churned.
    ("C", C2, 16.0, 335.0, 1, 70.0, 1, 70.0, 2, 150.0, 75.0, 1, 319.0, 0.0, 1.0, 0.0, 0),
    # D at C2: 04-10, 04-20 (15 web each). recency 11, tenure 21, 30d and 60d: 2, 30.
    #   total 2, 30, avg 15. trend 2 - 0 = 2. gaps 10. web 1. 05-31 is outside [05-01, 05-31).
    ("D", C2, 11.0, 21.0, 2, 30.0, 2, 30.0, 2, 30.0, 15.0, 2, 10.0, 0.0, 0.0, 1.0, 1),
]


def hand_log() -> pd.DataFrame:
    frame = pd.DataFrame(EVENTS, columns=["customer", "ts", "amount", "channel"])
    frame["ts"] = pd.to_datetime(frame["ts"], format="ISO8601")
    return frame.sample(frac=1.0, random_state=0).reset_index(drop=True)  # unsorted on purpose


def hand_snapshots(
    log: pd.DataFrame, cutoffs: list[pd.Timestamp], build: Builder = build_snapshots
) -> pd.DataFrame:
    return build(
        log,
        cutoffs,
        id_col="customer",
        time_col="ts",
        amount_col="amount",
        channel_col="channel",
        horizon_days=30,
        active_window_days=90,
        windows=(30, 60),
    )


def test_hand_log_every_feature_and_label(engine: Builder) -> None:
    got = hand_snapshots(hand_log(), [C2, C1], engine)  # given out of order: rows still sorted
    expected = pd.DataFrame(EXPECTED, columns=COLUMNS)
    assert list(got.columns) == COLUMNS
    assert list(zip(got["cutoff"], got["customer"], strict=True)) == [
        (C1, "A"),
        (C1, "B"),
        (C2, "A"),
        (C2, "B"),
        (C2, "C"),
        (C2, "D"),
    ]
    for column in COLUMNS[2:]:
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-12, err_msg=column)
    counts = [c for c in COLUMNS if c.startswith("frequency") or c in ("trend_frequency", LABEL)]
    assert all(pd.api.types.is_integer_dtype(got[c]) for c in counts)


def test_single_event_has_no_interpurchase_gap() -> None:
    log = hand_log()
    log = log[log["customer"] != "B"]
    only_one = pd.DataFrame(
        {"customer": ["E"], "ts": [pd.Timestamp("2024-04-20")], "amount": [5.0], "channel": "web"}
    )
    got = hand_snapshots(pd.concat([log, only_one], ignore_index=True), [C2])
    e = got.set_index("customer").loc["E"]
    assert math.isnan(e["mean_interpurchase_days"])
    assert (e["frequency_total"], e["avg_amount"], e["churned"]) == (1, 5.0, 1)


def test_without_channel_column_there_are_no_shares() -> None:
    got = build_snapshots(
        hand_log(), [C1], id_col="customer", time_col="ts", amount_col="amount", horizon_days=30
    )
    assert not [c for c in got.columns if c.startswith("share_")]
    assert list(got["customer"]) == ["A", "B"]


# --- leakage ---------------------------------------------------------------------------------


def simulated_log(seed: int, n_customers: int = 300) -> pd.DataFrame:
    """Customers with a random start, Poisson many events, exponential gaps, gamma amounts."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(6, n_customers) + 1
    customer = np.repeat(np.arange(n_customers), counts)
    start = rng.uniform(0, 500, n_customers)[customer]
    gaps = rng.exponential(40.0, customer.size)
    block = np.concatenate([[0], np.cumsum(counts)[:-1]])[customer]
    cumulative = np.cumsum(gaps)
    days = start + cumulative - cumulative[block]  # each customer's first event at its start
    seconds = np.round(days * 86_400).astype("int64")
    return pd.DataFrame(
        {
            "cid": customer + 1000,
            "when": pd.Timestamp("2022-01-01") + pd.to_timedelta(seconds, unit="s"),
            "spend": rng.gamma(2.0, 20.0, customer.size),
            "via": rng.choice(["app", "email", "shop"], customer.size),
        }
    )


def simulated_snapshots(
    log: pd.DataFrame, cutoffs: list[pd.Timestamp], build: Builder = build_snapshots
) -> pd.DataFrame:
    return build(log, cutoffs, id_col="cid", time_col="when", amount_col="spend", channel_col="via")


def test_events_at_or_after_the_cutoff_never_change_features(engine: Builder) -> None:
    log = simulated_log(7)
    cutoffs = snapshot_cutoffs(log["when"], 90, 60, 3, history_days=180)
    rng = np.random.default_rng(8)
    for cutoff in cutoffs:
        base = simulated_snapshots(log, [cutoff], engine)
        assert len(base) > 30 and 0 < base["churned"].mean() < 1
        churners = base.loc[base["churned"] == 1, "cid"].to_numpy()[:10]
        later = rng.choice(log["cid"].unique(), 200)
        future = pd.DataFrame(
            {
                # exactly at the cutoff (churners, and strangers never seen before) ...
                "cid": np.concatenate([churners, [1, 2], later]),
                "when": [cutoff] * (churners.size + 2)
                # ... and anywhere from one second to 400 days after it
                + list(cutoff + pd.to_timedelta(rng.integers(1, 400 * 86_400, 200), unit="s")),
                "spend": 1e9,
                "via": rng.choice(["app", "email", "shop"], churners.size + 202),
            }
        )
        after = simulated_snapshots(pd.concat([log, future], ignore_index=True), [cutoff], engine)
        features = [c for c in base.columns if c != "churned"]
        pd.testing.assert_frame_equal(after[features], base[features])  # same rows, same values
        # The event AT the cutoff is future: it clears the churn label of those customers.
        flipped = after.set_index("cid").loc[churners, "churned"]
        assert (flipped == 0).all() and churners.size > 0
        assert (after["churned"] <= base["churned"]).all()


def test_all_cutoffs_at_once_match_one_at_a_time(engine: Builder) -> None:
    log = simulated_log(11)
    cutoffs = snapshot_cutoffs(log["when"], 90, 30, 4, history_days=180)
    together = simulated_snapshots(log, cutoffs, engine)
    alone = pd.concat([simulated_snapshots(log, [c], engine) for c in cutoffs], ignore_index=True)
    pd.testing.assert_frame_equal(together, alone)


# --- active filter ---------------------------------------------------------------------------


def test_active_window_is_half_open_and_needs_a_past_event(engine: Builder) -> None:
    cutoff = pd.Timestamp("2024-03-01")
    log = pd.DataFrame(
        {
            "id": ["edge", "stale", "fresh", "new", "tail"],
            "t": [
                cutoff - pd.Timedelta(days=30),  # exactly at cutoff - 30 days: active
                cutoff - pd.Timedelta(days=30, seconds=1),  # one second older: inactive
                cutoff - pd.Timedelta(seconds=1),  # active, recency 1 s
                cutoff,  # only an event AT the cutoff: no past, no row
                cutoff + pd.Timedelta(days=40),  # keeps the horizon observed
            ],
            "amount": 1.0,
        }
    )
    got = engine(
        log,
        [cutoff],
        id_col="id",
        time_col="t",
        amount_col="amount",
        horizon_days=30,
        active_window_days=30,
    )
    assert list(got["id"]) == ["edge", "fresh"]
    assert got["recency_days"].tolist() == [30.0, 1 / 86_400]


# --- cutoffs ---------------------------------------------------------------------------------

YEAR = pd.Series(
    pd.to_datetime(["2024-01-01 09:30", "2024-06-15", "2024-12-31 15:00"], format="ISO8601"),
    name="t",
)


def test_cutoffs_latest_fully_observed_then_evenly_spaced() -> None:
    # Last event on 2024-12-31, so days up to 2025-01-01 are observed: 2025-01-01 - 90 days
    # = 2024-10-03; then 30 and 60 days earlier.
    got = snapshot_cutoffs(YEAR, horizon_days=90, every_days=30, count=3)
    assert got == [
        pd.Timestamp("2024-08-04"),
        pd.Timestamp("2024-09-03"),
        pd.Timestamp("2024-10-03"),
    ]
    assert all(c == c.normalize() for c in got)


def test_latest_cutoff_is_the_last_one_with_an_observed_horizon() -> None:
    log = pd.DataFrame({"id": [1, 1, 2], "t": YEAR, "amount": [1.0, 2.0, 3.0]})
    latest = snapshot_cutoffs(YEAR, horizon_days=90, every_days=30, count=1)[0]
    kwargs = {"id_col": "id", "time_col": "t", "amount_col": "amount", "horizon_days": 90}
    assert list(build_snapshots(log, [latest], **kwargs)["id"]) == [1]  # 2 starts later
    with pytest.raises(UserError, match="horizon_days=90"):
        build_snapshots(log, [latest + pd.Timedelta(days=1)], **kwargs)


def test_horizon_past_the_data_is_a_user_error() -> None:
    with pytest.raises(UserError, match="horizon_days=400 reaches past the data"):
        snapshot_cutoffs(YEAR, horizon_days=400, every_days=30, count=1)
    # 365 days: the only cutoff would be 2024-01-02, with the 09:30 event before it: fine.
    assert snapshot_cutoffs(YEAR, horizon_days=365, every_days=30, count=1) == [
        pd.Timestamp("2024-01-02")
    ]
    with pytest.raises(UserError, match="history_days"):
        snapshot_cutoffs(YEAR, horizon_days=365, every_days=30, count=1, history_days=180)


def test_too_many_cutoffs_or_too_little_history_name_the_setting() -> None:
    with pytest.raises(UserError, match="lower count or every_days"):
        snapshot_cutoffs(YEAR, horizon_days=90, every_days=30, count=20)
    # Earliest cutoff 2024-08-04 - 180 days = 2024-02-06, inside the log: fine; 250 days: not
    # (2023-11-28; yet the latest cutoff, 2024-10-03 - 250 = 2024-01-27, would fit).
    assert len(snapshot_cutoffs(YEAR, 90, 30, 3, history_days=180)) == 3
    with pytest.raises(UserError, match="count=3"):
        snapshot_cutoffs(YEAR, 90, 30, 3, history_days=250)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"id_col": "nope"}, "column 'nope' is not in the transaction log"),
        ({"windows": (30, 30)}, "distinct"),
        ({"windows": (0,)}, "windows"),
        ({"horizon_days": 0}, "horizon_days"),
        ({"active_window_days": -1}, "active_window_days"),
    ],
)
def test_bad_settings_are_user_errors(overrides: dict, match: str) -> None:
    kwargs = {"id_col": "customer", "time_col": "ts", "amount_col": "amount"} | overrides
    with pytest.raises(UserError, match=match):
        build_snapshots(hand_log(), [C1], **kwargs)


def test_text_dates_are_a_user_error() -> None:
    log = hand_log().astype({"ts": str})
    with pytest.raises(UserError, match="pd.to_datetime"):
        build_snapshots(log, [C1], id_col="customer", time_col="ts", amount_col="amount")


def test_log_to_score_refuses_a_table_model_and_a_log_without_its_columns() -> None:
    from growthlab.data.dataset import Columns
    from growthlab.data.snapshots import log_roles, log_to_score

    log = pd.DataFrame({"customer": [1], "at": ["2024-03-01"], "spend": [9.5]})
    roles = log_roles(Columns(id="customer", time="at", amount="spend"))
    with pytest.raises(UserError, match="trained on a customer table.*leave CUTOFF unset"):
        log_to_score(log, None, "churn model")
    with pytest.raises(UserError, match="lacks column 'spend'"):
        log_to_score(log.drop(columns="spend"), roles, "segmenter")
    parsed = log_to_score(log, roles, "segmenter")
    assert pd.api.types.is_datetime64_any_dtype(parsed["at"]) and "at" in log


def test_split_cutoffs_need_three_and_positions_split_out_of_time() -> None:
    from growthlab.data.snapshots import cutoff_positions, split_cutoffs

    with pytest.raises(UserError, match="task.n_cutoffs must be at least 3"):
        split_cutoffs(YEAR, 90, 30, 2, (30,))
    cutoffs = [pd.Timestamp(d) for d in ("2024-01-01", "2024-02-01", "2024-03-01")]
    cut = np.array(["2024-01-01", "2024-03-01", "2024-02-01", "2024-01-01"], dtype="datetime64[ns]")
    got = cutoff_positions(cut, cutoffs)
    assert {k: v.tolist() for k, v in got.items()} == {"train": [0, 3], "valid": [2], "test": [1]}


# --- both engines, cell by cell ----------------------------------------------------------------


def test_spark_snapshots_equal_pandas_on_the_simulators_log(spark: object) -> None:
    from growthlab.data.simulator import SimulatedTransactions
    from growthlab.spark.snapshots import build_snapshots as spark_build

    columns = {"id": "customer_id", "time": "timestamp", "amount": "amount"}
    log = SimulatedTransactions("log", columns, n_customers=400, days=700, seed=3).read()
    cutoffs = snapshot_cutoffs(log["timestamp"], 90, 30, 4, history_days=180)
    options = {
        "id_col": "customer_id",
        "time_col": "timestamp",
        "amount_col": "amount",
        "channel_col": "channel",
    }
    expected = build_snapshots(log, cutoffs, **options)
    got = spark_build(spark.createDataFrame(log), cutoffs, **options).toPandas()
    got = got.sort_values(["cutoff", "customer_id"], ignore_index=True)
    assert len(got) == len(expected) > 500 and 0 < expected["churned"].mean() < 1
    assert_same_cells(got, expected, keys=["customer_id", "cutoff"])


# --- segmentation's table: churn's snapshot at one cutoff, everyone who bought before it ------


SEGMENT_ROLES = {"log": {"id": "cid", "time": "when", "amount": "spend", "channel": "via"}}


@pytest.fixture(params=ENGINES)
def segment_table(request: pytest.FixtureRequest) -> Callable[..., pd.DataFrame]:
    """Segmentation.table_from_log of either engine (Spark's rows sorted as pandas's)."""
    from growthlab.tasks.segmentation import Segmentation

    task = Segmentation(windows=(30, 90))
    if request.param == "pandas":
        return lambda log, cutoff: task.table_from_log(log, str(cutoff), SEGMENT_ROLES)
    spark = request.getfixturevalue("spark")

    def built(log: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
        frame = spark.createDataFrame(log)
        table = task.table_from_log_spark(frame, str(cutoff), SEGMENT_ROLES).toPandas()
        table["cutoff"] = table["cutoff"].astype("datetime64[ns]")
        return table.sort_values("cid", ignore_index=True)

    return built


def test_segmentation_table_never_sees_events_at_or_after_its_cutoff(
    segment_table: Callable[..., pd.DataFrame],
) -> None:
    log = simulated_log(7)
    cutoff = snapshot_cutoffs(log["when"], 90, 60, 2, history_days=180)[0]
    base = segment_table(log, cutoff)
    assert len(base) > 100 and base["cid"].isin(log.loc[log["when"] < cutoff, "cid"]).all()
    assert base["cid"].nunique() == log.loc[log["when"] < cutoff, "cid"].nunique()
    rng = np.random.default_rng(8)
    future = pd.DataFrame(
        {
            # at the cutoff (known customers and strangers), then up to 400 days after it
            "cid": np.concatenate(
                [base["cid"].to_numpy()[:10], [1, 2], rng.choice(base["cid"], 200)]
            ),
            "when": [cutoff] * 12
            + list(cutoff + pd.to_timedelta(rng.integers(1, 400 * 86_400, 200), unit="s")),
            "spend": 1e9,
            "via": rng.choice(log["via"].unique(), 212),
        }
    )
    after = segment_table(pd.concat([log, future], ignore_index=True), cutoff)
    pd.testing.assert_frame_equal(after, base)


def test_spark_segmentation_table_equals_pandas_on_the_simulators_log(spark: object) -> None:
    from growthlab.data.simulator import SimulatedTransactions
    from growthlab.tasks.segmentation import Segmentation

    columns = {"id": "customer_id", "time": "timestamp", "amount": "amount"}
    log = SimulatedTransactions("log", columns, n_customers=400, days=700, seed=3).read()
    roles = {"log": {**columns, "channel": "channel"}}
    task = Segmentation()
    cutoff = str(log["timestamp"].max().normalize() + pd.Timedelta(days=1))  # prepare()'s default
    expected = task.table_from_log(log, cutoff, roles)
    got = task.table_from_log_spark(spark.createDataFrame(log), cutoff, roles).toPandas()
    got = got.sort_values("customer_id", ignore_index=True)
    assert len(got) == len(expected) > 300
    got["cutoff"] = got["cutoff"].astype("datetime64[ns]")
    assert_same_cells(got, expected, keys=["customer_id", "cutoff"])
