"""The search space from config: `search_space.<dotted key>: {type, low, high, log, step,
choices}`, checked whole before any trial runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import optuna

from growthlab.errors import UserError

KINDS = ("float", "int", "log", "categorical")
TUNABLE_PREFIXES = ("model.", "preprocessing.")


@dataclass(frozen=True)
class Param:
    """One dimension of the search space: a dotted config key and its distribution."""

    key: str
    type: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: optuna.Trial) -> Any:
        if self.type == "categorical":
            return trial.suggest_categorical(self.key, list(self.choices))
        if self.type == "int":
            step = int(self.step or 1)
            return trial.suggest_int(
                self.key, int(self.low), int(self.high), step=step, log=self.log
            )
        return trial.suggest_float(
            self.key, self.low, self.high, step=self.step, log=self.log or self.type == "log"
        )

    def admits(self, value: Any) -> bool:
        """Whether the distribution can produce `value` (a config default worth trying first)."""
        if self.type == "categorical":
            return value in self.choices
        if not _is_number(value) or not self.low <= value <= self.high:
            return False
        if self.type == "int" and value != int(value):
            return False
        step = self.step or (1 if self.type == "int" else None)
        return (
            step is None or abs((value - self.low) / step - round((value - self.low) / step)) < 1e-9
        )


def parse_space(
    space: Mapping[str, Mapping[str, Any]], exists: Callable[[str], bool]
) -> list[Param]:
    """Check the whole search space before any trial runs; one readable line per mistake."""
    params = []
    for key, spec in space.items():
        where = f"search_space.{key}"
        if not key.startswith(TUNABLE_PREFIXES) or not exists(key):
            raise UserError(
                f"{where}: {key!r} is not a model or preprocessing key of this config; "
                "use a dotted key such as model.max_depth"
            )
        if not isinstance(spec, Mapping):
            raise UserError(
                f"{where}: expected a distribution such as {{type: int, low: 2, high: 8}}, "
                f"got {spec!r}"
            )
        spec = dict(spec)
        kind = spec.pop("type", None)
        if kind not in KINDS:
            raise UserError(f"{where}.type={kind!r} is unknown; use one of {', '.join(KINDS)}")
        if kind == "categorical":
            choices = tuple(spec.pop("choices", ()) or ())
            if not choices:
                raise UserError(
                    f"{where}: a categorical distribution needs a non-empty choices list"
                )
            param = Param(key, kind, choices=choices)
        else:
            low, high = spec.pop("low", None), spec.pop("high", None)
            if not all(_is_number(v) for v in (low, high)) or low > high:
                raise UserError(f"{where}: needs numbers low <= high (got low={low}, high={high})")
            log_scale = bool(spec.pop("log", False)) or kind == "log"
            if log_scale and low <= 0:
                raise UserError(f"{where}: a log distribution needs low > 0 (got {low})")
            step = spec.pop("step", None)
            if step is not None and (not _is_number(step) or step <= 0 or log_scale):
                raise UserError(
                    f"{where}: step must be a positive number and cannot be combined with a "
                    f"log scale (got step={step}, log={log_scale})"
                )
            param = Param(key, kind, low, high, log_scale, step)
        if spec:
            raise UserError(
                f"{where}: unknown setting {sorted(spec)[0]!r}; "
                "use type, low, high, log, step or choices"
            )
        params.append(param)
    return params


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
