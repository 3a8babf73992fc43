"""How an estimator is built: its config nodes, and params a trial or the best trial sets."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from omegaconf import DictConfig, OmegaConf
from sklearn.pipeline import Pipeline

from growthlab.build import build
from growthlab.errors import UserError
from growthlab.models import tabular_pipeline
from growthlab.processes import interrupted

GROUPS = ("preprocessing", "model")  # the config groups a search space may change
_ABSENT = object()


class ModelSpec:
    """The `preprocessing` and `model` nodes; build() turns them into one raw-columns pipeline."""

    def __init__(self, nodes: DictConfig) -> None:
        self.nodes = nodes

    def has(self, key: str) -> bool:
        """Whether a dotted key (`model.max_depth`) exists, for checking a search space."""
        if key.split(".", 1)[0] not in GROUPS:
            return False
        return OmegaConf.select(self.nodes, key, default=_ABSENT) is not _ABSENT

    def value(self, key: str) -> Any:
        return OmegaConf.select(self.nodes, key)

    def with_params(self, params: Mapping[str, Any]) -> ModelSpec:
        """A copy with dotted keys set (a trial's or the best params)."""
        nodes = copy.deepcopy(self.nodes)
        for key, value in params.items():
            OmegaConf.update(nodes, key, value, merge=False)
        return ModelSpec(nodes)

    def sharing_cores(self, n_workers: int) -> ModelSpec:
        """Each tuning worker gets its share of the cores: oversubscribed OpenMP crawls."""
        if n_workers == 1:
            return self
        share = max(1, (os.cpu_count() or 1) // n_workers)
        keys = [k for k in _flat_keys(self.nodes.model, "model.") if k.endswith("n_jobs")]
        return self.with_params(dict.fromkeys(keys, share))

    def build(self, params: Mapping[str, Any] | None = None) -> Pipeline:
        """The configured estimator behind its preprocessing, as one scikit-learn pipeline."""
        nodes = self.with_params(params).nodes if params else self.nodes
        return tabular_pipeline(
            build(nodes.preprocessing, "preprocessing"), build(nodes.model, "model")
        )


def _flat_keys(node: Any, prefix: str) -> Iterator[str]:
    for key, value in node.items():
        if isinstance(value, DictConfig):
            yield from _flat_keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


@contextmanager
def estimator_errors() -> Iterator[None]:
    """An estimator's complaint about its parameters, said in one line."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        if interrupted.is_set():  # the library swallowed our KeyboardInterrupt: re-raise it
            raise KeyboardInterrupt from exc
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"the model failed to fit: {first}; check the model.* settings") from exc
