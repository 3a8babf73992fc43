"""Batch scoring's files under hostile input and crashes: the previous output survives every
failure (a bad row, an unreadable file, SIGKILL), the input is never the output, read errors
are one line, and mixed ISO-8601 dates parse. A plain predict function stands in for the
registered model: these are properties of the files, not of MLflow."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from growthlab import scoring
from growthlab.data.files import FileDataset
from growthlab.errors import UserError
from growthlab.paths import ROOT

SCHEMA = {"x": "double", "when": "datetime"}
REFERENCE = np.linspace(0.0, 1.0, 101)


def predict(X: pd.DataFrame) -> pd.DataFrame:
    """A score from x, and a reason that is blank unless the score is high."""
    score = 1 / (1 + np.exp(-X["x"].fillna(0).to_numpy()))
    reason = np.where(score > 0.9, "hot lead", None)
    return pd.DataFrame({"score": score, "reason": reason}, index=X.index)


def score(source: Path, target: Path, **options: object) -> dict[str, float]:
    return scoring.score_file(predict, SCHEMA, source, target, REFERENCE, "score", "m/1", **options)


def leads(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": [f"{i:06d}" for i in range(n)],
            "x": np.linspace(-3, 3, n),
            "when": ["2024-05-01", "2024-05-01 09:30:00", "2024-05-01T09:30:00+02:00"] * (n // 3)
            + ["2024-05-02"] * (n % 3),
        }
    )


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_failed_run_keeps_the_previous_output(tmp_path: Path, suffix: str) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    leads(90).to_csv(good, index=False)
    target = tmp_path / f"scores{suffix}"
    score(good, target, chunk_rows=10)
    previous = target.read_bytes()
    broken = leads(90).astype({"x": object})
    broken.loc[55, "x"] = "jane@example.com"
    broken.to_csv(bad, index=False)
    with pytest.raises(UserError, match=r"column 'x' must be numeric but row 56 is not") as err:
        score(bad, target, chunk_rows=10)  # chunks 1-5 were written before row 56 is read
    assert "jane" not in str(err.value)  # the row, never the value
    assert target.read_bytes() == previous
    assert leftovers(tmp_path) == []


def test_the_input_file_is_never_the_output(tmp_path: Path) -> None:
    source = tmp_path / "leads.csv"
    leads(30).to_csv(source, index=False)
    written = source.read_bytes()
    link = tmp_path / "link.csv"
    link.symlink_to(source)
    for target in (source, tmp_path / "." / "leads.csv", link):
        with pytest.raises(UserError, match="is the input file; write the scores to another"):
            score(source, target)
    assert source.read_bytes() == written


UNREADABLE = {
    "malformed csv": (".csv", b"lead_id,x,when\n1,0.5,2024-05-01\n2,0.1,2024-05-01,extra,more\n"),
    "latin-1 csv": (".csv", "lead_id,x,when\nJos\u00e9,0.5,2024-05-01\n".encode("latin-1")),
    "not parquet": (".parquet", b"PAR1 this is not a parquet file at all"),
}


@pytest.mark.parametrize("case", UNREADABLE)
def test_an_unreadable_input_is_one_line_and_keeps_the_output(tmp_path: Path, case: str) -> None:
    suffix, content = UNREADABLE[case]
    source = tmp_path / f"leads{suffix}"
    source.write_bytes(content)
    target = tmp_path / "scores.csv"
    target.write_text("previous scores\n")
    with pytest.raises(UserError, match="cannot read|not UTF-8") as err:
        score(source, target)
    assert "\n" not in str(err.value)
    assert target.read_text() == "previous scores\n"
    assert leftovers(tmp_path) == []


def test_parquet_output_takes_a_column_blank_in_the_first_chunk(tmp_path: Path) -> None:
    source, target = tmp_path / "leads.csv", tmp_path / "scores.parquet"
    leads(90).to_csv(source, index=False)  # x rises: only the last chunks hold "hot lead"
    score(source, target, chunk_rows=10)
    out = pd.read_parquet(target)
    assert out["reason"].iloc[:10].isna().all()
    assert (out["reason"].iloc[-5:] == "hot lead").all()
    assert len(out) == 90


def test_the_training_file_s_read_options_read_the_scoring_file(tmp_path: Path) -> None:
    source = tmp_path / "leads.csv"
    frame = leads(30)
    frame.to_csv(source, index=False, sep=";", decimal=",")
    target = tmp_path / "scores.csv"
    score(source, target, chunk_rows=7, read_options={"sep": ";", "decimal": ","})
    out = pd.read_csv(target, dtype={"lead_id": str})
    assert out["lead_id"].tolist() == frame["lead_id"].tolist()
    np.testing.assert_allclose(out["score"], predict(frame)["score"], rtol=1e-6)


KILLED_RUN = """
import sys, time
from pathlib import Path
import numpy as np, pandas as pd
from growthlab import scoring

def predict(X):
    time.sleep(0.02)  # a slow model: the kill lands mid-file
    return pd.DataFrame({"score": 1 / (1 + np.exp(-X["x"].to_numpy()))}, index=X.index)

scoring.score_file(predict, {"x": "double"}, Path(sys.argv[1]), Path(sys.argv[2]),
                   np.linspace(0, 1, 101), "score", "m/1", chunk_rows=500)
"""


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_killed_run_leaves_the_previous_output_and_no_partial_file(
    tmp_path: Path, suffix: str
) -> None:
    source, target = tmp_path / "leads.csv", tmp_path / f"scores{suffix}"
    pd.DataFrame({"lead_id": range(200_000), "x": np.linspace(-3, 3, 200_000)}).to_csv(
        source, index=False
    )
    target.write_bytes(b"previous scores\n")
    run = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLED_RUN), str(source), str(target)], cwd=ROOT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and run.poll() is None:
        started = [p for p in tmp_path.iterdir() if p.name.startswith(".") and p.stat().st_size]
        if started or target.read_bytes() != b"previous scores\n":
            break
        time.sleep(0.02)
    assert run.poll() is None, "the scoring run ended before it could be killed"
    time.sleep(0.3)  # a few more chunks
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert target.read_bytes() == b"previous scores\n"
    assert leftovers(tmp_path), "killed before its first chunk: nothing was tested"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == sorted(
        ["leads.csv", target.name]
    )
    # The dead run's temporary file is hidden, never the output, and the next run removes it.
    small = tmp_path / "small.csv"
    leads(30).to_csv(small, index=False)
    score(small, target)
    assert leftovers(tmp_path) == []
    assert len(pd.read_parquet(target) if suffix == ".parquet" else pd.read_csv(target)) == 30


def test_mixed_iso_dates_parse_in_scoring() -> None:
    frame = leads(6)
    typed = scoring.conform(frame, SCHEMA)
    assert typed["when"].notna().all()
    assert typed["when"].iloc[2] == pd.Timestamp("2024-05-01 07:30:00")  # +02:00 in UTC


def test_a_bad_date_is_named_by_row_not_value() -> None:
    frame = leads(6)
    frame.loc[4, "when"] = "jane@example.com"
    with pytest.raises(UserError, match=r"column 'when' must hold ISO-8601 dates .* row 105 ") as e:
        scoring.conform(frame, SCHEMA, first_row=100)
    assert "jane" not in str(e.value)


def test_mixed_iso_dates_parse_in_training(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    leads(6).to_csv(path, index=False)
    dataset = FileDataset("leads", {"id": "lead_id", "time": "when"}, str(path))
    assert dataset.load()["when"].notna().all()
    bad = leads(6)
    bad.loc[3, "when"] = "Jane Doe"
    bad.to_csv(path, index=False)
    with pytest.raises(UserError, match="row 4 does not") as e:
        dataset.load()
    assert "Jane" not in str(e.value)
