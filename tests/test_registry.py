"""The registry: what a run registers, the promotion gate, @champion moves and their history."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from growthlab import handoff, registry
from growthlab.errors import UserError
from growthlab.gate import Gate, passed
from growthlab.paths import ROOT
from growthlab.runner import RunResult, run
from growthlab.tasks.lead_scoring import LeadScoring
from tests.conftest import FAST, compose_config, store_overrides

NAME = "lead_scoring-simulated_leads"  # ${task.name}-${dataset.name}
WEAK = ["model.n_estimators=2", "model.max_depth=1"]
GATE = ["registry.gate.resamples=100"]  # enough for these clear-cut cases; 10x faster
ROLLBACK_REASON = "rollback after incident"
FORCE_REASON = "try the small model on the weekend"


# --- the gate on constructed cases ----------------------------------------------------------


FLOOR = {"roc_auc": 0.6}  # as in conf/registry/default.yaml (the class has no floor by default)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


@pytest.fixture(scope="module")
def case() -> dict[str, np.ndarray]:
    """600 labelled rows (~20 % positive) and models of known quality on them."""
    rng = np.random.default_rng(0)
    y = (rng.random(600) < 0.2).astype(np.int64)
    signal = 2.0 * y - 1.0
    return {
        "y": y,
        "sharp": sigmoid(signal + rng.normal(0, 0.6, len(y)) - 1),  # AUC ~0.99
        "blurred": sigmoid(signal + rng.normal(0, 1.8, len(y)) - 1),  # AUC ~0.78
        "noise": rng.random(len(y)),  # AUC ~0.5
    }


def judge(gate: Gate, y: np.ndarray, challenger: np.ndarray, champion: Any, error: Any = None):
    checks = gate.judge(LeadScoring(), y, challenger, champion, error)
    return {
        c.check + ("." + c.metric if c.check in ("floor", "ceiling") else ""): c for c in checks
    }


def test_clearly_better_challenger_passes(case: dict[str, np.ndarray]) -> None:
    checks = judge(Gate(floors=FLOOR, resamples=200), case["y"], case["sharp"], case["blurred"])
    assert list(checks) == ["floor.roc_auc", "baseline", "champion"]
    champion = checks["champion"]
    assert champion.passed and 0 < champion.low <= champion.difference <= champion.high
    assert champion.difference == pytest.approx(champion.challenger - champion.reference)
    assert checks["baseline"].reference == 0.5 and checks["baseline"].passed
    assert passed(list(checks.values()))


def test_challenger_within_noise_fails(case: dict[str, np.ndarray]) -> None:
    """The same model with a little jitter: the improvement interval straddles zero."""
    jitter = np.random.default_rng(1).normal(0, 0.01, len(case["y"]))
    twin = np.clip(case["blurred"] + jitter, 0.001, 0.999)
    checks = judge(Gate(floors=FLOOR, resamples=200), case["y"], twin, case["blurred"])
    champion = checks["champion"]
    assert champion.low < 0 < champion.high
    assert abs(champion.difference) < 0.01
    assert not champion.passed and not passed(list(checks.values()))
    assert checks["baseline"].passed and checks["floor.roc_auc"].passed  # only the champion fails


def test_worse_challenger_fails(case: dict[str, np.ndarray]) -> None:
    checks = judge(Gate(floors=FLOOR, resamples=200), case["y"], case["blurred"], case["sharp"])
    champion = checks["champion"]
    assert champion.high < 0 and champion.difference < 0 and not champion.passed
    assert not passed(list(checks.values()))


def test_noise_fails_floor_and_baseline(case: dict[str, np.ndarray]) -> None:
    checks = judge(Gate(floors=FLOOR, resamples=200), case["y"], case["noise"], None)
    assert list(checks) == ["floor.roc_auc", "baseline"]  # no champion yet: no champion row
    assert not checks["floor.roc_auc"].passed and not checks["baseline"].passed


class TwoBaselines(LeadScoring):
    """A task with two references to beat (as uplift has random targeting and a response
    model) and two gate metrics."""

    gate_metrics = ("roc_auc", "average_precision")

    def baselines(self, y: np.ndarray, X: Any = None) -> dict[str, np.ndarray]:
        return {"base_rate": np.full(len(y), y.mean()), "noise": X["noise"].to_numpy()}


def test_every_baseline_and_gate_metric_is_a_check(case: dict[str, np.ndarray]) -> None:
    X = pd.DataFrame({"noise": case["noise"]})
    gate = Gate(floors={}, resamples=200)
    checks = gate.judge(TwoBaselines(), case["y"], case["sharp"], case["blurred"], None, X)
    rows = [(c.check, c.metric) for c in checks]
    assert rows == [
        ("base_rate", "roc_auc"),
        ("noise", "roc_auc"),
        ("champion", "roc_auc"),
        ("base_rate", "average_precision"),
        ("noise", "average_precision"),
        ("champion", "average_precision"),
    ]
    assert passed(checks)
    worse = gate.judge(TwoBaselines(), case["y"], case["noise"] * 0.99, None, None, X)
    assert not [c for c in worse if c.check == "noise" and c.passed]  # no better than noise
    listed = Gate(metric=["average_precision"], floors={}, resamples=100)
    assert listed.metrics(TwoBaselines()) == ["average_precision"]


def test_floors_and_ceilings(case: dict[str, np.ndarray]) -> None:
    task = LeadScoring()
    values = task.metrics_of(case["y"], case["blurred"])
    gate = Gate(
        floors={"roc_auc": 0.99, "lift_at_10pct": 1.0},
        ceilings={"log_loss": 10.0, "brier": 0.001},
        resamples=100,
    )
    checks = judge(gate, case["y"], case["blurred"], None)
    assert list(checks) == [
        "floor.roc_auc",
        "floor.lift_at_10pct",
        "ceiling.log_loss",
        "ceiling.brier",
        "baseline",
    ]
    assert [c.passed for c in checks.values()] == [False, True, True, False, True]
    for key in ("floor.roc_auc", "floor.lift_at_10pct", "ceiling.log_loss", "ceiling.brier"):
        check = checks[key]
        assert check.challenger == values[check.metric]
        assert check.low is None and check.difference is None
    assert checks["floor.roc_auc"].reference == 0.99
    assert not passed(list(checks.values()))
    # Exactly at the floor or the ceiling passes.
    at = Gate(
        floors={"roc_auc": values["roc_auc"]}, ceilings={"brier": values["brier"]}, resamples=100
    )
    assert all(c.passed for c in at.judge(task, case["y"], case["blurred"], None)[:2])


def test_a_minimized_metric_counts_a_lower_loss_as_an_improvement(
    case: dict[str, np.ndarray],
) -> None:
    task = LeadScoring()
    checks = judge(
        Gate(metric="log_loss", floors={}, resamples=100), case["y"], case["sharp"], case["blurred"]
    )
    champion = checks["champion"]
    loss = task.metrics_of
    assert champion.reference == pytest.approx(loss(case["y"], case["blurred"])["log_loss"])
    assert champion.difference == pytest.approx(champion.reference - champion.challenger)
    assert champion.difference > 0 and champion.low > 0 and champion.passed


@pytest.mark.parametrize(
    ("fallback", "verdict"), [("floors_and_baseline", True), ("refuse", False)]
)
def test_champion_that_cannot_score(
    case: dict[str, np.ndarray], fallback: str, verdict: bool
) -> None:
    gate = Gate(floors=FLOOR, resamples=100, fallback=fallback)
    checks = judge(gate, case["y"], case["sharp"], None, "KeyError: 'new_column'")
    champion = checks["champion"]
    assert champion.passed is verdict and champion.reference is None
    assert "KeyError: 'new_column'" in champion.note and fallback in champion.note
    assert checks["baseline"].passed and checks["floor.roc_auc"].passed
    assert passed(list(checks.values())) is verdict


@pytest.mark.parametrize(
    ("settings", "hint"),
    [
        ({"fallback": "ignore"}, "floors_and_baseline"),
        ({"confidence": 1.5}, "confidence"),
        ({"resamples": 10}, "resamples"),
    ],
)
def test_bad_gate_settings(settings: dict[str, Any], hint: str) -> None:
    with pytest.raises(UserError, match=hint):
        Gate(**settings)


def test_unknown_gate_metric_names_the_choices(case: dict[str, np.ndarray]) -> None:
    with pytest.raises(UserError, match="'auc'.*roc_auc"):
        judge(Gate(metric="auc"), case["y"], case["sharp"], None)
    with pytest.raises(UserError, match="'recall'"):
        judge(Gate(floors={"recall": 0.5}), case["y"], case["sharp"], None)


def test_defaults_come_from_the_task(case: dict[str, np.ndarray]) -> None:
    """metric and floors left null: the task's objective and floors (roc_auc >= 0.6)."""
    checks = judge(Gate(resamples=100), case["y"], case["sharp"], None)
    assert list(checks) == ["floor.roc_auc", "baseline"]
    assert checks["floor.roc_auc"].reference == LeadScoring.floors["roc_auc"]
    assert checks["baseline"].metric == LeadScoring.objective


def test_a_floor_the_holdout_cannot_measure_is_read_as_recorded(
    case: dict[str, np.ndarray],
) -> None:
    """e.g. segment stability, which needs refits: the version's test_ tag decides."""
    gate = Gate(floors={"stability": 0.8}, resamples=100)
    task = LeadScoring()
    low = gate.judge(task, case["y"], case["sharp"], None, recorded={"stability": 0.7})
    high = gate.judge(task, case["y"], case["sharp"], None, recorded={"stability": 0.9})
    assert (low[0].challenger, low[0].passed) == (0.7, False)
    assert low[0].note == "as recorded at training"
    assert (high[0].challenger, high[0].passed) == (0.9, True)


def test_a_task_without_a_baseline_skips_that_check(case: dict[str, np.ndarray]) -> None:
    class NoBaseline(LeadScoring):
        def baseline_scores(self, y: np.ndarray, X: Any = None) -> None:
            return None

    checks = Gate(floors={}, resamples=100).judge(NoBaseline(), case["y"], case["sharp"], None)
    assert checks == []


def test_recorded_metrics_read_the_test_tags() -> None:
    from growthlab.registry import recorded_metrics

    tags = {"test_roc_auc": "0.81", "test_note": "n/a", "run_id": "abc", "valid_roc_auc": "0.9"}
    assert recorded_metrics(tags) == {"roc_auc": 0.81}


# --- a real store: registration, promotion, history ------------------------------------------


def connect(store: Path) -> MlflowClient:
    uri = f"sqlite:///{store}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient()


def config(store: Path, *overrides: str):
    return compose_config([*FAST, *store_overrides(store), *overrides])


@dataclass
class Step:
    """One command of the flow: what it printed, raised, and left behind."""

    output: str
    error: str | None
    champion: str | None
    challenger: str | None
    decisions: int


@dataclass
class Flow:
    store: Path
    runs: dict[str, RunResult] = field(default_factory=dict)
    steps: dict[str, Step] = field(default_factory=dict)
    registered_after_unregistered_run: list[str] = field(default_factory=list)
    unregistered_status: str = ""

    def do(self, step: str, command: Callable[[], Any]) -> Step:
        buffer = io.StringIO()
        error = None
        with contextlib.redirect_stdout(buffer):
            try:
                command()
            except UserError as exc:
                error = str(exc)
        connect(self.store)
        self.steps[step] = Step(
            buffer.getvalue(),
            error,
            registry.alias_version(NAME, "champion"),
            registry.alias_version(NAME, "challenger"),
            len(registry.decisions(NAME)),
        )
        return self.steps[step]

    def promote(self, *overrides: str) -> None:
        handoff.promote(config(self.store, "command=promote", *GATE, *overrides))


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Flow:
    """Train, register and promote as a team would, recording each step."""
    flow = Flow(tmp_path_factory.mktemp("registry"))
    store = flow.store
    flow.runs["unregistered"] = run(config(store, "registry.register=false", *WEAK))
    client = connect(store)
    flow.registered_after_unregistered_run = [m.name for m in client.search_registered_models()]
    flow.unregistered_status = client.get_run(flow.runs["unregistered"].run_id).info.status
    flow.runs["v1"] = run(config(store))
    flow.do("trained v1", lambda: None)
    flow.do("promote v1", flow.promote)
    flow.runs["v2"] = run(config(store, *WEAK))
    flow.do("trained v2", lambda: None)
    flow.do("promote weak v2", flow.promote)
    flow.do("force without reason", lambda: flow.promote("registry.force=true"))
    flow.do(
        "force v2", lambda: flow.promote("registry.force=true", f"registry.reason={FORCE_REASON}")
    )
    flow.do(
        "rollback to v1",
        lambda: flow.promote(
            "registry.version=1", "registry.force=true", f"registry.reason={ROLLBACK_REASON}"
        ),
    )
    flow.do("promote v1 again", lambda: flow.promote("registry.version=1"))
    return flow


def test_register_false_registers_nothing(flow: Flow) -> None:
    client = connect(flow.store)
    unregistered = flow.runs["unregistered"]
    assert flow.registered_after_unregistered_run == []
    assert flow.unregistered_status == "FINISHED"
    assert client.search_model_versions(f"run_id = '{unregistered.run_id}'") == []
    assert unregistered.model_uri.startswith("models:/")  # the model is still logged in the run


def test_registration_tags_and_challenger_alias(flow: Flow) -> None:
    client = connect(flow.store)
    for label, number in (("v1", "1"), ("v2", "2")):
        result = flow.runs[label]
        version = client.get_model_version(NAME, number)
        run_tags = client.get_run(result.run_id).data.tags
        assert version.run_id == result.run_id
        assert version.tags["run_id"] == result.run_id
        for key in ("data_digest", "config_hash", "git_commit", "version.growthlab"):
            assert version.tags[key] == run_tags[key] and version.tags[key]
        for metric in ("test_roc_auc", "test_average_precision", "test_log_loss"):
            assert float(version.tags[metric]) == round(result.metrics[metric], 6)
        assert not any(k.startswith("valid_") for k in version.tags)
    assert flow.runs["v1"].metrics["test_roc_auc"] > flow.runs["v2"].metrics["test_roc_auc"]
    assert flow.steps["trained v1"].challenger == "1"
    assert flow.steps["trained v1"].champion is None  # registering never touches @champion
    assert flow.steps["trained v2"].challenger == "2"
    assert flow.steps["trained v2"].champion == "1"
    assert (
        client.get_run(flow.runs["v1"].run_id).data.tags["data_digest"]
        == client.get_run(flow.runs["v2"].run_id).data.tags["data_digest"]
    )
    assert (
        client.get_model_version(NAME, "1").tags["config_hash"]
        != (client.get_model_version(NAME, "2").tags["config_hash"])
    )


def test_first_promotion_passes_on_floors_and_baseline(flow: Flow) -> None:
    step = flow.steps["promote v1"]
    assert step.error is None
    assert step.champion == "1" and step.decisions == 1
    assert "champion (none yet)" in step.output
    rows = [line.split()[0] for line in table_lines(step.output)]
    assert rows == ["floor", "baseline"]  # nothing to beat yet but the floors and baseline
    assert all(line.rstrip().endswith("pass") for line in table_lines(step.output))
    assert "@champion -> v1" in step.output


def test_weaker_challenger_is_refused_and_champion_stays(flow: Flow) -> None:
    step = flow.steps["promote weak v2"]
    assert step.error is not None and "v2 did not pass the gate" in step.error
    assert "@champion stays v1" in step.error and "FORCE=1" in step.error
    assert step.champion == "1" and step.decisions == 2
    rows = {line.split()[0]: line for line in table_lines(step.output)}
    assert rows["champion"].rstrip().endswith("FAIL")
    assert "@champion ->" not in step.output


def test_force_without_reason_changes_nothing(flow: Flow) -> None:
    before, step = flow.steps["promote weak v2"], flow.steps["force without reason"]
    assert step.error is not None and "FORCE needs a reason" in step.error
    assert (step.champion, step.challenger, step.decisions) == (
        before.champion,
        before.challenger,
        before.decisions,
    )
    assert step.output == ""


def test_forced_promotion_and_rollback_move_the_alias(flow: Flow) -> None:
    forced = flow.steps["force v2"]
    assert forced.error is None and forced.champion == "2" and forced.decisions == 3
    assert "@champion -> v2 (forced)" in forced.output
    rollback = flow.steps["rollback to v1"]
    assert rollback.error is None and rollback.champion == "1" and rollback.decisions == 4
    assert "challenger v1 vs champion v2" in rollback.output
    assert "@champion -> v1 (forced)" in rollback.output
    assert rollback.challenger == "2"  # promoting a VERSION leaves @challenger where it was


def test_already_champion_changes_nothing(flow: Flow) -> None:
    step = flow.steps["promote v1 again"]
    assert step.error is not None and "already the champion" in step.error
    assert (step.champion, step.decisions) == ("1", 4)


def test_decisions_are_recorded_in_order(flow: Flow) -> None:
    connect(flow.store)
    records = registry.decisions(NAME)[:4]
    expected = [
        # version, previous, verdict, forced, reason, moved
        ("1", None, "pass", False, "", True),
        ("2", "1", "fail", False, "", False),
        ("2", "1", "fail", True, FORCE_REASON, True),
        ("1", "2", "pass", True, ROLLBACK_REASON, True),
    ]
    found = [
        (r["version"], r["previous_champion"], r["verdict"], r["forced"], r["reason"], r["moved"])
        for r in records
    ]
    assert found == expected
    times = [dt.datetime.fromisoformat(r["time"]) for r in records]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)
    for record in records:
        assert record["action"] == "promote"
        assert record["metrics"]["floor.roc_auc"] > 0.6
        assert "baseline.roc_auc" in record["metrics"]


def test_history_prints_every_decision_in_order(
    flow: Flow, capsys: pytest.CaptureFixture[str]
) -> None:
    handoff.history(config(flow.store, "command=history"))
    lines = capsys.readouterr().out.strip().splitlines()
    records = registry.decisions(NAME)
    assert lines[0].split() == [
        "time",
        "version",
        "previous",
        "verdict",
        "forced",
        "moved",
        "status",
        "reason",
    ]
    assert len(lines) == 1 + len(records) >= 5
    shown = [line.split(None, 7) for line in lines[1:5]]
    assert [row[1:7] for row in shown] == [
        ["v1", "-", "pass", "no", "yes", "done"],
        ["v2", "v1", "fail", "no", "no", "done"],
        ["v2", "v1", "fail", "yes", "yes", "done"],
        ["v1", "v2", "pass", "yes", "yes", "done"],
    ]
    assert shown[2][7] == FORCE_REASON and shown[3][7] == ROLLBACK_REASON
    assert [row[0] for row in shown] == [r["time"] for r in records[:4]]


def test_history_without_decisions(flow: Flow, capsys: pytest.CaptureFixture[str]) -> None:
    client = connect(flow.store)
    if not list(client.search_registered_models(filter_string="name = 'quiet'")):
        client.create_registered_model("quiet")
    handoff.history(config(flow.store, "command=history", "registry.model_name=quiet"))
    assert "quiet: no promotion decisions yet" in capsys.readouterr().out


# --- errors: one UserError and nothing changed -----------------------------------------------


def snapshot(store: Path) -> dict[str, Any]:
    """Everything a failed command must leave as it was: models, versions, aliases, runs."""
    client = connect(store)
    models = {}
    for model in client.search_registered_models():
        found = client.get_registered_model(model.name)
        versions = client.search_model_versions(f"name = '{model.name}'")
        models[model.name] = (
            dict(found.aliases),
            dict(found.tags),
            sorted((v.version, v.run_id) for v in versions),
        )
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = sorted((r.info.run_id, r.info.status) for r in client.search_runs(experiments))
    return {"models": models, "runs": runs}


@pytest.fixture(scope="module")
def odd_models(flow: Flow) -> dict[str, str]:
    """Models built from logged models, without training: one lost its challenger alias, one
    version comes from a run that FAILED."""
    client = connect(flow.store)
    source = client.get_model_version(NAME, "1").source
    mlflow.register_model(source, "no-challenger")
    client.set_registered_model_alias("no-challenger", "challenger", "1")
    client.delete_registered_model_alias("no-challenger", "challenger")
    failed = flow.runs["unregistered"]
    version = mlflow.register_model(failed.model_uri, "from-failed-run")
    client.set_registered_model_alias("from-failed-run", "challenger", version.version)
    client.set_terminated(failed.run_id, "FAILED")
    return {"failed_version": str(version.version)}


ERRORS = {
    "unknown model": (
        ["command=promote", "registry.model_name=nope"],
        f"no registered model 'nope'; known models: .*{NAME}",
    ),
    "unknown model in history": (
        ["command=history", "registry.model_name=nope"],
        "no registered model 'nope'",
    ),
    "unknown version": (["command=promote", "registry.version=99"], "has no version 99"),
    "unknown alias": (
        ["command=score", "registry.alias=staging"],
        r"has no alias @staging \(aliases: .*@champion=v1",
    ),
    "no challenger": (
        ["command=promote", "registry.model_name=no-challenger"],
        "'no-challenger' has no alias @challenger",
    ),
    "version of a failed run": (
        ["command=promote", "registry.model_name=from-failed-run"],
        "run that is FAILED; only versions of finished runs",
    ),
    "already champion": (["command=promote", "registry.version=1"], "already the champion"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_change_nothing(
    case: str, flow: Flow, odd_models: dict[str, str], tmp_path: Path
) -> None:
    overrides, message = ERRORS[case]
    leads = tmp_path / "leads.csv"
    leads.write_text("channel\nemail\n")
    output = tmp_path / "scores.csv"
    files = [f"registry.scoring.input={leads}", f"registry.scoring.output={output}"]
    before = snapshot(flow.store)
    commands = {"promote": handoff.promote, "history": handoff.history, "score": handoff.score}
    cfg = config(flow.store, *GATE, *files, *overrides)
    with pytest.raises(UserError, match=message):
        commands[cfg.command](cfg)
    assert snapshot(flow.store) == before
    assert not output.exists()


def test_refused_promotion_on_the_command_line(flow: Flow) -> None:
    connect(flow.store)
    assert registry.alias_version(NAME, "challenger") == "2"
    assert registry.alias_version(NAME, "champion") == "1"
    decisions = len(registry.decisions(NAME))
    done = subprocess.run(
        [sys.executable, "-m", "growthlab", "command=promote", *GATE, f"store={flow.store}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "GROWTHLAB_DEBUG": ""},
    )
    assert done.returncode != 0, done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("growthlab: error:")]
    assert len(errors) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "v2 did not pass the gate: @champion stays v1" in errors[0]
    assert "champion" in done.stdout and "FAIL" in done.stdout  # the verdict table is shown
    connect(flow.store)
    assert registry.alias_version(NAME, "champion") == "1"
    assert len(registry.decisions(NAME)) == decisions + 1  # a refusal is a decision too


def test_verdict_table_names_the_configured_confidence(flow: Flow) -> None:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), pytest.raises(UserError):
        flow.promote("registry.gate.confidence=0.8")  # v2 against v1: refused either way
    header = next(line for line in buffer.getvalue().splitlines() if line.startswith("check"))
    assert "80% interval" in header


def table_lines(output: str) -> list[str]:
    """The rows of the verdict table in a promote's output (not its header)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("check "))
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        rows.append(line)
    return rows
