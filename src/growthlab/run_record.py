"""What a run records beside its metrics: tags, the UI description, flattened params, the
registry tags, and the lines printed at the end."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from growthlab import provenance, secrets
from growthlab.paths import ROOT

if TYPE_CHECKING:
    from growthlab.runner import Loaded, Parts


def run_tags(parts: Parts, loaded: Loaded, shown: DictConfig) -> dict[str, str]:
    """Where the run came from: task, data digest, the (masked) config's hash, code, packages."""
    tags = {
        "growthlab.task": parts.task.name,
        "growthlab.dataset": parts.dataset.name,
        "data_digest": loaded.digest,
        "config_hash": provenance.config_hash(shown),
        "git_commit": provenance.git_commit(ROOT),
    }
    return {**tags, **{f"version.{k}": v for k, v in provenance.versions().items()}}


def run_params(shown: DictConfig, loaded: Loaded) -> dict[str, Any]:
    """The (masked) config, flattened, and what loading learned about the splits."""
    return {**flatten(OmegaConf.to_container(shown)), **prefixed(loaded)}


def run_note(parts: Parts, loaded: Loaded, metrics: Mapping[str, float], tuned: bool) -> str:
    """The run's description in the MLflow UI (markdown): task, data, headline test metrics."""
    shown = [f"test_{k}" for k in parts.task.headline if f"test_{k}" in metrics]
    how = f"tuned ({parts.tuner.n_trials} trials, then refitted)" if tuned else "not tuned"
    lines = [
        f"**{parts.task.name}** on **{parts.dataset.name}**: {loaded.rows} rows "
        f"(digest `{loaded.digest}`), {how}.",
        f"Source: `{secrets.mask(parts.dataset.source())}`",
        "",
        "| metric | value |",
        "|---|---|",
        *(f"| {k} | {metrics[k]:.4f} |" for k in shown),
    ]
    return "\n".join(lines)


def registration_tags(run_tags: Mapping[str, str], metrics: Mapping[str, float]) -> dict[str, Any]:
    """What a registry reader wants to see on a version without opening its run."""
    kept = ("data_digest", "config_hash", "git_commit", "version.growthlab", "growthlab.task")
    tags: dict[str, Any] = {k: v for k, v in run_tags.items() if k in kept}
    tags.update({k: round(v, 6) for k, v in metrics.items() if k.startswith("test_")})
    return tags


def flatten(node: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'model': {'max_depth': 6}} -> {'model.max_depth': 6}."""
    flat: dict[str, Any] = {}
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def prefixed(loaded: Loaded) -> dict[str, Any]:
    return {f"data.{k}": v for k, v in loaded.data.info.items()}


def report(
    metrics: Mapping[str, float], headline: Sequence[str], model_uri: str, store: str
) -> None:
    """A few lines a person reads at the end of a run: the task's headline test metrics."""
    keys = [f"test_{k}" for k in headline] + [k for k in metrics if k.startswith("best_")]
    shown = "  ".join(f"{k}={metrics[k]:.4f}" for k in keys if k in metrics)
    print(f"\n{shown}\nmodel: {model_uri}\nstore: {secrets.mask(store)}  (make ui to browse)")
