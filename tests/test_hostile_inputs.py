"""Hostile input, generated: broken files for every task (training and scoring) and wrong
types and unknown keys in every config group. Each case ends in one `growthlab: error:` line
and exit 2 (or, where the input is legitimately fine, a success, listed with its reason in
tests/hostile_cases.py), with no traceback, no RUNNING run, no partial output, and the
store's runs and aliases unchanged.

The cases run in-process through `growthlab.cli.main` (a subprocess each would take minutes);
a few run as real subprocesses. `make test` runs every sixth refusal; the rest are slow.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from growthlab import cli
from growthlab.build import build
from growthlab.runner import run
from tests.conftest import compose_config, growthlab, one_line_error, store_overrides
from tests.hostile_cases import (
    ALL,
    CORRUPTIONS,
    FAST,
    FORMAT,
    LOGS,
    SCORING_BAD,
    SCORING_FINE,
    TASKS,
    Case,
    file_overrides,
)
from tests.test_task_contract import TINY

# --- the store, prepared once -----------------------------------------------------------------


@dataclass
class Prepared:
    store: Path
    frames: dict[str, pd.DataFrame]  # a good file's table per task
    roles: dict[str, dict]  # its column roles
    overrides: dict[str, list[str]]  # task, model and dataset=file overrides per task


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    store = tmp_path_factory.mktemp("hostile")
    frames, roles, overrides = {}, {}, {}
    for task in TASKS:
        cfg = compose_config([f"task={task}", *TINY[task]])
        frame = build(cfg.dataset, "dataset").load()
        roles[task] = OmegaConf.to_container(cfg.dataset.columns, resolve=True)
        frames[task] = frame.drop(columns=[roles[task].get("oracle")], errors="ignore")
        overrides[task] = file_overrides(task, roles[task])
    return Prepared(store, frames, roles, overrides)


@pytest.fixture(scope="module")
def models(prepared: Prepared) -> dict[str, str]:
    """Per scored task, lazily: a registered model (run and aliases the cases must not touch);
    lead scoring's at once, so every case has a store to leave unchanged."""
    trained: dict[str, str] = {}
    model_of("lead_scoring", prepared, trained)
    return trained


def model_of(task: str, prepared: Prepared, models: dict[str, str]) -> str:
    if task not in models:
        cfg = compose_config([f"task={task}", *TINY[task], *store_overrides(prepared.store)])
        run(cfg)
        models[task] = str(cfg.registry.model_name)
    return models[task]


def snapshot(store: Path) -> tuple[list, list]:
    with sqlite3.connect(store / "mlflow.db") as con:
        runs = sorted(con.execute("select run_uuid, status, end_time from runs"))
        aliases = sorted(con.execute("select name, alias, version from registered_model_aliases"))
    return runs, aliases


def attempt(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`python -m growthlab <argv>` in this process: its exit code and stderr."""
    saved = sys.argv
    sys.argv = ["growthlab", *argv]
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = saved
        # Hydra's handlers write to this test's captured stderr, closed after it: a model
        # trained in a later test would log into a closed stream
        root = logging.getLogger()
        for handler in root.handlers[:]:
            root.removeHandler(handler)
    return code, capsys.readouterr().err


def check(case: Case, prepared: Prepared, models, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("GROWTHLAB_DEBUG", raising=False)
    store = prepared.store
    if case.command == "score":  # trained first: its run and aliases are the store's "before"
        model_name = model_of(case.task, prepared, models)
    before = snapshot(store)
    output = tmp_path / "scores.csv"
    output.write_text("previous,output\n")
    if case.command == "config":
        command = "command=train"  # registry keys: the command that reads them
        if case.kind.startswith("registry.scoring."):
            good = tmp_path / "good.csv"
            frame = prepared.frames["lead_scoring"]
            frame.drop(columns=[prepared.roles["lead_scoring"]["target"]]).to_csv(good, index=False)
            command = "command=score"
            tiny_io = [f"registry.scoring.input={good}", f"registry.scoring.output={output}"]
        elif case.kind.startswith("registry.") and not case.kind.startswith("registry.register"):
            command = "command=promote"
        tiny = TINY[case.task]
        tuner = "tuner=tpe" if case.kind.startswith("tuner.") else "tuner=none"
        argv = [command, f"task={case.task}", tuner, *tiny, case.kind]  # the case wins
        if command == "command=score":
            argv += ["registry.alias=challenger", *tiny_io]
        argv += store_overrides(store)
    else:
        frame, roles = prepared.frames[case.task], prepared.roles[case.task]
        corrupt = {**CORRUPTIONS, **SCORING_BAD, **SCORING_FINE}[case.kind]
        suffix = FORMAT.get(case.kind, "csv")
        if case.command == "score":
            frame = frame.drop(columns=[roles["target"]] if roles.get("target") else [])
            roles = {**roles, "target": None}  # a scored file has no label
        path = tmp_path / f"input.{suffix}"
        path.write_bytes(corrupt(frame, roles, suffix))
        if case.command == "train":
            argv = [*prepared.overrides[case.task], f"dataset.path={path}"]
        else:
            argv = ["command=score", "registry.alias=challenger", *prepared.overrides[case.task]]
            argv.append(f"registry.model_name={model_name}")  # trained on the simulated data
            argv += [f"registry.scoring.input={path}", f"registry.scoring.output={output}"]
            if case.task in LOGS:
                cutoff = pd.to_datetime(frame[roles["time"]]).max().date()
                argv.append(f"registry.scoring.cutoff={cutoff}")
        argv += store_overrides(store)
    code, err = attempt(argv, capsys)
    assert "Traceback" not in err, err[-3000:]
    if case.fine and case.command == "train":
        assert code == 0, err[-2000:]
    elif case.fine:
        assert code == 0, err[-2000:]
        assert len(pd.read_csv(output)) > 0
    else:
        errors = [line for line in err.splitlines() if line.startswith("growthlab: error:")]
        assert code == 2 and len(errors) == 1, err[-2000:]
        assert output.read_text() == "previous,output\n"  # the previous output, untouched
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert not leftovers, leftovers
    runs, aliases = snapshot(store)
    assert aliases == before[1]
    assert set(before[0]) <= set(runs), "an existing run changed"
    assert all(status != "RUNNING" for _, status, _ in runs)


@pytest.mark.parametrize("case", FAST, ids=[c.name for c in FAST])
def test_hostile_case(case: Case, prepared, models, tmp_path, capsys, monkeypatch) -> None:
    check(case, prepared, models, tmp_path, capsys, monkeypatch)


SLOW = [c for c in ALL if c not in FAST]


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW, ids=[c.name for c in SLOW])
def test_hostile_case_slow(case: Case, prepared, models, tmp_path, capsys, monkeypatch) -> None:
    check(case, prepared, models, tmp_path, capsys, monkeypatch)


def test_there_are_at_least_200_cases() -> None:
    assert len(ALL) >= 200, len(ALL)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["duplicated_header", "utf16", "ten_mb_line"])
def test_hostile_file_as_a_real_subprocess(kind: str, prepared: Prepared, tmp_path: Path) -> None:
    frame, roles = prepared.frames["lead_scoring"], prepared.roles["lead_scoring"]
    path = tmp_path / "input.csv"
    path.write_bytes(CORRUPTIONS[kind](frame, roles, "csv"))
    before = snapshot(prepared.store)
    done = growthlab(
        *prepared.overrides["lead_scoring"], f"dataset.path={path}", store=prepared.store
    )
    assert done.returncode == 2
    one_line_error(done)
    assert snapshot(prepared.store) == before
