"""Batch scoring for the CRM: a file in, the same rows with scores out, in bounded memory.

The model comes from the registry (handoff.py loads it); this module only sees a predict
function, the model's input schema and a reference score distribution (the model's own scores
on its holdout), which fixes the decile cut points and the baseline for drift (PSI).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from growthlab.errors import UserError
from growthlab.progress import progress

log = logging.getLogger(__name__)

NUMERIC = {"double", "float", "long", "integer"}
N_BINS = 10


def conform(chunk: pd.DataFrame, schema: Mapping[str, str], first_row: int = 0) -> pd.DataFrame:
    """The model's input columns, typed as its signature says; one line names what is wrong."""
    missing = [c for c in schema if c not in chunk.columns]
    if missing:
        raise UserError(
            f"input lacks column(s) {', '.join(map(repr, missing))} the model needs; "
            "add them (blank values are allowed)"
        )
    typed = {}
    for column, kind in schema.items():
        values = chunk[column]
        if kind in NUMERIC:
            numbers = pd.to_numeric(values, errors="coerce")
            _refuse_unparsed(values, numbers, column, "numeric", first_row)
            typed[column] = numbers.astype("float64") if kind in ("double", "float") else numbers
        elif kind == "boolean":
            flags = values.map(_boolean, na_action="ignore")
            _refuse_unparsed(values, flags, column, "true/false (or 1/0)", first_row)
            typed[column] = flags.astype("object")
        elif kind == "datetime":  # a date read from CSV is text; the signature wants dates
            dates = pd.to_datetime(values, errors="coerce", format="mixed")
            _refuse_unparsed(values, dates, column, "a date", first_row)
            typed[column] = dates
        elif kind == "string":
            typed[column] = values.astype("str")  # a code column read as numbers becomes text
        else:
            typed[column] = values
    return pd.DataFrame(typed, index=chunk.index)


def _refuse_unparsed(
    raw: pd.Series, parsed: pd.Series, column: str, kind: str, first_row: int
) -> None:
    """A value that was there but did not parse: name the column, the row and the value."""
    bad = parsed.isna() & raw.notna()
    if bad.any():
        row = first_row + int(np.flatnonzero(bad.to_numpy())[0])
        raise UserError(
            f"column {column!r} must be {kind} but row {row + 1} holds "
            f"{raw[bad].iloc[0]!r}; fix the input file"
        )


def _boolean(value: object) -> bool | None:
    """True / False from the usual spellings; None for anything else (reported by conform)."""
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "1.0"):
        return True
    if text in ("false", "0", "no", "0.0"):
        return False
    return None


def cut_points(reference: np.ndarray) -> np.ndarray:
    """Decile boundaries of the reference scores (9 cuts, lowest first)."""
    return np.quantile(reference, np.linspace(0, 1, N_BINS + 1)[1:-1])


def deciles(scores: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """1 = the top 10 % of the reference distribution, 10 = the bottom 10 %."""
    return N_BINS - np.searchsorted(cuts, scores, side="right")


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index between two histograms over the same bins."""
    e = np.clip(expected / expected.sum(), 1e-6, None)
    a = np.clip(actual / max(actual.sum(), 1), 1e-6, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _check_exists(path: Path) -> None:
    if not path.is_file():
        raise UserError(
            f"input file {str(path)!r} does not exist; fix INPUT / registry.scoring.input"
        )


def read_table(path: Path) -> pd.DataFrame:
    """A whole CSV or Parquet file (a transaction log is grouped by customer: read it whole)."""
    _check_exists(path)
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise UserError(f"input file {str(path)!r} is empty: it has no rows") from None


def read_chunks(
    path: Path, rows: int, as_text: Callable[[str], bool] = lambda column: False
) -> Iterator[pd.DataFrame]:
    """CSV or Parquet in chunks of `rows`, so a file of any size fits in memory.

    CSV columns for which as_text(column) holds are read as text, exactly as written: ids that
    pass through to the output keep their leading zeros, and a column blank in the first chunk
    keeps one type in every chunk.
    """
    _check_exists(path)
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            yield batch.to_pandas()
        return
    try:
        header = pd.read_csv(path, nrows=0).columns
    except pd.errors.EmptyDataError:
        raise UserError(f"input file {str(path)!r} is empty: it has no rows") from None
    text = {c: "str" for c in header if as_text(c)}
    yield from pd.read_csv(path, chunksize=rows, dtype=text)


class ChunkWriter:
    """Appends chunks to CSV or Parquet; the format follows the output's extension."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parquet = path.suffix.lower() == ".parquet"
        self.writer = None
        self.schema = None
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()

    def write(self, frame: pd.DataFrame) -> None:
        if not self.parquet:
            frame.to_csv(self.path, mode="a", header=not self.path.exists(), index=False)
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.writer is None:
            self.schema = table.schema
            self.writer = pq.ParquetWriter(self.path, self.schema)
        self.writer.write_table(table.cast(self.schema))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def score_file(
    predict: Callable[[pd.DataFrame], pd.DataFrame],
    schema: Mapping[str, str],
    source: Path,
    target: Path,
    reference: np.ndarray | None,
    score_column: str | None,
    model_version: str,
    chunk_rows: int | None = 100_000,
    psi_threshold: float = 0.2,
) -> dict[str, float]:
    """Score `source` into `target`: extra columns pass through, then the model's output,
    its decile against the reference distribution, and the model version.

    Without a reference (a segment, a ranked list) no deciles or drift are computed. An output
    that is not one row per input row (a forecast of future periods) is written as it is.
    chunk_rows=None reads the file whole (a series' forecast needs all of its history).
    """
    ranked = reference is not None and score_column is not None
    if ranked:
        cuts = cut_points(reference)
        expected = np.bincount(deciles(reference, cuts) - 1, minlength=N_BINS).astype(float)
    actual = np.zeros(N_BINS)
    writer = ChunkWriter(target)
    rows = 0
    chunks = (
        iter([read_table(source)])
        if chunk_rows is None
        else read_chunks(source, chunk_rows, as_text=lambda c: c not in schema)
    )
    try:
        for chunk in progress(chunks, "scoring", unit="chunk"):
            features = conform(chunk, schema, rows)
            output = predict(features)
            if len(output) == len(chunk):
                extra = chunk[[c for c in chunk.columns if c not in schema]]
                scored = pd.concat([extra, output.set_index(chunk.index)], axis=1)
            else:
                scored = output.reset_index(drop=True)
            if ranked and score_column in output:
                scored["decile"] = deciles(output[score_column].to_numpy(), cuts)
                actual += np.bincount(scored["decile"] - 1, minlength=N_BINS)
            scored["model_version"] = model_version
            writer.write(scored)
            rows += len(chunk)
        if rows == 0:
            raise UserError(f"input file {str(source)!r} has no rows")
    except BaseException:
        writer.close()
        target.unlink(missing_ok=True)  # no half-written score file for the CRM to pick up
        raise
    writer.close()
    if not ranked:
        return {"rows": float(rows), "psi": float("nan")}
    drift = psi(expected, actual)
    if drift > psi_threshold:
        log.warning(
            "score distribution drifted from the model's holdout: PSI %.3f > %.2f; "
            "check the input or retrain",
            drift,
            psi_threshold,
        )
    return {"rows": float(rows), "psi": drift}
