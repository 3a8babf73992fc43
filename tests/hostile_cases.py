"""The hostile-input cases (tests/test_hostile_inputs.py runs them): what each does to a good
file or config, and which of them are legitimately fine for which task, and why."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from tests.conftest import compose_config
from tests.test_task_contract import TASKS, TINY

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
    ("customer_value", "ten_mb_cell"): "one more (rare) channel in the log",
    ("uplift", "text_in_numbers"): "an undeclared mixed column is read as categories",
    ("uplift", "ten_mb_cell"): "one more (rare) category in a text column",
}

# Scoring inputs that are legitimately fine: blanks are allowed in a scored file, and an
# unseen or huge value in a text column is one more unseen category.
SCORE_FINE = ("truncated_mid_row", "nan_key_column", "ten_mb_line", "ten_mb_cell")


def _score_fine(task: str, kind: str) -> bool:
    """A log with blank ids or dates is refused: only tables take blanks."""
    return kind in SCORE_FINE and (task not in LOGS or kind == "ten_mb_cell")


# Scoring only: a column the model needs is missing.
SCORING_BAD = {
    "missing_feature": lambda f, r, fmt: _csv(
        f.drop(columns=[_feature(f, r, "fi") or _text(r) or _key(r)])
    ).encode(),
}

# Scoring only: inputs that are fine (a model meets unseen values in production).
SCORING_FINE = {
    "unseen_categories": lambda f, r, fmt: _with(
        f, _feature(f, r, "O") or r.get("channel") or _text(r), "never-seen-before"
    ),
    "huge_cardinality": lambda f, r, fmt: _unique_text(f, r),
}


def _text(roles: dict) -> str | None:
    """The first declared text column (a review's words), if any."""
    return (roles.get("text") or [None])[0]


def _unique_text(frame: pd.DataFrame, roles: dict) -> bytes:
    column = _feature(frame, roles, "O") or _text(roles)
    if column is None:
        return _csv(frame).encode()
    changed = frame.copy()
    changed[column] = [f"v{i}" for i in range(len(frame))]
    return _csv(changed).encode()


def file_overrides(task: str, roles: dict) -> list[str]:
    """TINY's task and model keys, and dataset=file with the simulated dataset's roles."""
    kept = [o for o in TINY[task] if not o.startswith("dataset")]
    columns = [
        f"dataset.columns.{k}={'[' + ','.join(v) + ']' if isinstance(v, list) else v}"
        for k, v in roles.items()
        if v not in (None, [], "") and k != "oracle"
    ]
    return [f"task={task}", *kept, "dataset=file", *columns, "registry.register=false"]


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


# Tasks that score a table as it is (churn and customer value from a log at a cutoff); forecast and
# recommendation inputs (future rows, users) are covered by their own scoring tests.
SCORED = ("lead_scoring", "churn", "segmentation", "uplift", "customer_value", "sentiment")
LOGS = ("churn", "customer_value")  # scored from a transaction log at a cutoff
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
# make test's sample: every sixth refusal (a legitimately fine file trains a whole model)
FAST = [c for c in ALL if (c.command != "score" or c.task == "lead_scoring") and not c.fine][::6]
