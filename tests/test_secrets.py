"""No secret is ever written: masking rules, then a planted password through train, tune with a
spawned worker, promote and score, and a scan of everything those left behind (issue 14)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from growthlab import secrets
from growthlab.data.simulator import MarketingSimulator
from growthlab.errors import UserError
from growthlab.paths import ROOT
from tests.conftest import growthlab, one_line_error, run_statuses

PLANTED = "Pl4ntedS3cretXq9"  # one unique text: any hit of it anywhere is a leak


def test_uri_passwords_and_secret_query_values_are_masked() -> None:
    text = "postgresql+psycopg2://ana:hunter22@db:5432/optuna?sslmode=require&api_token=abcd1234"
    assert secrets.mask(text) == (
        "postgresql+psycopg2://ana:***@db:5432/optuna?sslmode=require&api_token=***"
    )
    assert secrets.mask("http://127.0.0.1:5000/#/experiments/1") == (
        "http://127.0.0.1:5000/#/experiments/1"
    )  # a port is not a password


def test_secret_keys_are_masked_and_remembered() -> None:
    tree = {"tuner": {"storage": "mysql://u:zzTopSecret1@h/db"}, "extra": {"api_key": "k-998877"}}
    masked = secrets.mask_tree(tree)
    assert masked == {"tuner": {"storage": "mysql://u:***@h/db"}, "extra": {"api_key": "***"}}
    assert secrets.hidden(tree, masked) == {
        "tuner.storage": "mysql://u:zzTopSecret1@h/db",
        "extra.api_key": "k-998877",
    }
    # Remembered: a library quoting the value later is masked too, and so is any UserError.
    assert secrets.mask("auth failed for k-998877") == "auth failed for ***"
    assert "zzTopSecret1" not in str(UserError("cannot open mysql://u:zzTopSecret1@h/db"))


def test_ordinary_keys_are_kept() -> None:
    tree = {"task": {"key_features": 8}, "dataset": {"path": "data/leads.csv"}}
    assert secrets.mask_tree(tree) == tree


def _scan(folder: Path, needle: bytes) -> list[str]:
    hits = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if needle in path.read_bytes():
                    hits.append(str(path))
            except OSError:
                continue
    return hits


@pytest.mark.slow
def test_a_planted_password_is_written_nowhere(tmp_path: Path) -> None:
    """Train + tune (2 workers) + promote + score with the password in every place a user
    can put one; then the store, the artifacts, the outputs and the temp folders hold none."""
    store, scratch = tmp_path / "mlruns", tmp_path / "tmp"
    scratch.mkdir()
    leads = tmp_path / "leads.csv"
    MarketingSimulator(7).leads(300).drop(columns=["converted", "p_convert"]).to_csv(
        leads, index=False
    )
    env = {
        **os.environ,
        "GROWTHLAB_DEBUG": "",
        "TMPDIR": str(scratch),  # every temporary file of the run lands where we scan
        "GL_TEST_API_TOKEN": PLANTED,  # read through ${oc.env:...}
        "MLFLOW_TRACKING_PASSWORD": PLANTED,  # the credential variable MLflow reads
    }
    planted = [
        "+team.api_token=${oc.env:GL_TEST_API_TOKEN}",  # a secret-looking key
        f"+team.backup='https://ana:{PLANTED}@backup.example/leads'",  # a password in a URI
        f"+team.warehouse='postgresql://svc@db.example/crm?password={PLANTED}'",
    ]
    small = ["dataset.n_rows=3000", "model.n_estimators=30", "model.n_jobs=1"]
    common = [f"store={store}"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "growthlab", *args, *common],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    outputs = [
        run(
            "tuner=tpe",
            "tuner.n_trials=4",
            "tuner.n_workers=2",
            "tuner.progress=false",
            "task.cv_folds=2",
            *small,
            *planted,
        ),
        run("command=promote", *planted),
        run(
            "command=score",
            f"registry.scoring.input={leads}",
            f"registry.scoring.output={tmp_path / 'scores.csv'}",
            *planted,
        ),
    ]
    needle = PLANTED.encode()
    for done in outputs:
        assert PLANTED not in done.stdout + done.stderr
    assert _scan(store, needle) == []
    assert _scan(scratch, needle) == []
    assert _scan(tmp_path, needle) == []
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    # The masked config went to the run; the params show the mask, not a blank.
    config = next(store.rglob("config.yaml")).read_text()
    assert "api_token: '***'" in config and "ana:***@backup.example" in config


def test_masked_read_options_are_filled_from_the_current_config() -> None:
    trained = {"sep": ";", "storage_options": {"token": secrets.MASK}}
    current = {"storage_options": {"token": "t-123456"}}
    expected = {"sep": ";", "storage_options": {"token": "t-123456"}}
    assert secrets.filled(trained, current) == expected
    assert secrets.filled(trained, {}) == trained


def test_the_working_folder_is_no_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """PWD matches the password pattern by name: masking it hid every path under the cwd."""
    monkeypatch.setenv("PWD", str(tmp_path))
    monkeypatch.setenv("SERVICE_PWD", "s3cr3t-value")
    secrets.remember_environment()
    assert secrets.mask(f"sqlite:///{tmp_path}/mlflow.db") == f"sqlite:///{tmp_path}/mlflow.db"
    assert secrets.mask("password s3cr3t-value") == "password ***"


@pytest.mark.parametrize(
    "path",
    [
        f"https://ana:{PLANTED}@lake.example/leads.csv",
        f"s3://bucket/leads.parquet?token={PLANTED}",
    ],
)
def test_a_password_in_a_dataset_path_is_not_in_the_error(path: str, tmp_path: Path) -> None:
    """A dataset path that cannot be read is named in the one-line error, masked; nothing runs."""
    done = growthlab("experiments=churn_xgboost", "dataset=file", f"dataset.path='{path}'",
                     store=tmp_path / "mlruns")  # fmt: skip
    error = one_line_error(done)
    assert PLANTED not in done.stdout + done.stderr
    assert "***" in error or "dataset.path" in error
    assert run_statuses(tmp_path / "mlruns") == []
