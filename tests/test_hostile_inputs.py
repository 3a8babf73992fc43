"""Hostile input, generated: broken files for every task (training and scoring) and wrong
types and unknown keys in every config group. Each case ends in one `growthlab: error:` line
and exit 2 (or, where the input is legitimately fine, a success: listed in FINE), with no
traceback, no RUNNING run, no partial output, and the store's runs and aliases unchanged.

The cases run in-process through `growthlab.cli.main` (a subprocess each would take minutes);
a few run as real subprocesses. `make test` runs every fourth case; the rest are slow.
"""

from __future__ import annotations

import io
import logging
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from growthlab import cli
from growthlab.build import build
from growthlab.runner import run
from tests.conftest import compose_config, growthlab, one_line_error, store_overrides
from tests.test_task_contract import TASKS as ALL_TASKS
from tests.test_task_contract import TINY

# The tasks whose outcomes below (which corruptions are legitimately fine) were worked out
# case by case. Uplift, customer value and sentiment arrived later: their cases are still to
# be classified, so they are not generated yet.
CLASSIFIED = ("churn", "forecast", "lead_scoring", "recommendation", "segmentation")
TASKS = [t for t in ALL_TASKS if t in CLASSIFIED]

# --- what a case does to a good file -----------------------------------------------------------

Corrupt = Callable[[pd.DataFrame, dict, str], bytes]  # frame, column roles, format -> bytes


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False)


def _lines(frame: pd.DataFrame) -> list[str]:
    return _csv(frame).splitlines(keepends=True)


def _feature(frame: pd.DataFrame, roles: dict, kind: str) -> str | None:
    """An undeclared column of that kind (f: numbers, O: text), if the table has one."""
    declared = {v for v in roles.values() if isinstance(v, str)}
    declared |= {x for v in roles.values() if isinstance(v, list) for x in v}
    for column in frame.columns:
        if column not in declared and frame[column].dtype.kind in kind:
            return column
    return None


def _key(roles: dict) -> str:
    """The column a task cannot do without: its target, else its id, user or series."""
    for role in ("target", "id", "user", "time"):
        if roles.get(role):
            return roles[role]
    return roles["series"][0]


def _with(frame: pd.DataFrame, column: str | None, values: object, every: int = 3) -> bytes:
    """Every `every`-th row's `column` set to `values`."""
    if column is None:
        return b""  # the table has no such column: an empty file instead
    changed = frame.copy()
    changed[column] = changed[column].astype(object)
    changed.loc[changed.index[::every], column] = values
    return _csv(changed).encode()


CORRUPTIONS: dict[str, Corrupt] = {
    "empty": lambda f, r, fmt: b"",
    "blank_lines": lambda f, r, fmt: b"\n\n\n",
    "header_only": lambda f, r, fmt: _lines(f)[0].encode(),
    "no_header": lambda f, r, fmt: "".join(_lines(f)[1:]).encode(),
    "duplicated_header": lambda f, r, fmt: _csv(
        f.rename(columns={f.columns[1]: f.columns[0]})
    ).encode(),
    "missing_key_column": lambda f, r, fmt: _csv(f.drop(columns=[_key(r)])).encode(),
    "truncated_mid_row": lambda f, r, fmt: _csv(f).encode()[: len(_csv(f)) // 2],
    "unbalanced_quote": lambda f, r, fmt: "".join(
        line if i != 5 else '"' + line for i, line in enumerate(_lines(f))
    ).encode(),
    "extra_fields": lambda f, r, fmt: "".join(
        line if i != 3 else line.rstrip("\n") + ",x,y,z\n" for i, line in enumerate(_lines(f))
    ).encode(),
    "text_in_numbers": lambda f, r, fmt: _with(f, _feature(f, r, "fi"), "abc"),
    "inf_in_numbers": lambda f, r, fmt: _with(f, _feature(f, r, "fi"), "inf"),
    "nan_key_column": lambda f, r, fmt: _with(f, _key(r), ""),
    "ten_mb_line": lambda f, r, fmt: _csv(f).encode() + b"x" * 10_000_000 + b"\n",
    "ten_mb_cell": lambda f, r, fmt: _with(
        f, _feature(f, r, "O") or f.columns[-1], "y" * 10**7, every=len(f)
    ),
    "utf16": lambda f, r, fmt: _csv(f).encode("utf-16"),
    "latin1_garbage": lambda f, r, fmt: _csv(f).encode() + b"\xff\xfe\xe9\x00\xc3(\n",
    "binary": lambda f, r, fmt: np.random.default_rng(0).bytes(5000),
    "parquet_truncated": lambda f, r, fmt: _parquet(f)[:-200],
    "parquet_bytes_as_csv": lambda f, r, fmt: _parquet(f),
}
FORMAT = {"parquet_truncated": "parquet"}  # the others are written as .csv


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


# Training inputs that are legitimately fine, and why.
TRAIN_FINE = {
    ("forecast", "ten_mb_cell"): "the 10 MB text is in a column the forecast ignores",
    ("segmentation", "ten_mb_line"): "the line is one more customer with blank features (imputed)",
    ("lead_scoring", "text_in_numbers"): "an undeclared mixed column is read as categories",
    ("lead_scoring", "ten_mb_cell"): "one more (rare) category in a text column",
    ("churn", "ten_mb_cell"): "one more (rare) category in a text column",
    ("segmentation", "truncated_mid_row"): "the cut row's blank features are imputed",
    ("segmentation", "text_in_numbers"): "an undeclared mixed column is read as categories",
    ("segmentation", "nan_key_column"): "segments need no id: blank ids are kept as blank",
    ("segmentation", "ten_mb_cell"): "one more (rare) category in a text column",
    ("forecast", "nan_key_column"): "blank targets are the rows to forecast",
    ("forecast", "truncated_mid_row"): "the cut row's blank driver and target: a row to forecast",
    ("recommendation", "truncated_mid_row"): "the cut row's blank weight counts as one",
}

# Scoring inputs that are legitimately fine: blanks are allowed in a scored file, and an
# unseen or huge value in a text column is one more unseen category.
SCORE_FINE = ("truncated_mid_row", "nan_key_column", "ten_mb_line", "ten_mb_cell")


def _score_fine(task: str, kind: str) -> bool:
    """A churn log with blank ids or dates is refused: only tables take blanks."""
    return kind in SCORE_FINE and (task != "churn" or kind == "ten_mb_cell")


# Scoring only: a column the model needs is missing.
SCORING_BAD = {
    "missing_feature": lambda f, r, fmt: _csv(
        f.drop(columns=[_feature(f, r, "fi") or _key(r)])
    ).encode(),
}

# Scoring only: inputs that are fine (a model meets unseen values in production).
SCORING_FINE = {
    "unseen_categories": lambda f, r, fmt: _with(
        f, _feature(f, r, "O") or r.get("channel"), "never-seen-before"
    ),
    "huge_cardinality": lambda f, r, fmt: _unique_text(f, r),
}


def _unique_text(frame: pd.DataFrame, roles: dict) -> bytes:
    column = _feature(frame, roles, "O")
    if column is None:
        return _csv(frame).encode()
    changed = frame.copy()
    changed[column] = [f"v{i}" for i in range(len(frame))]
    return _csv(changed).encode()


# --- the store, prepared once -----------------------------------------------------------------


@dataclass
class Prepared:
    store: Path
    frames: dict[str, pd.DataFrame]  # a good file's table per task
    roles: dict[str, dict]  # its column roles
    overrides: dict[str, list[str]]  # task, model and dataset=file overrides per task


def file_overrides(task: str, roles: dict) -> list[str]:
    """TINY's task and model keys, and dataset=file with the simulated dataset's roles."""
    kept = [o for o in TINY[task] if not o.startswith("dataset")]
    columns = [
        f"dataset.columns.{k}={'[' + ','.join(v) + ']' if isinstance(v, list) else v}"
        for k, v in roles.items()
        if v not in (None, [], "") and k != "oracle"
    ]
    return [f"task={task}", *kept, "dataset=file", *columns, "registry.register=false"]


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


# --- the cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    command: str  # train | score | config
    task: str
    kind: str  # a corruption, or a config key and value
    fine: bool = False


def cases() -> list[Case]:
    found = [
        Case(f"train-{t}-{k}", "train", t, k, fine=(t, k) in TRAIN_FINE)
        for t in TASKS
        for k in CORRUPTIONS
    ]
    for task in SCORED:
        bad = [k for k in CORRUPTIONS if k != "missing_key_column"] + list(SCORING_BAD)
        found += [
            Case(f"score-{task}-{k}", "score", task, k, fine=_score_fine(task, k)) for k in bad
        ]
        found += [Case(f"score-{task}-{k}", "score", task, k, fine=True) for k in SCORING_FINE]
    found += [Case(f"config-{t}-{k}", "config", t, k) for t in TASKS for k in config_cases(t)]
    return found


# Tasks that score a table as it is (churn from its log at a cutoff); forecast and
# recommendation inputs (future rows, users) are covered by their own scoring tests.
SCORED = ("lead_scoring", "churn", "segmentation")
GROUPS = ("dataset", "task", "model", "preprocessing", "tuner", "tracking", "registry")


def config_cases(task: str) -> list[str]:
    """An unknown key in every group, and a wrong type for every number and flag in it
    (every group for lead scoring, the task group for the other tasks)."""
    cfg = compose_config([f"task={task}", "tuner=tpe", *TINY[task]])
    found = []
    for group in GROUPS if task == "lead_scoring" else ("task",):
        found.append(f"{group}.no_such_key=1")
        node = OmegaConf.to_container(cfg[group], resolve=False)
        for key, value in _scalars(node, group):
            if isinstance(value, bool):
                found.append(f"{key}=maybe")
            elif isinstance(value, int | float):
                found.append(f"{key}=not_a_number")
    return found


def _scalars(node: object, prefix: str) -> list[tuple[str, object]]:
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in _scalars(v, f"{prefix}.{k}")]
    return [(prefix, node)]


ALL = cases()
FAST = [c for c in ALL if c.command != "score" or c.task == "lead_scoring"][::4]


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
            if case.task == "churn":
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
