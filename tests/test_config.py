"""Every config file composes, resolves, passes the target allow-list and builds.

Options are discovered by globbing conf/<group>/*.yaml and experiments/*.yaml, so a new file
is covered without touching this module. Nothing here starts an MLflow run.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from omegaconf import DictConfig, OmegaConf

from growthlab import search_space
from growthlab.build import build, check_targets
from growthlab.cli import check_overrides
from growthlab.errors import UserError
from growthlab.paths import CONF_DIR, ROOT
from growthlab.runner import model_spec

from .conftest import compose_config

EXPERIMENTS_DIR = ROOT / "experiments"
GROUPS = sorted(p.name for p in CONF_DIR.iterdir() if p.is_dir())
OPTIONS = sorted((p.parent.name, p.stem) for p in CONF_DIR.glob("*/*.yaml"))
EXPERIMENTS = sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.yaml"))
MODELS = sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml"))
BUILT_GROUPS = ("dataset", "task", "model", "preprocessing", "tracking")


def compose_strict(overrides: list[str]) -> DictConfig:
    """Compose and resolve with FutureWarning as an error (as pytest's config also says)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        cfg = compose_config(overrides)
        OmegaConf.resolve(cfg)
    return cfg


def _path_is_usable(dataset: DictConfig) -> bool:
    # `"path" in dataset` is False for `path: ???`, so ask about the missing value first.
    if OmegaConf.is_missing(dataset, "path") or dataset.get("path", "") is None:
        return False
    return "path" not in dataset or Path(dataset.path).exists()


def _option_param(group: str, option: str) -> object:
    return pytest.param(group, option, id=f"{group}={option}")


def test_discovery_finds_the_config_tree() -> None:
    assert {"dataset", "task", "model", "tracking"} <= set(GROUPS)
    assert MODELS and EXPERIMENTS


@pytest.mark.parametrize(("group", "option"), [_option_param(g, o) for g, o in OPTIONS])
def test_option_composes_resolves_and_passes_allow_list(group: str, option: str) -> None:
    # A search space is chosen through its model (`search_space: ${model}` in the defaults).
    overrides = [f"model={option}"] if group == "search_space" else [f"{group}={option}"]
    cfg = compose_strict(overrides)
    check_targets(cfg, "config")
    if group == "search_space":
        assert search_space.parse_space(cfg.search_space, model_spec(cfg).has)
    else:
        assert "_target_" in OmegaConf.to_yaml(cfg[group]), f"{group} builds no object"


@pytest.mark.parametrize("name", MODELS)
def test_every_model_has_a_search_space_that_fits_it(name: str) -> None:
    cfg = compose_strict([f"model={name}", "tuner=tpe"])
    assert search_space.parse_space(cfg.search_space, model_spec(cfg).has)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_file_starts_with_global_package_line(name: str) -> None:
    first_line = (EXPERIMENTS_DIR / f"{name}.yaml").read_text().splitlines()[0]
    assert first_line == "# @package _global_"


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_composes_resolves_and_passes_allow_list(name: str) -> None:
    cfg = compose_strict([f"experiments={name}"])
    check_targets(cfg, "config")
    for group in BUILT_GROUPS:
        assert "_target_" in cfg[group], group


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_travels_to_a_file_of_its_own(name: str, tmp_path: Path) -> None:
    """An experiment sets task, model and tuner keys, never keys of one dataset: it must run
    on the user's own file (`experiments=... dataset=file dataset.path=...`)."""
    assert "dataset" not in OmegaConf.load(EXPERIMENTS_DIR / f"{name}.yaml"), (
        "keys of one dataset belong in conf/dataset/, not in an experiment"
    )
    cfg = compose_strict([f"experiments={name}", "dataset=file", f"dataset.path={tmp_path}/x.csv"])
    assert build(cfg.dataset, "dataset").name == "file"


def test_experiment_values_override_the_model_defaults() -> None:
    cfg = compose_strict(["experiments=lead_scoring_xgboost"])
    assert cfg.model.max_depth == 5
    assert cfg.model.learning_rate == 0.05


@pytest.mark.parametrize("name", MODELS)
def test_model_file_is_global_and_sets_model_and_preprocessing(name: str) -> None:
    path = CONF_DIR / "model" / f"{name}.yaml"
    assert path.read_text().splitlines()[0] == "# @package _global_"
    assert set(OmegaConf.load(path)) == {"model", "preprocessing"}


@pytest.mark.parametrize(
    "overrides",
    [[f"{g}={o}"] for g, o in OPTIONS] + [[f"experiments={e}"] for e in EXPERIMENTS],
    ids=[f"{g}={o}" for g, o in OPTIONS] + [f"experiments={e}" for e in EXPERIMENTS],
)
def test_objects_build(overrides: list[str]) -> None:
    cfg = compose_strict(overrides)
    for group in BUILT_GROUPS:
        if group == "dataset" and not _path_is_usable(cfg.dataset):
            continue  # e.g. dataset=file (path: null) or a shared file not checked out
        assert build(cfg[group], group) is not None


def test_dataset_without_its_mandatory_path_is_a_user_error() -> None:
    cfg = compose_strict(["dataset=file", "dataset.columns.target=y"])
    with pytest.raises(UserError, match="dataset.path"):
        build(cfg.dataset, "dataset")


def test_a_catalog_table_needs_no_path() -> None:
    cfg = compose_strict(["dataset=file", "dataset.table=lake.transactions"])
    dataset = build(cfg.dataset, "dataset")
    assert dataset.source() == "table:lake.transactions"
    with pytest.raises(UserError, match="needs engine=spark"):
        dataset.load()


def test_model_option_brings_its_own_preprocessing() -> None:
    assert compose_strict(["model=logistic_regression"]).preprocessing.one_hot is True
    assert compose_strict(["model=xgboost"]).preprocessing.one_hot is False


def test_target_outside_allow_list_is_refused() -> None:
    with pytest.raises(UserError, match=r"model\._target_='os\.system' is not allowed"):
        check_targets({"_target_": "os.system", "command": "true"}, "model")


def test_nested_target_outside_allow_list_is_refused() -> None:
    node = {"_target_": "sklearn.pipeline.Pipeline", "steps": [{"_target_": "subprocess.run"}]}
    with pytest.raises(UserError, match=r"model\.steps\[0\]\._target_='subprocess\.run'"):
        check_targets(node, "model")


def test_prefix_must_match_a_whole_package_name() -> None:
    with pytest.raises(UserError):
        check_targets({"_target_": "growthlab_evil.run"}, "model")


def test_build_refuses_before_running_anything(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    cfg = compose_config([f"+evil={{_target_: os.system, command: 'touch {marker}'}}"])
    with pytest.raises(UserError, match="not allowed"):
        build(cfg.evil, "evil")
    assert not marker.exists()


def test_overridden_model_target_is_refused() -> None:
    cfg = compose_config(["model._target_=os.system"])
    with pytest.raises(UserError, match="not allowed"):
        build(cfg.model, "model")


def test_extra_allowed_prefix_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROWTHLAB_ALLOWED_TARGETS", "collections., ")
    check_targets({"_target_": "collections.OrderedDict"}, "model")


def _one_error_line(overrides: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        check_overrides(overrides)
    assert exit_info.value.code != 0
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("growthlab: error:")
    return lines[0]


@pytest.fixture(autouse=True)
def _no_debug_tracebacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROWTHLAB_DEBUG", raising=False)


def test_valid_overrides_pass_the_check() -> None:
    check_overrides(["model=logistic_regression", "model.C=0.3"])


def test_typo_override_is_one_line_naming_the_key_and_the_fix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = _one_error_line(["model.max_dept=4"], capsys)
    assert "'model.max_dept'" in line
    assert "model.max_depth" in line


def test_unknown_group_option_is_one_line_listing_the_models(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = _one_error_line(["model=foo"], capsys)
    assert "'foo'" in line
    listed = line.split("choose one of: ", 1)[1].split(" (", 1)[0]
    assert listed.split(", ") == MODELS  # only the options, not Hydra's search path


def test_hydra_opens_no_log_file_in_the_working_directory() -> None:
    """Hydra's default job logging opens `<job>.log` in the cwd (an empty cli.log everywhere)."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", return_hydra_config=True)
    handlers = cfg.hydra.job_logging.handlers.values()
    assert not [h for h in handlers if "FileHandler" in str(h.get("class", ""))]
