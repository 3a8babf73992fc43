"""Small tables: test ROC AUC of XGBoost defaults, logistic regression, tuned XGBoost and the
default ensemble, side by side in one run, with 95 % paired bootstrap intervals and wall times.

For each dataset, in this process, one configuration after the other, each through growthlab's
own runner (``growthlab.runner.run(compose(...))``) with a fresh temporary store and
``registry.register=false``:

* ``xgboost_defaults``: ``model=xgboost`` with its parameters reset to XGBoost's library defaults
  (100 trees, depth 6, eta 0.3, no row or column sampling, min_child_weight 1, lambda 1; the
  project's native-category settings kept), fitted once on train;
* ``logistic_regression``: ``model=logistic_regression``, fitted once on train;
* ``xgboost_tuned``: ``model=xgboost tuner=tpe tuner.timeout=BUDGET tuner.n_trials=200``;
* ``ensemble``: ``experiments=lead_scoring_ensemble`` (the default) with ``tuner.timeout=BUDGET``;
  for the telecom table the same experiment with ``dataset=telecom_churn task=churn``.

Datasets: the telecom churn customer table (``../shared/data/telecom_churn_mlc.csv``, 5,000 rows,
label churn == "yes", stratified split) and 5,000 simulated leads (``dataset.n_rows=5000``,
out-of-time split on created_at). Below ``task.cv_below_rows`` a tuning trial is scored by
stratified k-fold on train + valid; a tuned configuration is then refitted on train + valid,
an untuned one stays fitted on train alone (the "fit rows" column says which; ``--same-rows``
gives the untuned ones a one-trial study with an empty search space, so they are refitted on
train + valid too).

Per configuration: test ROC AUC (``RunResult.metrics["test_roc_auc"]``), the paired bootstrap
difference of test AUC (1000 resamples of the same test rows, ``growthlab.metrics.bootstrap``)
against the best single model (highest test AUC of the first three) and against XGBoost
defaults, wall seconds of ``run()``, this process's CPU seconds, "others' CPU" (what other
processes used meanwhile, from /proc/stat: the machine is shared, compare rows where it is
small) and the 1-minute load average at the end. On simulated leads an "oracle" line gives the
same intervals for the simulator's true probability: no model can do better, so it shows what
the test split can resolve. Target: the ensemble at least as good as the best single model
within noise (interval of ensemble - best reaches 0) and clearly better than XGBoost defaults
(interval of ensemble - defaults above 0). The ensemble's diagnostics follow: member weights,
OOF and test AUC per member, trials within the budget and the best params.

    python benchmarks/small_tables.py [--budget 60] [--skip-telecom] [--same-rows] [--demo]
        [--seeds 42,43,44] [--variant LABEL "override ... [from=CONFIG]"]...

``--variant`` adds a row: the ensemble's overrides (or those of ``from=CONFIG``, one of the
four) with extra Hydra overrides, e.g. a proposed config change tried without editing conf/;
an override of a key the base sets replaces it (``tuner=none`` drops the ``tuner.*`` ones).
Tuned rows start from the config as written (``tuner.start_from_config``, the default); a
variant with ``tuner.start_from_config=false`` shows what that is worth. ``--seeds`` repeats
everything per seed (``seed=S``: data, split and models) and adds a pooled table: mean test
AUC and the mean per-seed gain, with a bootstrap stratified by seed. ``--demo`` also times
``python -m growthlab experiments=lead_scoring_ensemble store=<tmp>`` as a child process
(wall, CPU from wait4, load average before and after). Needs no network; about 4 minutes per
dataset at the default budget on a free 2-core machine, several times that when other
processes hold the cores.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import shlex
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# growthlab before anything that loads scikit-learn, as in `python -m growthlab`: it sets
# OMP_WAIT_POLICY=PASSIVE, which libgomp reads once, when it loads (XGBoost reuses
# scikit-learn's libgomp); with spinning waits XGBoost's fits slow down 10-100x whenever
# another process holds a core.
import growthlab.cli  # noqa: F401  (also registers the growthlab_root resolver)
from growthlab.metrics.bootstrap import Difference, paired_difference
from growthlab.metrics.classification import rank_auc
from growthlab.paths import CONF_DIR, ROOT

TELECOM_CSV = ROOT.parent / "shared" / "data" / "telecom_churn_mlc.csv"
EXPERIMENT = "lead_scoring_ensemble"
DATASETS = {
    "telecom": ["dataset=telecom_churn", "task=churn"],
    "leads": ["dataset=simulated_leads", "dataset.n_rows=5000", "task=lead_scoring"],
}
XGBOOST_LIBRARY_DEFAULTS = [
    "model.n_estimators=100", "model.max_depth=6", "model.learning_rate=0.3",
    "model.subsample=1", "model.colsample_bytree=1", "model.min_child_weight=1",
    "model.reg_lambda=1",
]  # fmt: skip
SINGLES = ("xgboost_defaults", "logistic_regression", "xgboost_tuned")
# One trial of an empty search space: no tuning, but the runner's refit on train + valid.
SAME_ROWS = ["tuner=tpe", "~search_space", "tuner.n_trials=1"]


@dataclass
class Row:
    """One configuration's run: its test scores, costs and (when tuned) its study."""

    name: str
    overrides: list[str]
    test_auc: float
    scores: np.ndarray
    y_test: np.ndarray
    fit_rows: int
    wall: float
    cpu: float
    others_cpu: float
    load: float
    trials: dict[str, int] = field(default_factory=dict)
    oracle_auc: float = float("nan")
    oracle_scores: np.ndarray | None = None
    tuning_seconds: float = float("nan")
    best_valid: float = float("nan")
    best_params: dict[str, Any] = field(default_factory=dict)
    best_number: int = -1
    ensemble: dict[str, Any] | None = None


def compose(overrides: list[str]) -> Any:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return hydra_compose("config", overrides=overrides)


def busy_cpu_seconds() -> float:
    """CPU seconds all processes have used since boot (every field of /proc/stat but idle)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def configurations(
    dataset: str,
    budget: float,
    same_rows: bool,
    variants: list[tuple[str, str]],
    seed: int | None = None,
) -> list[tuple[str, list[str]]]:
    """(name, overrides) per configuration, variants last."""
    base = DATASETS[dataset] + ([] if seed is None else [f"seed={seed}"])
    tag = f"bench-small-{dataset}-{os.getpid()}" + ("" if seed is None else f"-{seed}")
    tuned = ["tuner=tpe", f"tuner.timeout={budget:g}"]
    configs = {
        "xgboost_defaults": [*base, "model=xgboost", *XGBOOST_LIBRARY_DEFAULTS],
        "logistic_regression": [*base, "model=logistic_regression"],
        "xgboost_tuned": [*base, "model=xgboost", *tuned, "tuner.n_trials=200"],
        "ensemble": [f"experiments={EXPERIMENT}", *base, *tuned],
    }
    if same_rows:
        for name in ("xgboost_defaults", "logistic_regression"):
            configs[name] = [*configs[name], *SAME_ROWS]
    named = list(configs.items())
    for label, extra in variants:
        tokens = shlex.split(extra)
        start = next((t.removeprefix("from=") for t in tokens if t.startswith("from=")), "ensemble")
        if start not in configs:
            raise SystemExit(f"--variant {label}: from={start}; use one of {', '.join(configs)}")
        overrides = [t for t in tokens if not t.startswith("from=")]
        named.append((label, merged(configs[start], overrides)))
    studies = []
    for name, overrides in named:
        if any(o.startswith("tuner=") and o != "tuner=none" for o in overrides) and not any(
            o.startswith("tuner.study_name=") for o in overrides
        ):
            overrides = [*overrides, f"tuner.study_name={tag}-{name}"]
        studies.append((name, overrides))
    return studies


def merged(base: list[str], extra: list[str]) -> list[str]:
    """Base overrides with extra ones appended; an extra key replaces the base key and its
    children (so a variant can say tuner=none, or set a key the base already sets)."""

    def key(override: str) -> str:
        return override.split("=", 1)[0].lstrip("+~")

    replaced = {key(o) for o in extra}
    kept = [o for o in base if not any(key(o) == k or key(o).startswith(f"{k}.") for k in replaced)]
    return [*kept, *extra]


def run_one(name: str, overrides: list[str], verbose: bool) -> Row:
    """The runner in this process with a fresh store; its study is read before the store goes."""
    from growthlab.runner import run

    with tempfile.TemporaryDirectory(prefix="growthlab-small-") as store:
        full = [
            *overrides, f"store={store}", "registry.register=false", f"run_name=bench-{name}",
        ]  # fmt: skip
        cfg = compose(full)
        if cfg.tuner.sampler != "none":
            cfg.tuner.progress = False
        busy, cpu, started = busy_cpu_seconds(), time.process_time(), time.perf_counter()
        printed = io.StringIO()
        with contextlib.redirect_stdout(sys.stdout if verbose else printed):
            result = run(cfg)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        others = max(busy_cpu_seconds() - busy - cpu, 0.0)
        assert result is not None
        test = result.data.parts["test"]
        scores = result.model.predict_proba(test.X)[:, 1]
        auc = float(result.metrics["test_roc_auc"])
        check = float(rank_auc(test.y, scores))
        if abs(check - auc) > 1e-9:
            raise SystemExit(f"{name}: rescored test AUC {check} differs from the run's {auc}")
        row = Row(
            name=name,
            overrides=overrides,
            test_auc=auc,
            scores=scores,
            y_test=np.asarray(test.y),
            fit_rows=len(result.data.parts["train"].y),
            wall=wall,
            cpu=cpu,
            others_cpu=others,
            load=os.getloadavg()[0],
            oracle_auc=float(result.metrics.get("test_oracle_roc_auc", float("nan"))),
            oracle_scores=None if test.oracle is None else np.asarray(test.oracle),
        )
        if cfg.tuner.sampler != "none":
            read_study(row, cfg, result.metrics)
        model = find_ensemble(result.model)
        if model is not None:
            row.ensemble = describe_ensemble(model, cfg, test)
    return row


def read_study(row: Row, cfg: Any, metrics: dict[str, float]) -> None:
    import optuna

    study = optuna.load_study(study_name=cfg.tuner.study_name, storage=cfg.tuner.storage)
    trials = study.get_trials(deepcopy=False)
    row.trials = {
        state: int(metrics.get(f"trials_{state}", 0)) for state in ("complete", "pruned", "fail")
    }
    done = [t for t in trials if t.datetime_start and t.datetime_complete]
    if done:
        first = min(t.datetime_start for t in done)
        row.tuning_seconds = (max(t.datetime_complete for t in done) - first).total_seconds()
    row.best_valid = float(metrics.get("best_valid_roc_auc", float("nan")))
    row.best_params = dict(study.best_params)
    row.best_number = study.best_trial.number


def find_ensemble(model: Any) -> Any:
    """The fitted Ensemble inside the run's pipeline (or its calibration wrapper), if any."""
    from growthlab.models.ensemble import Ensemble

    seen = model
    for _ in range(4):
        if isinstance(seen, Ensemble):
            return seen
        if hasattr(seen, "named_steps"):
            seen = seen.named_steps["model"]
        elif hasattr(seen, "estimator_"):
            seen = seen.estimator_
        else:
            return None
    return None


def describe_ensemble(model: Any, cfg: Any, test: Any) -> dict[str, Any]:
    members_test = {
        name: float(rank_auc(test.y, member.predict_proba(test.X)[:, 1]))
        for name, member in model.members_.items()
    }
    return {
        "method": model.method,
        "weights_setting": model.weights,
        "cv": model.cv,
        "weights": dict(model.weights_),
        "oof_auc": dict(model.member_scores_),
        "test_auc": members_test,
        "task_cv": f"{cfg.task.cv_folds}x{cfg.task.cv_repeats} folds below "
        f"{cfg.task.cv_below_rows} rows",
        "n_trials": int(cfg.tuner.n_trials),
        "timeout": cfg.tuner.timeout,
        "pruner": f"{cfg.tuner.pruner} (warmup {cfg.tuner.warmup_steps})",
    }


def interval(d: Difference | None) -> str:
    if d is None:
        return f"{'-':>27}"
    return f"{d.value:+.4f} [{d.low:+.4f}, {d.high:+.4f}]"


def report(title: str, rows: list[Row], resamples: int, seed: int) -> str:
    y = rows[0].y_test
    for r in rows:
        if len(r.y_test) != len(y) or not np.array_equal(r.y_test, y):
            raise SystemExit(f"{r.name}: its test rows differ from {rows[0].name}'s; cannot pair")
    by_name = {r.name: r for r in rows}
    singles = [by_name[n] for n in SINGLES if n in by_name]
    best = max(singles, key=lambda r: r.test_auc) if singles else None
    default = by_name.get("xgboost_defaults")

    def diff(ref: Row | None, r: Row) -> Difference | None:
        if ref is None or ref is r:
            return None
        return paired_difference(y, ref.scores, r.scores, rank_auc, resamples=resamples, seed=seed)

    lines = [
        title,
        f"{'configuration':22} {'test AUC':>8}  {'- best single [95% CI]':>27}  "
        f"{'- XGB defaults [95% CI]':>27}  {'wall s':>6} {'CPU s':>6} {'others':>6} "
        f"{'load':>4}  {'fit rows':>8}  {'trials c/p/f':>12} {'best valid':>10}",
    ]
    diffs: dict[str, tuple[Difference | None, Difference | None]] = {}
    for r in rows:
        d_best, d_default = diff(best, r), diff(default, r)
        diffs[r.name] = (d_best, d_default)
        trials = "/".join(str(r.trials[k]) for k in ("complete", "pruned", "fail") if r.trials)
        mark = "*" if r is best else " "
        lines.append(
            f"{r.name + mark:22} {r.test_auc:8.4f}  {interval(d_best)}  {interval(d_default)}  "
            f"{r.wall:6.1f} {r.cpu:6.1f} {r.others_cpu:6.1f} {r.load:4.1f}  {r.fit_rows:8d}  "
            f"{trials or '-':>12} "
            f"{'-' if np.isnan(r.best_valid) else f'{r.best_valid:.4f}':>10}"
        )
    oracle = rows[0].oracle_scores
    if oracle is not None:
        truth = Row("oracle (true p)", [], rows[0].oracle_auc, oracle, y, 0, *[float("nan")] * 4)
        lines.append(
            f"{truth.name:22} {truth.test_auc:8.4f}  {interval(diff(best, truth))}  "
            f"{interval(diff(default, truth))}  (the simulator's own probability: the ceiling)"
        )
    lines.append(
        f"* best single model. Test rows {len(y)}, base rate {y.mean():.3f}"
        + ("" if np.isnan(rows[0].oracle_auc) else f", oracle AUC {rows[0].oracle_auc:.4f}")
        + f"; {resamples} paired "
        "bootstrap resamples; difference = row - reference. others = CPU s other processes used "
        "meanwhile; load = 1-min load average at the end (2 cores)."
    )
    for r in rows:
        if r.ensemble is None or best is None or default is None:
            continue
        d_best, d_default = diffs[r.name]
        assert d_best is not None and d_default is not None
        within = d_best.high >= 0
        clearly = d_default.low > 0
        lines.append(
            f"target {r.name}: >= best single ({best.name}) within noise: "
            f"{'met' if within else 'MISSED'} (upper {d_best.high:+.4f}); clearly better than "
            f"XGB defaults: {'met' if clearly else 'MISSED'} (lower {d_default.low:+.4f})"
        )
    for r in rows:
        if r.trials:
            params = ", ".join(f"{k.rsplit('.', 1)[-1]}={fmt(v)}" for k, v in r.best_params.items())
            lines.append(
                f"  {r.name}: {sum(r.trials.values())} trials in {r.tuning_seconds:.0f} s of "
                f"tuning; best (trial {r.best_number}): {params or '-'}"
            )
        if r.ensemble:
            e = r.ensemble
            members = "; ".join(
                f"{n} weight {e['weights'][n]:.2f}, OOF {e['oof_auc'][n]:.4f}, "
                f"test {e['test_auc'][n]:.4f}"
                for n in e["weights"]
            )
            lines.append(
                f"  {r.name}: {e['method']} (weights={e['weights_setting']}, cv={e['cv']}); "
                f"{members}"
            )
            lines.append(
                f"  {r.name}: tuner n_trials={e['n_trials']} timeout={e['timeout']} pruner "
                f"{e['pruner']}; trials scored by {e['task_cv']}"
            )
    return "\n".join(lines)


def pooled_difference(
    pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]], resamples: int, seed: int
) -> Difference:
    """Mean over seeds of AUC(b) - AUC(a), each seed's test rows resampled on their own (a
    paired bootstrap stratified by seed): the interval of the average gain across splits."""
    rng = np.random.default_rng(seed)
    value = float(np.mean([rank_auc(y, b) - rank_auc(y, a) for y, a, b in pairs]))
    diffs = np.empty(resamples)
    for i in range(resamples):
        gains = []
        for y, a, b in pairs:
            rows = rng.integers(0, len(y), len(y))
            while y[rows].min() == y[rows].max():
                rows = rng.integers(0, len(y), len(y))
            gains.append(rank_auc(y[rows], b[rows]) - rank_auc(y[rows], a[rows]))
        diffs[i] = np.mean(gains)
    low, high = np.quantile(diffs, [0.025, 0.975])
    return Difference(value, float(low), float(high))


def pooled_report(title: str, by_seed: dict[int, list[Row]], resamples: int, seed: int) -> str:
    """Per configuration over all seeds: mean test AUC, mean gains with their intervals."""
    seeds = list(by_seed)
    names = [r.name for r in by_seed[seeds[0]]]
    rows = {n: [next(r for r in by_seed[s] if r.name == n) for s in seeds] for n in names}
    mean_auc = {n: float(np.mean([r.test_auc for r in rs])) for n, rs in rows.items()}
    singles = [n for n in SINGLES if n in rows]
    best = max(singles, key=mean_auc.__getitem__) if singles else None
    default = "xgboost_defaults" if "xgboost_defaults" in rows else None

    def diff(ref: str | None, name: str) -> Difference | None:
        if ref is None or ref == name:
            return None
        pairs = [(a.y_test, a.scores, b.scores) for a, b in zip(rows[ref], rows[name], strict=True)]
        return pooled_difference(pairs, resamples, seed)

    lines = [
        title,
        f"{'configuration':22} {'mean AUC':>8}  {'- best single [95% CI]':>27}  "
        f"{'- XGB defaults [95% CI]':>27}  {'wall s':>6}  {'per-seed test AUC'}",
    ]
    found = {}
    for name, rs in rows.items():
        found[name] = (diff(best, name), diff(default, name))
        lines.append(
            f"{name + ('*' if name == best else ' '):22} {mean_auc[name]:8.4f}  "
            f"{interval(found[name][0])}  {interval(found[name][1])}  "
            f"{np.mean([r.wall for r in rs]):6.1f}  " + " ".join(f"{r.test_auc:.4f}" for r in rs)
        )
    if rows[names[0]][0].oracle_scores is not None and best and default:
        truth = {
            ref: pooled_difference(
                [(r.y_test, r.scores, r.oracle_scores) for r in rows[ref]], resamples, seed
            )
            for ref in (best, default)
        }
        oracle_auc = np.mean([r.oracle_auc for r in rows[names[0]]])
        lines.append(
            f"{'oracle (true p)':22} {oracle_auc:8.4f}  {interval(truth[best])}  "
            f"{interval(truth[default])}"
        )
    positives = sum(int(r.y_test.sum()) for r in rows[names[0]])
    tested = sum(len(r.y_test) for r in rows[names[0]])
    lines.append(
        f"* best single model (mean test AUC). Seeds {','.join(map(str, seeds))}: {tested} test "
        f"rows, {positives} positives in all; {resamples} bootstrap resamples of the mean gain, "
        "stratified by seed; wall = mean seconds per seed."
    )
    for name, rs in rows.items():
        if rs[0].ensemble is None or best is None or default is None:
            continue
        d_best, d_default = found[name]
        assert d_best is not None and d_default is not None
        lines.append(
            f"target {name}: >= best single ({best}) within noise: "
            f"{'met' if d_best.high >= 0 else 'MISSED'} (upper {d_best.high:+.4f}); clearly "
            f"better than XGB defaults: {'met' if d_default.low > 0 else 'MISSED'} "
            f"(lower {d_default.low:+.4f})"
        )
    return "\n".join(lines)


def code_version() -> str:
    """The commit under test, and whether src/, conf/ or experiments/ differ from it."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "conf", "experiments"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return commit + (" + uncommitted changes in src/conf/experiments" if dirty else "")


def fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def time_demo() -> str:
    """The demo as a child process: wall, its CPU (user + sys, wait4), load before and after."""
    with tempfile.TemporaryDirectory(prefix="growthlab-demo-") as store:
        command = [sys.executable, "-m", "growthlab", f"experiments={EXPERIMENT}", f"store={store}"]
        log = Path(store) / "demo.log"
        load_before = os.getloadavg()
        with log.open("wb") as out:
            busy, started = busy_cpu_seconds(), time.perf_counter()
            child = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(child.pid, 0)
            wall, busy = time.perf_counter() - started, busy_cpu_seconds() - busy
        load_after = os.getloadavg()
        text = log.read_text(errors="replace")
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{text[-3000:]}")
        cpu = usage.ru_utime + usage.ru_stime
        summary = [line for line in text.splitlines() if "test_roc_auc=" in line]
        timeout = [line.split(" INFO ")[-1] for line in text.splitlines() if "timeout" in line]
        fitted = [line.split(" INFO ")[-1] for line in text.splitlines() if "fitted" in line]
        bars = [
            part for part in text.replace("\r", "\n").splitlines() if part.startswith("trials:")
        ]
        fitted += bars[-1:]  # the progress bar's last state: trials finished, best value
    return "\n".join(
        [
            f"demo: python {' '.join(command[1:4])} store=<tmp>",
            f"  wall {wall:.1f} s, CPU {cpu:.1f} s (user {usage.ru_utime:.1f} + sys "
            f"{usage.ru_stime:.1f}), CPU/wall {cpu / wall:.2f}, peak RSS "
            f"{usage.ru_maxrss / 1024:.0f} MB, others' CPU {max(busy - cpu, 0):.1f} s",
            f"  load average before {fmt3(load_before)}, after {fmt3(load_after)} (2 cores)",
            *(f"  {line.strip()}" for line in [*timeout, *fitted, *summary]),
        ]
    )


def fmt3(load: tuple[float, float, float]) -> str:
    return " ".join(f"{v:.2f}" for v in load)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Test ROC AUC of XGBoost defaults, logistic regression, tuned XGBoost and "
        "the default ensemble on small tables, with paired bootstrap intervals and wall times."
    )
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per tuned config")
    parser.add_argument("--skip-telecom", action="store_true")
    parser.add_argument("--skip-leads", action="store_true")
    parser.add_argument(
        "--same-rows", action="store_true", help="refit the untuned configs on train + valid too"
    )
    parser.add_argument("--only", help="comma-separated configuration names to run (default: all)")
    parser.add_argument(
        "--variant", nargs=2, action="append", default=[], metavar=("LABEL", "OVERRIDES"),
        help="an extra row: the ensemble's overrides (or from=CONFIG's) plus these space-separated "
        "Hydra overrides",
    )  # fmt: skip
    parser.add_argument(
        "--seeds", help="comma-separated config seeds (data, split, models): one table each, "
        "then a pooled one (default: the config's seed)",
    )  # fmt: skip
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument("--demo", action="store_true", help="also time the demo process")
    parser.add_argument("--verbose", action="store_true", help="show the runner's own output")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%X")
    logging.getLogger("growthlab").setLevel(logging.INFO if args.verbose else logging.WARNING)
    if not args.verbose:
        warnings.simplefilter("ignore")

    datasets = []
    if not args.skip_telecom:
        if TELECOM_CSV.is_file():
            datasets.append("telecom")
        else:
            print(f"skipping telecom: {TELECOM_CSV} is absent")
    if not args.skip_leads:
        datasets.append("leads")
    only = set(args.only.split(",")) if args.only else None

    import growthlab.tracking  # noqa: F401  (mlflow's import is paid here, not by the first row)

    print(
        f"code {code_version()}; budget {args.budget:g} s per tuned configuration; cpus "
        f"{os.cpu_count()}; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}; "
        f"load average {fmt3(os.getloadavg())}",
        flush=True,
    )
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [None]
    variants = [tuple(v) for v in args.variant]
    for dataset in datasets:
        by_seed: dict[int, list[Row]] = {}
        for seed in seeds:
            rows = []
            for name, overrides in configurations(
                dataset, args.budget, args.same_rows, variants, seed
            ):
                if only and name not in only:
                    continue
                row = run_one(name, overrides, args.verbose)
                print(
                    f"{dataset} {name}: test AUC {row.test_auc:.4f}, {row.wall:.1f} s "
                    f"(load {row.load:.1f})  [{' '.join(overrides)}]",
                    flush=True,
                )
                rows.append(row)
            if rows:
                where = "" if seed is None else f" seed={seed}"
                title = f"\n== {dataset}: {' '.join(DATASETS[dataset])}{where}"
                print(report(title, rows, args.resamples, args.seed), flush=True)
                by_seed[seed] = rows
        if len(by_seed) > 1:
            title = f"\n== {dataset}: {' '.join(DATASETS[dataset])}, pooled over seeds"
            print(pooled_report(title, by_seed, args.resamples, args.seed), flush=True)
    if args.demo:
        print("\n" + time_demo(), flush=True)


if __name__ == "__main__":
    main()
