"""What identifies a run and its inputs: the data's digest, the config's hash, a study's
fingerprint, the package versions and the git commit. Pure functions; no MLflow."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from growthlab import packages

DIGEST_BLOCK = 100_000  # rows hashed at a time

# Provenance records every library a model could need, on-demand ones (PyTorch) included.
PROVENANCE_DISTRIBUTIONS = (
    "growthlab", "hydra-core", "optuna", *packages.model_requirements(packages.PACKAGES)
)  # fmt: skip


def frame_digest(frame: pd.DataFrame) -> str:
    """A content hash of the table (values and column names), stable across runs.

    Column by column and in blocks of rows: hashing the whole frame at once held Python
    objects for every text cell (about the frame's size again on 1M rows).
    """
    digest = hashlib.sha256("\0".join(map(str, frame.columns)).encode())
    for column in frame.columns:
        values = frame[column]
        for start in range(0, len(values), DIGEST_BLOCK):
            block = values.iloc[start : start + DIGEST_BLOCK]
            digest.update(pd.util.hash_pandas_object(block, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def fingerprint(cfg: DictConfig, digest: str) -> str:
    """What a study's trials are comparable under: the data, the search space, the task (and
    its settings), the model and the metric. Another fingerprint is another study."""
    resolved = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(resolved, dict)
    parts = {
        "data": digest,
        **{k: resolved.get(k) for k in ("search_space", "task", "preprocessing", "model")},
        "metric": resolved["tuner"].get("metric"),
        "direction": resolved["tuner"].get("direction"),
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def config_hash(cfg: DictConfig) -> str:
    text = OmegaConf.to_yaml(cfg, resolve=True, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def pinned_requirements(imports: Iterable[str] = ()) -> list[str]:
    """name==version of every installed distribution a model needs to load, pinned to what
    trained it (`imports`: its on-demand packages, see packages.PACKAGES)."""
    names = packages.model_requirements(imports)
    return [f"{name}=={version}" for name, version in versions(names).items()]


def versions(names: tuple[str, ...] = PROVENANCE_DISTRIBUTIONS) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def git_commit(cwd: Path | None = None) -> str:
    """The commit of the working tree, '-dirty' when it has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")
