"""The MLflow UI answers "which data": dataset inputs per split, a run description, and a
registered version's description with its gate verdict once promoted (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from growthlab import handoff
from growthlab.runner import RunResult, run
from tests.conftest import compose_config, store_overrides

NAME = "lead_scoring-simulated_leads"
SMALL = ["dataset.n_rows=3000", "model.n_estimators=30", "model.n_jobs=1"]


@pytest.fixture(scope="module")
def result(module_store: Path) -> RunResult:
    return run(compose_config([*SMALL, *store_overrides(module_store)]))


def test_every_split_is_a_dataset_input_with_source_digest_schema_and_rows(
    result: RunResult,
) -> None:
    inputs = MlflowClient().get_run(result.run_id).inputs.dataset_inputs
    by_context = {
        {t.key: t.value for t in i.tags}["mlflow.data.context"]: i.dataset for i in inputs
    }
    assert set(by_context) == {"training", "validation", "test"}
    rows = {k: json.loads(d.profile)["num_rows"] for k, d in by_context.items()}
    assert rows == {
        "training": len(result.data.parts["train"].X),
        "validation": len(result.data.parts["valid"].X),
        "test": len(result.data.parts["test"].X),
    }
    tags = MlflowClient().get_run(result.run_id).data.tags
    for context, dataset in by_context.items():
        assert dataset.digest == tags["data_digest"][: len(dataset.digest)]
        assert dataset.name.startswith("simulated_leads-")
        assert "simulated_leads" in dataset.source
        columns = [c["name"] for c in json.loads(dataset.schema)["mlflow_colspec"]]
        assert columns == list(result.data.parts["train"].X.columns), context


def test_the_run_and_its_version_are_described(result: RunResult, module_store: Path) -> None:
    note = MlflowClient().get_run(result.run_id).data.tags["mlflow.note.content"]
    assert "**lead_scoring** on **simulated_leads**: 3000 rows" in note
    assert "not tuned" in note
    assert f"| test_roc_auc | {result.metrics['test_roc_auc']:.4f} |" in note
    version = MlflowClient().get_model_version(NAME, "1")
    assert version.description == note

    handoff.promote(compose_config(["command=promote", *store_overrides(module_store)]))
    described = MlflowClient().get_model_version(NAME, "1").description
    assert described.startswith(note)
    assert "**Gate pass** vs champion (none), promoted to @champion" in described
