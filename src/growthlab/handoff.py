"""Handing a model on: promote through the gate, read the decision history, score a file.

Like runner.run, these read the config (they are the commands `make promote`, `make history`
and `make score` run) and pass plain values on.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from growthlab import gate as gates
from growthlab import scoring, secrets
from growthlab.build import build, setting
from growthlab.engines import PandasEngine
from growthlab.errors import UserError
from growthlab.tasks import Task

log = logging.getLogger(__name__)

SCORING = "registry.scoring"


def promote(cfg: DictConfig) -> None:
    """Judge the challenger (or VERSION) against the gate; move @champion on a pass or FORCE."""
    reg = cfg.registry
    setting(reg, "registry", "force", bool)
    if reg.force and not reg.reason:
        raise UserError('FORCE needs a reason: add REASON="..." (it is kept in the history)')
    gate = build(reg.gate, "registry.gate")
    registry = _connect(cfg)
    name = reg.model_name
    candidate = registry.model_version(
        name, version=reg.version, alias=None if reg.version is not None else registry.CHALLENGER
    )
    if candidate.run_status != "FINISHED":
        raise UserError(
            f"version {candidate.version} of {name!r} comes from a run that is "
            f"{candidate.run_status}; only versions of finished runs can be promoted"
        )
    current = registry.alias_version(name, registry.CHAMPION)
    if current == candidate.version:
        raise UserError(f"version {current} is already the champion of {name!r}")
    task = task_of(candidate.run_id)
    if task.recorded_gate:  # the model has seen every window: judge the recorded backtest
        champion_recorded = None
        if current is not None:
            champion_recorded = registry.recorded_metrics(
                registry.model_version(name, current).tags
            )
        checks = gate.judge_recorded(
            task, registry.recorded_metrics(candidate.tags), champion_recorded
        )
        units = "the test windows recorded at training"
    else:
        checks, n = _judge_holdout(gate, task, registry, candidate, name, current)
        units = f"{n} holdout units"
    verdict = gates.passed(checks)
    moved = verdict or bool(reg.force)
    print(
        f"\n{name}: challenger v{candidate.version} vs champion "
        f"{'v' + current if current else '(none yet)'} on {units}\n"
    )
    table = gates.verdict_table(checks, gate.confidence)
    print(table)
    decision = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "action": "promote",
        "version": candidate.version,
        "previous_champion": current,
        "verdict": "pass" if verdict else "fail",
        "forced": bool(reg.force),
        "reason": reg.reason or "",
        "moved": moved,
        "metrics": {f"{c.check}.{c.metric}": round(c.challenger, 6) for c in checks},
    }
    _decide(registry, name, decision, current)
    registry.add_to_description(
        name,
        candidate.version,
        f"**Gate {'pass' if verdict else 'fail'}** vs champion {current or '(none)'}"
        f"{' (forced: ' + reg.reason + ')' if reg.force else ''}, "
        f"{'promoted to @champion' if moved else 'not promoted'}:\n\n```\n{table}\n```",
    )
    if not moved:
        raise UserError(
            f"v{candidate.version} did not pass the gate: @champion stays "
            f'{"v" + current if current else "unset"} (override: FORCE=1 REASON="...")'
        )
    print(f"\n@champion -> v{candidate.version}" + (" (forced)" if reg.force else ""))


def _judge_holdout(
    gate: Any, task: Task, registry: Any, candidate: Any, name: str, current: str | None
) -> tuple[list[Any], int]:
    """Re-score challenger and champion on the challenger's holdout, and judge them."""
    model = registry.load_model(candidate.uri)
    holdout = registry.download_frame(candidate.run_id, registry.HOLDOUT)
    X, y = task.outcomes(holdout, registry.schema(model))
    challenger_scores = _scores(model, task.output_column, X)
    champion_scores, champion_error = None, None
    if current is not None:
        try:
            champion = registry.load_model(f"models:/{name}/{current}")
            champion_scores = _scores(champion, task.output_column, X)
        except Exception as exc:  # noqa: BLE001 - any failure to score is reported, then judged
            champion_error = str(exc).strip().splitlines()[0][:200]
    checks = gate.judge(
        task, y, challenger_scores, champion_scores, champion_error, X,
        registry.recorded_metrics(candidate.tags),
    )  # fmt: skip
    return checks, len(y)


def _decide(registry: Any, name: str, decision: dict[str, Any], judged_against: str | None) -> None:
    """Under the model's promotion lock: re-check the champion the verdict was judged
    against, record the decision as pending, move the alias, complete the record. A crash
    in between leaves a pending record that `make history` shows as interrupted."""
    with registry.promotion_lock(name):
        registry.close_interrupted(name)
        current = registry.alias_version(name, registry.CHAMPION)
        if current != judged_against:
            raise UserError(
                f"@champion of {name!r} moved to v{current} while v{decision['version']} was "
                f"judged against {'v' + judged_against if judged_against else 'no champion'}: "
                "run make promote again to judge it against the new champion"
            )
        key = registry.record_decision(name, {**decision, "status": registry.PENDING})
        if decision["moved"]:
            registry.set_alias(name, registry.CHAMPION, decision["version"])
        registry.record_decision(name, {**decision, "status": registry.DONE}, key)


def history(cfg: DictConfig) -> None:
    """Every promotion decision on the model, oldest first."""
    registry = _connect(cfg)
    name = cfg.registry.model_name
    registry.require_model(name)
    records = registry.decisions(name)
    if not registry.promotion_running(name):  # a pending record's promotion died: say so
        champion = registry.alias_version(name, registry.CHAMPION)
        for r in records:
            if r["status"] == registry.PENDING:
                r.update(status=registry.INTERRUPTED, moved=champion == str(r["version"]))
    if not records:
        print(f"{name}: no promotion decisions yet (make promote MODEL={name})")
        return
    header = ("time", "version", "previous", "verdict", "forced", "moved", "status", "reason")
    rows = [header] + [
        (
            r["time"],
            f"v{r['version']}",
            f"v{r['previous_champion']}" if r["previous_champion"] else "-",
            r["verdict"],
            "yes" if r["forced"] else "no",
            "yes" if r["moved"] else "no",
            r["status"],
            r["reason"],
        )
        for r in records
    ]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))


def score(cfg: DictConfig) -> None:
    """Score INPUT with the model at ALIAS into OUTPUT, in chunks; warn on drift."""
    reg = cfg.registry
    if not reg.scoring.input or not reg.scoring.output:
        raise UserError(
            "give the file to score and where to write: INPUT=leads.csv OUTPUT=scores.csv"
        )
    registry = _connect(cfg)
    version = registry.model_version(reg.model_name, alias=reg.alias)
    model = registry.load_model(version.uri)
    trained = registry.run_config(version.run_id)  # its task, and how its file was read
    task, schema = build(trained.task, "task"), registry.schema(model)
    read_options = secrets.filled(  # masked secrets (a token) come from this run's config
        _plain(trained.dataset.get("read_options")), _plain(cfg.dataset.get("read_options"))
    )
    reference, example = None, None
    if task.score_column:  # deciles and drift are measured against the holdout's scores
        X, _ = task.outcomes(registry.download_frame(version.run_id, registry.HOLDOUT), schema)
        reference, example = _scores(model, task.score_column, X), X.head(20)
    source, target = Path(reg.scoring.input).expanduser(), Path(reg.scoring.output).expanduser()
    scoring.check_paths(source, target)  # before a log becomes a snapshot file of our own
    engine = build(cfg.engine, "engine") if "engine" in cfg else PandasEngine()
    job = scoring.ScoringJob(
        model_uri=version.uri,
        model=model,
        input_schema=registry.input_schema(model),
        source=source,
        target=target,
        cutoff=str(reg.scoring.cutoff) if reg.scoring.cutoff else None,
        task=task,
        schema=schema,
        reference=reference,
        example=example,
        model_version=f"{reg.model_name}/{version.version}",
        psi_threshold=setting(reg.scoring, SCORING, "psi_threshold", float),
        read_options=read_options,
    )
    summary = engine.score(job)  # None: pandas scoring in chunks, below
    with tempfile.TemporaryDirectory() as folder:
        if summary is None and reg.scoring.cutoff:
            cutoff = str(reg.scoring.cutoff)
            source = _table_from_log(task, schema, source, cutoff, Path(folder), read_options)
        summary = summary or scoring.score_file(
            model.predict,
            registry.input_schema(model),
            source,
            target,
            reference,
            task.score_column,
            f"{reg.model_name}/{version.version}",
            None
            if task.whole_input
            else setting(reg.scoring, "registry.scoring", "chunk_rows", int),
            setting(reg.scoring, SCORING, "psi_threshold", float),
            read_options,
        )
    drift = "" if np.isnan(summary["psi"]) else f"  (PSI vs holdout {summary['psi']:.3f})"
    print(
        f"scored {int(summary['rows'])} rows with {reg.model_name} v{version.version} "
        f"(@{reg.alias}) -> {reg.scoring.output}{drift}"
    )


def _table_from_log(
    task: Task,
    schema: dict[str, Any],
    log_file: Path,
    cutoff: str,
    folder: Path,
    read_options: dict[str, Any],
) -> Path:
    """A churn model scores customers, not events: build their snapshot at the cutoff first."""
    if not task.scores_logs:
        raise UserError(f"a {task.name} model scores rows as they are: leave CUTOFF unset")
    table = task.table_from_log(scoring.read_table(log_file, read_options), cutoff, schema)
    path = folder / "customers_at_cutoff.parquet"
    table.to_parquet(path, index=False)
    return path


def _plain(node: Any) -> dict[str, Any]:
    return dict(OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else {})


def _scores(model: Any, column: str, X: Any) -> np.ndarray:
    """One column of the model's output on X: what the gate judges, or the scores deciles cut.

    Only the columns the model declares are passed: a holdout may carry more (the sentiment
    gate's stored lexicon verdicts), which MLflow would drop with a warning on every promote.
    """
    from growthlab import registry

    declared = registry.input_schema(model)
    if declared and hasattr(X, "columns"):
        X = X[[c for c in X.columns if c in declared]]
    return model.predict(X)[column].to_numpy()


def task_of(run_id: str) -> Task:
    """The task of the run that trained a version, rebuilt from that run's own config."""
    from growthlab import registry

    return build(registry.run_config(run_id).task, "task")


def _connect(cfg: DictConfig) -> Any:
    from growthlab import registry  # mlflow is slow to import: only for these commands

    build(cfg.tracking, "tracking").connect()
    return registry
