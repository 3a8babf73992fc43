"""Shared test helpers: compose the project's config, and a throwaway MLflow store."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

import growthlab.cli  # noqa: F401 - registers the growthlab_root resolver
from growthlab.paths import CONF_DIR, ROOT

SHARED_DATA = ROOT.parent / "shared" / "data"


def compose_config(overrides: list[str] | None = None) -> DictConfig:
    """The config `python -m growthlab <overrides>` would run with."""
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return compose("config", overrides=list(overrides or []))


def store_overrides(store: Path) -> list[str]:
    """Overrides that send a run to a private SQLite store under `store`."""
    return [f"store={store}"]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "mlruns"
    path.mkdir()
    return path
