"""The promotion gate: floors, the task's naive baseline, and the champion, beyond noise.

Pure decisions on arrays; reading and writing the MLflow registry is tracking.py's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from growthlab.errors import UserError
from growthlab.metrics.bootstrap import paired_difference

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
        metric: str = "roc_auc",
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
        self.metric = metric
        self.floors = dict(floors or {})
        self.ceilings = dict(ceilings or {})
        self.resamples = resamples
        self.confidence = confidence
        self.seed = seed
        self.fallback = fallback

    def judge(
        self,
        task: Any,
        y: np.ndarray,
        challenger: np.ndarray,
        champion: np.ndarray | None,
        champion_error: str | None = None,
        X: Any = None,
    ) -> list[Check]:
        """Every check, in the order of the verdict table."""
        for name in [self.metric, *self.floors, *self.ceilings]:
            if name not in task.metric_names():
                raise UserError(
                    f"registry.gate: {name!r} is not a metric of this task; "
                    f"choose from {', '.join(task.metric_names())}"
                )
        values = task.metrics_of(y, challenger)
        checks = [
            Check("floor", k, v, values[k], passed=values[k] >= v) for k, v in self.floors.items()
        ]
        checks += [
            Check("ceiling", k, v, values[k], passed=values[k] <= v)
            for k, v in self.ceilings.items()
        ]
        checks.append(self._beats("baseline", task, y, task.baseline_scores(y, X), challenger))
        if champion is not None:
            checks.append(self._beats("champion", task, y, champion, challenger))
        elif champion_error is not None:
            passed = self.fallback == "floors_and_baseline"
            note = (
                f"champion cannot score this holdout ({champion_error}); fallback: {self.fallback}"
            )
            checks.append(
                Check("champion", self.metric, None, values[self.metric], passed=passed, note=note)
            )
        return checks

    def _beats(
        self, check: str, task: Any, y: np.ndarray, reference: np.ndarray, challenger: np.ndarray
    ) -> Check:
        """The challenger is better when the whole interval of the improvement is above zero."""
        metric = task.metric_function(self.metric)
        sign = -1.0 if self.metric in task.minimized else 1.0
        diff = paired_difference(
            y, reference, challenger, metric, self.resamples, self.confidence, self.seed
        )
        value, low, high = sign * diff.value, *sorted((sign * diff.low, sign * diff.high))
        return Check(
            check,
            self.metric,
            metric(y, reference),
            metric(y, challenger),
            value,
            low,
            high,
            passed=low > 0,
        )


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
