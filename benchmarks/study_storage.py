"""Trials per second of one small study: Optuna's gRPC proxy (make server) vs the direct
PostgreSQL role, side by side in one run.

Starts what `make server` starts for studies, with its own code: a private PostgreSQL cluster
(`growthlab.server.start_cluster`: the `optuna` database and least-privilege role, password in a
0600 pgpass file) and the study proxy (`growthlab.study_proxy.start`) in front of it; no MLflow.
Then, alternating direct / proxy for `--reps` rounds, `--workers` processes each run trials of a
fresh study until it holds `--trials` (TPE, seeded, a trivial objective: the figure is what the
storage costs per trial, the sampler included and the same for both). The storages are what
`growthlab.tuning.Tuner` opens for `tuner.storage=postgresql+psycopg2://optuna@...` (RDBStorage
with heartbeats) and for `tuner.storage=grpc://...` (GrpcStorageProxy). Prints, per arm, the
median seconds and trials per second, and the ratio proxy / direct.

    .venv/bin/python benchmarks/study_storage.py [--trials 200] [--workers 2] [--reps 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import optuna

from growthlab import server, study_proxy
from growthlab.tuning import Tuner


def work(storage: str, study_name: str, trials: int, seed: int) -> None:
    """One process: trials of the study until it holds `trials` finished ones."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    tuner = Tuner(storage=storage, study_name=study_name, seed=seed)
    study = optuna.load_study(
        study_name=study_name,
        storage=tuner._storage(),  # noqa: SLF001 - exactly what a growthlab worker opens
        sampler=optuna.samplers.TPESampler(seed=seed),
    )

    def objective(trial: optuna.Trial) -> float:
        x, y = trial.suggest_float("x", -5, 5), trial.suggest_int("y", 0, 10)
        return (x - 1) ** 2 + (y - 3) ** 2

    while len(study.get_trials(deepcopy=False)) < trials:
        study.optimize(objective, n_trials=1)


def arm(storage: str, name: str, trials: int, workers: int) -> float:
    """Seconds for `workers` processes to fill a fresh study with `trials` trials."""
    tuner = Tuner(storage=storage, study_name=name)
    optuna.create_study(storage=tuner._storage(), study_name=name)  # noqa: SLF001
    context = multiprocessing.get_context("spawn")  # no storage connection crosses a fork
    started = time.perf_counter()
    processes = [
        context.Process(target=work, args=(storage, name, trials, seed)) for seed in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
        assert process.exitcode == 0, f"a worker on {storage} failed"
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    state = Path(tempfile.mkdtemp(prefix="growthlab-bench-studies-"))
    state.chmod(0o711 if os.geteuid() == 0 else 0o700)  # the postgres user reaches pg/ inside
    try:
        creds = server.credentials(state)
        pg_port = server.start_cluster(state, creds)
        pgpass = state / "pgpass"
        server.private_file(pgpass, f"127.0.0.1:{pg_port}:*:optuna:{creds['optuna_password']}\n")
        os.environ["PGPASSFILE"] = str(pgpass)  # the direct arm's password, as libpq reads it
        direct = f"postgresql+psycopg2://optuna@127.0.0.1:{pg_port}/optuna"
        port = server.free_port()
        study_proxy.start("127.0.0.1", port, direct, dict(os.environ), state)
        arms = {"direct": direct, "proxy": f"grpc://127.0.0.1:{port}"}
        seconds: dict[str, list[float]] = {name: [] for name in arms}
        for rep in range(args.reps):
            for name, storage in arms.items():
                spent = arm(storage, f"bench-{name}-{rep}", args.trials, args.workers)
                seconds[name].append(spent)
                print(f"rep {rep} {name:6s} {spent:7.1f} s  {args.trials / spent:6.1f} trials/s")
        print(f"\n{args.trials} trials, {args.workers} processes, {args.reps} reps (median):")
        median = {name: statistics.median(values) for name, values in seconds.items()}
        for name, spent in median.items():
            print(
                f"  {name:6s} {spent:7.1f} s  {args.trials / spent:6.1f} trials/s  ({arms[name]})"
            )
        print(f"  proxy / direct trials per second: {median['direct'] / median['proxy']:.2f}x")
    finally:
        study_proxy.stop(state)
        server.stop_cluster(state)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
