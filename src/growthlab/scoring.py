"""Batch scoring for the CRM: a file in, the same rows with scores out, in bounded memory.

The model comes from the registry (handoff.py loads it); this module only sees a predict
function, the model's input schema and a reference score distribution (the model's own scores
on its holdout), which fixes the decile cut points and the baseline for drift (PSI).

Over 300 lines: reading chunks, conforming them to the signature and writing the output
atomically are one guarantee (never a half-written file), reviewed as one unit.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from growthlab.data.dates import parse_dates
from growthlab.data.files import refuse_repeated_headers
from growthlab.errors import UserError
from growthlab.processes import alive
from growthlab.progress import progress

log = logging.getLogger(__name__)

NUMERIC = {"double", "float", "long", "integer"}
N_BINS = 10


@dataclass
class ScoringJob:
    """What `make score` decided before an engine scores: model, task, files, reference."""

    model_uri: str
    model: Any  # the loaded pyfunc (for the output's columns, from holdout rows)
    input_schema: dict[str, str]
    source: Path
    target: Path
    cutoff: str | None
    task: Any
    schema: dict[str, Any]
    reference: np.ndarray | None
    example: pd.DataFrame | None  # holdout rows: the output columns are read from their scores
    model_version: str
    psi_threshold: float
    read_options: dict[str, Any]


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
            # inf parses as a number but no model can use it: same one line, by row
            _refuse_unparsed(values, numbers.mask(np.isinf(numbers)), column, "finite", first_row)
            typed[column] = numbers.astype("float64") if kind in ("double", "float") else numbers
        elif kind == "boolean":
            flags = values.map(_boolean, na_action="ignore")
            _refuse_unparsed(values, flags, column, "true/false (or 1/0)", first_row)
            typed[column] = flags.astype("object")
        elif kind == "datetime":  # a date read from CSV is text; the signature wants dates
            typed[column] = parse_dates(values, column, first_row)
        elif kind == "string":
            typed[column] = values.astype("str")  # a code column read as numbers becomes text
        else:
            typed[column] = values
    return pd.DataFrame(typed, index=chunk.index)


def _refuse_unparsed(
    raw: pd.Series, parsed: pd.Series, column: str, kind: str, first_row: int
) -> None:
    """A value that was there but did not parse: name the column and the row, never the value
    (a misplaced cell may hold an email address or a name)."""
    bad = parsed.isna() & raw.notna()
    if bad.any():
        row = first_row + int(np.flatnonzero(bad.to_numpy())[0])
        raise UserError(
            f"column {column!r} must be {kind} but row {row + 1} is not; fix that row of the input"
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


def check_paths(source: Path, target: Path) -> None:
    """The scores may not replace the file they are computed from."""
    same = source.resolve() == target.resolve() or (
        target.exists() and source.exists() and os.path.samefile(source, target)
    )
    if same:
        raise UserError(
            f"OUTPUT {str(target)!r} is the input file; write the scores to another file"
        )


@contextmanager
def read_errors(path: Path) -> Iterator[None]:
    """A file pandas or pyarrow cannot read (malformed CSV, not UTF-8, not Parquet): one line."""
    kind = "Parquet" if path.suffix.lower() == ".parquet" else "CSV"
    try:
        yield
    except pd.errors.EmptyDataError:
        raise UserError(f"input file {str(path)!r} is empty: it has no rows") from None
    except UnicodeDecodeError:
        raise UserError(
            f"input file {str(path)!r} is not UTF-8 text; save it as UTF-8 "
            "(or give the encoding in the read options)"
        ) from None
    except (ValueError, OSError) as exc:  # ParserError and ArrowInvalid are ValueErrors
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"cannot read {str(path)!r} as {kind}: {first}; fix the file or its extension"
        ) from None


def read_table(path: Path, read_options: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """A whole CSV or Parquet file (a transaction log is grouped by customer: read it whole)."""
    _check_exists(path)
    with read_errors(path):
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        table = pd.read_csv(path, **csv_options(read_options))
        refuse_repeated_headers(table.columns, path)
        return table


def csv_options(read_options: Mapping[str, Any] | None, **ours: Any) -> dict[str, Any]:
    """The training file's CSV options (sep, decimal, encoding, ...) under the ones scoring
    needs; dtype mappings are merged, ours winning."""
    options = dict(read_options or {})
    if isinstance(options.get("dtype"), Mapping) and isinstance(ours.get("dtype"), Mapping):
        ours["dtype"] = {**options["dtype"], **ours["dtype"]}
    return {**options, **ours}


def read_chunks(
    path: Path,
    rows: int,
    as_text: Callable[[str], bool] = lambda column: False,
    read_options: Mapping[str, Any] | None = None,
) -> Iterator[pd.DataFrame]:
    """CSV or Parquet in chunks of `rows`, so a file of any size fits in memory.

    CSV columns for which as_text(column) holds are read as text, exactly as written: ids that
    pass through to the output keep their leading zeros, and a column blank in the first chunk
    keeps one type in every chunk. read_options apply to CSV (Parquet needs none).
    """
    _check_exists(path)
    with read_errors(path):
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
                yield batch.to_pandas()
            return
        header = pd.read_csv(path, **csv_options(read_options, nrows=0)).columns
        refuse_repeated_headers(header, path)
        text = {c: "str" for c in header if as_text(c)}
        yield from pd.read_csv(path, **csv_options(read_options, chunksize=rows, dtype=text))


TEMP_SUFFIX = ".partial"


class ChunkWriter:
    """Appends chunks to a temporary file beside the output; commit() renames it into place.

    The previous output stays whole until the new one is complete and on disk: a crash, a kill
    or a bad row leaves it as it was. The format follows the output's extension.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parquet = path.suffix.lower() == ".parquet"
        self.writer: Any = None
        self.schema: Any = None
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        # The pid in the name lets a later run tell a dead run's leftover from a live one's.
        self.temp = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")
        # CSV appends through one handle; pyarrow writes Parquet to the path itself.
        self.handle = open(self.temp, "wb")  # noqa: SIM115 - closed by commit() or abort()
        if self.parquet:
            self.handle.close()
        self.header = True

    def write(self, frame: pd.DataFrame) -> None:
        if not self.parquet:
            frame.to_csv(self.handle, header=self.header, index=False)
            self.header = False
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.writer is None:
            self.schema = pinned_schema(table.schema)
            self.writer = pq.ParquetWriter(str(self.temp), self.schema)
        self.writer.write_table(table.cast(self.schema))

    def commit(self) -> None:
        """Flush, fsync, and atomically replace the output with the finished file."""
        if self.writer is not None:
            self.writer.close()
        self.handle.close()
        _fsync(self.temp)
        os.replace(self.temp, self.path)
        _fsync(self.path.parent)  # the rename itself must survive a power cut

    def abort(self) -> None:
        """Drop the temporary file; the previous output is untouched."""
        try:
            if self.writer is not None:
                self.writer.close()
        finally:
            self.handle.close()
            self.temp.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Force a file's (or a folder's) content to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def pinned_schema(schema: Any) -> Any:
    """The first chunk's schema, with all-blank (null-typed) columns as text, so a later
    chunk with values in them still fits."""
    import pyarrow as pa

    fields = [f.with_type(pa.large_string()) if pa.types.is_null(f.type) else f for f in schema]
    return pa.schema(fields, metadata=schema.metadata)


def remove_stale_temporaries(path: Path) -> None:
    """Temporary files of scoring runs that died (SIGKILL, power cut) before their rename."""
    for temp in path.parent.glob(f".{path.name}.*{TEMP_SUFFIX}"):
        pid = temp.name.removeprefix(f".{path.name}.").removesuffix(TEMP_SUFFIX)
        if pid.isdigit() and not alive(int(pid)):
            temp.unlink(missing_ok=True)


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
    read_options: Mapping[str, Any] | None = None,
) -> dict[str, float]:
    """Score `source` into `target`: extra columns pass through, then the model's output,
    its decile against the reference distribution, and the model version.

    Without a reference (a segment, a ranked list) no deciles or drift are computed. An output
    that is not one row per input row (a forecast of future periods) is written as it is.
    chunk_rows=None reads the file whole (a series' forecast needs all of its history).
    read_options are the training file's CSV options (sep, decimal, encoding), so a file
    exported like the training data reads the same way.
    """
    check_paths(source, target)
    ranked = reference is not None and score_column is not None
    if ranked:
        cuts = cut_points(reference)
        expected = np.bincount(deciles(reference, cuts) - 1, minlength=N_BINS).astype(float)
    actual = np.zeros(N_BINS)
    rows = 0
    chunks = (
        iter([read_table(source, read_options)])
        if chunk_rows is None
        else read_chunks(source, chunk_rows, lambda c: c not in schema, read_options)
    )
    writer = ChunkWriter(target)
    try:
        for chunk in progress(chunks, "scoring", unit="chunk"):
            if chunk.empty:  # a header without rows: nothing to score is a mistake, say so
                raise UserError(f"input file {str(source)!r} has a header but no rows")
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
        writer.abort()  # the previous scores stay; no half-written file for the CRM to pick up
        raise
    writer.commit()
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
