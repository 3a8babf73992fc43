"""The promotion gate: floors, the task's naive baseline, and the champion, beyond noise.

Pure decisions on arrays; reading and writing the MLflow registry is tracking.py's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from growthlab.errors import UserError
from growthlab.metrics.bootstrap import paired_difference

if TYPE_CHECKING:
    from growthlab.tasks import Task

FALLBACKS = ("floors_and_baseline", "refuse")


@dataclass(frozen=True)
class Check:
    """One row of the verdict table."""

    check: str
    metric: str
    reference: float | None  # the floor, the baseline's or the champion's value
    challenger: float
    difference: float | None = None
    low: float | None = None
    high: float | None = None
    passed: bool = False
    note: str = ""


class Gate:
    """What a challenger must show before it replaces the champion."""

    def __init__(
        self,
        metric: str | Sequence[str] | None = None,
        floors: Mapping[str, float] | None = None,
        ceilings: Mapping[str, float] | None = None,
        resamples: int = 1000,
        confidence: float = 0.95,
        seed: int = 0,
        fallback: str = "floors_and_baseline",
    ) -> None:
        if fallback not in FALLBACKS:
            raise UserError(
                f"registry.gate.fallback={fallback!r}; use one of {', '.join(FALLBACKS)}"
            )
        if not 0 < confidence < 1 or resamples < 100:
            raise UserError("registry.gate needs 0 < confidence < 1 and resamples >= 100")
        self.metric = metric  # None: the task's gate metrics (its objective by default)
        self.floors = None if floors is None else dict(floors)  # None: the task's floors
        self.ceilings = dict(ceilings or {})
        self.resamples = resamples
        self.confidence = confidence
        self.seed = seed
        self.fallback = fallback

    def judge(
        self,
        task: Task,
        y: np.ndarray,
        challenger: np.ndarray,
        champion: np.ndarray | None,
        champion_error: str | None = None,
        X: Any = None,
        recorded: Mapping[str, float] | None = None,
    ) -> list[Check]:
        """Every check, in the order of the verdict table.

        Floors and ceilings are measured on the holdout; a metric the holdout cannot give
        (segment stability needs refits) is taken as `recorded` when the version was trained.
        """
        metrics = self.metrics(task)
        floors = task.floors if self.floors is None else self.floors
        unknown = [m for m in metrics if m not in task.metric_names()]
        if unknown:
            raise UserError(
                f"registry.gate: {unknown[0]!r} is not a metric of this task; "
                f"choose from {', '.join(task.metric_names())}"
            )
        values = task.metrics_of(y, challenger)
        bounds = [("floor", floors), ("ceiling", self.ceilings)]
        checks = [
            _bound(check, k, v, values, recorded)
            for check, given in bounds
            for k, v in given.items()
        ]
        baselines = task.baselines(y, X)
        for metric in metrics:
            for name, scores in baselines.items():
                checks.append(self._beats(name, task, metric, y, scores, challenger))
            if champion is not None:
                checks.append(self._beats("champion", task, metric, y, champion, challenger))
            elif champion_error is not None:
                passed = self.fallback == "floors_and_baseline"
                note = (
                    f"champion cannot score this holdout ({champion_error}); "
                    f"fallback: {self.fallback}"
                )
                checks.append(
                    Check("champion", metric, None, values[metric], passed=passed, note=note)
                )
        return checks

    def judge_recorded(
        self,
        task: Task,
        recorded: Mapping[str, float],
        champion: Mapping[str, float] | None,
        champion_error: str | None = None,
    ) -> list[Check]:
        """Every check on the test figures recorded at training (task.recorded_gate).

        A model refitted on all history has seen every window: re-scoring it would leak, so
        floors, the baselines (recorded as baseline_<metric> on the same windows) and the
        champion are compared as recorded. No interval: the windows are not re-drawn.
        """
        metrics = self.metrics(task)
        floors = task.floors if self.floors is None else self.floors
        bounds = [("floor", floors), ("ceiling", self.ceilings)]
        checks = [
            _bound(check, k, v, {}, recorded) for check, given in bounds for k, v in given.items()
        ]
        note = "as recorded at training"
        for metric in metrics:
            value = _bound("floor", metric, float("-inf"), {}, recorded).challenger
            references = {"baseline": recorded.get(f"baseline_{metric}")}
            if champion is not None and metric in champion:
                references["champion"] = champion[metric]
            elif champion is not None or champion_error is not None:
                passed = self.fallback == "floors_and_baseline"
                why = champion_error or f"the champion recorded no test {metric}"
                checks.append(
                    Check("champion", metric, None, value, passed=passed,
                          note=f"{why}; fallback: {self.fallback}")
                )  # fmt: skip
            for name, reference in references.items():
                if reference is None:
                    continue
                sign = -1.0 if metric in task.minimized else 1.0
                gain = sign * (value - reference)
                checks.append(
                    Check(name, metric, reference, value, gain, passed=gain > 0, note=note)
                )
        return checks

    def metrics(self, task: Task) -> list[str]:
        """What the challenger must beat baselines and champion on: config, else the task's."""
        if self.metric is None:
            return list(task.gate_metrics)
        return [self.metric] if isinstance(self.metric, str) else list(self.metric)

    def _beats(
        self,
        check: str,
        task: Task,
        name: str,
        y: np.ndarray,
        reference: np.ndarray,
        challenger: np.ndarray,
    ) -> Check:
        """The challenger is better when the whole interval of the improvement is above zero."""
        metric = task.metric_function(name)
        sign = -1.0 if name in task.minimized else 1.0
        diff = paired_difference(
            y,
            reference,
            challenger,
            metric,
            self.resamples,
            self.confidence,
            self.seed,
            two_classes=task.binary_labels,
            groups=task.bootstrap_groups(y),
        )
        value, low, high = sign * diff.value, *sorted((sign * diff.low, sign * diff.high))
        return Check(
            check,
            name,
            metric(y, reference),
            metric(y, challenger),
            value,
            low,
            high,
            passed=low > 0,
        )


def _bound(
    check: str,
    name: str,
    bound: float,
    values: Mapping[str, float],
    recorded: Mapping[str, float] | None,
) -> Check:
    """A floor (value >= bound) or ceiling (value <= bound) on the holdout, or as recorded."""
    note = ""
    if name in values:
        value = values[name]
    elif recorded and name in recorded:
        value, note = recorded[name], "as recorded at training"
    else:
        known = sorted({*values, *(recorded or {})})
        raise UserError(
            f"registry.gate: {name!r} is neither measured on the holdout nor recorded on the "
            f"version; choose from {', '.join(known)}"
        )
    passed = value >= bound if check == "floor" else value <= bound
    return Check(check, name, bound, value, passed=passed, note=note)


def passed(checks: list[Check]) -> bool:
    return all(c.passed for c in checks)


def verdict_table(checks: list[Check], confidence: float = 0.95) -> str:
    """The decision as a person reads it: one row per check."""
    header = (
        "check",
        "metric",
        "reference",
        "challenger",
        "improvement",
        f"{confidence:.0%} interval",
        "verdict",
    )
    rows = [header]
    for c in checks:
        interval = "" if c.low is None else f"[{c.low:+.4f}, {c.high:+.4f}]"
        rows.append(
            (
                c.check,
                c.metric,
                _fmt(c.reference),
                _fmt(c.challenger),
                "" if c.difference is None else f"{c.difference:+.4f}",
                interval,
                ("pass" if c.passed else "FAIL") + (f"  {c.note}" if c.note else ""),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)) + "  " + r[-1]
        for r in rows
    )


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"
