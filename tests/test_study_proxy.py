"""Optuna's gRPC study proxy as `make server` runs it (issue 14): a real proxy process on a
SQLite study database, a study through `tuner.storage=grpc://...`, and a stop that ends it."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from growthlab import study_proxy
from growthlab.errors import UserError
from growthlab.processes import alive
from growthlab.tuning import Tuner
from tests.postgres import free_port

pytest.importorskip("grpc")


def test_a_study_goes_through_the_proxy_and_stop_ends_it(tmp_path: Path) -> None:
    port = free_port()
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    pid = study_proxy.start("127.0.0.1", port, url, dict(os.environ), tmp_path)
    try:
        assert alive(pid) and os.getpgid(pid) == pid  # its own group: stop ends exactly it
        assert stat.S_IMODE((tmp_path / "studies.log").stat().st_mode) == 0o600
        # Started again (make server after the tracking server alone died): the same proxy.
        assert study_proxy.start("127.0.0.1", port, url, dict(os.environ), tmp_path) == pid
        tuner = Tuner(storage=f"grpc://127.0.0.1:{port}", study_name="through-the-proxy")
        study = tuner.study("maximize", fingerprint="f1")
        study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=3)
    finally:
        said = study_proxy.stop(tmp_path)
    assert said == f"stopped the study proxy (pid {pid})" and not alive(pid)
    stored = optuna.load_study(study_name="through-the-proxy", storage=url)
    assert len(stored.trials) == 3 and stored.user_attrs == {"fingerprint": "f1"}
    assert study_proxy.stop(tmp_path) == ""  # nothing left to stop


def test_no_proxy_or_a_malformed_address_is_one_line() -> None:
    with pytest.raises(UserError, match="no study proxy answers on grpc://127.0.0.1:"):
        study_proxy.client(f"grpc://127.0.0.1:{free_port()}", wait=1)
    with pytest.raises(UserError, match="write grpc://HOST:PORT"):
        Tuner(storage="grpc://studies.example")._storage()


def test_a_trial_whose_beat_stopped_on_another_machine_is_failed_and_queued(
    tmp_path: Path,
) -> None:
    """The proxy keeps no heartbeats: a trial run through it raises a beat counter, and a
    counter that stops moving for twice heartbeat_seconds marks its process gone."""
    port = free_port()
    study_proxy.start(
        "127.0.0.1", port, f"sqlite:///{tmp_path / 'o.db'}", dict(os.environ), tmp_path
    )
    try:
        tuner = Tuner(storage=f"grpc://127.0.0.1:{port}", study_name="beats", heartbeat_seconds=1)
        study = tuner.study("maximize")
        trials = [study.ask({"x": optuna.distributions.FloatDistribution(0, 1)}) for _ in range(2)]
        for trial in trials:  # as another machine's worker leaves them
            trial.set_user_attr("host", "another-machine")
            trial.set_user_attr("pid", 4242)
        live, killed = trials
        killed.set_user_attr(study_proxy.BEAT_ATTR, 7)  # beat, then was killed
        with study_proxy.beating(live, 0.3):
            tuner.fail_orphans(study)  # first sight of both counters
            time.sleep(2.6)
            tuner.fail_orphans(study)
            states = {t.number: t.state for t in study.get_trials(deepcopy=False)}
        assert states[live.number] == TrialState.RUNNING
        assert states[killed.number] == TrialState.FAIL
        queued = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        assert [t.system_attrs["fixed_params"] for t in queued] == [killed.params]
    finally:
        study_proxy.stop(tmp_path)
