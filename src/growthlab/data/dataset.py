"""Datasets: where rows come from, and the roles of their columns (declared once)."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from growthlab.data.identifiers import check_identifiers
from growthlab.errors import UserError


@dataclass(kw_only=True)
class Columns:
    """Column roles of a dataset. Anything not named here is a feature."""

    id: str | None = None
    target: str | None = None
    positive_label: Any = None
    time: str | None = None
    oracle: str | None = None  # known true probability (simulated data only); never a feature
    treatment: str | None = None  # campaigns: the arm (1 = contacted); never a feature
    treated_label: Any = None  # campaigns: the arm value meaning "contacted" (else 0/1, booleans)
    control_label: Any = None  # campaigns: the arm value meaning "not contacted" (several arms)
    amount: str | None = None  # transaction logs: the purchase amount (churn snapshots)
    channel: str | None = None  # transaction logs: the channel, for channel-mix features
    user: str | None = None  # interactions: who (recommendation)
    item: str | None = None  # interactions: what they bought, clicked or rated
    weight: str | None = None  # interactions: how much (a count, a rating); absent = 1 each
    series: list[str] = field(default_factory=list)  # panels: columns naming one series
    known: list[str] = field(default_factory=list)  # panels: drivers known in advance (price)
    pii: list[str] = field(default_factory=list)
    drop: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    numeric: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)  # free text (messages, reviews): TF-IDF etc.

    @classmethod
    def from_mapping(cls, roles: Mapping[str, Any] | Columns) -> Columns:
        """Build from a config mapping; an unknown role is a user error, not a silent no-op."""
        if isinstance(roles, Columns):
            return roles
        valid = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(roles) - valid)
        if unknown:
            raise UserError(
                f"unknown column role {unknown[0]!r} in dataset.columns; "
                f"valid roles are: {', '.join(sorted(valid))}"
            )
        values = {
            k: (list(v) if k in _LIST_ROLES and v is not None else v) for k, v in roles.items()
        }
        return cls(**{k: ([] if k in _LIST_ROLES and v is None else v) for k, v in values.items()})

    def __post_init__(self) -> None:
        for role in ("id", "user"):
            column = getattr(self, role)
            if column is not None and column in self.pii:
                raise UserError(
                    f"column {column!r} is both dataset.columns.{role} and in "
                    "dataset.columns.pii; an id is never a feature already: remove it from pii "
                    "(or pick a non-personal id column)"
                )

    def declared(self) -> list[str]:
        """Every column named in any role."""
        single = [
            getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in _LIST_ROLES and f.name not in _LABELS
        ]
        lists = [c for role in _LIST_ROLES for c in getattr(self, role)]
        return [c for c in single if isinstance(c, str)] + lists

    def not_features(self) -> list[str]:
        """Columns that never reach a model: id, target, time, oracle, treatment, PII, dropped."""
        single = [self.id, self.target, self.time, self.oracle, self.treatment]
        single += [self.user, self.item, self.weight]
        return [c for c in single if c] + list(self.series) + list(self.pii) + list(self.drop)

    def check(self, frame: pd.DataFrame, where: str) -> None:
        """Fail with one line when a declared column is missing from the data."""
        declared = self.not_features() + [*self.categorical, *self.numeric, *self.known]
        declared += self.text
        missing = [c for c in declared if c not in frame.columns]
        if missing:
            raise UserError(
                f"column {missing[0]!r} declared in dataset.columns is not in {where}; "
                "fix the column roles or the data "
                f"(columns present: {', '.join(map(str, frame.columns[:20]))})"
            )

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The raw feature columns: everything that is not a declared non-feature.

        Integer counts become doubles: a blank in a scored CSV turns a column into floats, and
        the logged model's signature must accept both.
        """
        excluded = set(self.not_features())
        features = frame[[c for c in frame.columns if c not in excluded]]
        counts = [c for c in features.select_dtypes("integer") if c not in self.categorical]
        return features.astype(dict.fromkeys(counts, "float64")) if counts else features


_LIST_ROLES = {"pii", "drop", "categorical", "numeric", "series", "known", "text"}
_LABELS = {"positive_label", "treated_label", "control_label"}  # values, not column names


class Dataset(ABC):
    """A named source of one table, with its column roles."""

    def __init__(
        self,
        name: str,
        columns: Mapping[str, Any] | Columns,
        allow_undeclared_identifiers: bool = False,
    ) -> None:
        self.name = name
        self.columns = Columns.from_mapping(columns)
        self.allow_undeclared_identifiers = allow_undeclared_identifiers

    def load(self) -> pd.DataFrame:
        """The table, once no undeclared column looks like personal data or an identifier.

        Checked here, for every task, before any feature is made from the table.
        """
        frame = self.read()
        if not self.allow_undeclared_identifiers:
            check_identifiers(frame, self.columns.declared(), f"dataset {self.name!r}")
        return frame

    def source(self) -> str:
        """Where the rows come from, as the MLflow UI shows it (a path, a table, a generator)."""
        return f"{type(self).__module__}.{type(self).__name__} (dataset={self.name})"

    @abstractmethod
    def read(self) -> pd.DataFrame:
        """Read or generate the table."""

    def read_spark(self, spark: Any) -> Any:
        """The table as a Spark DataFrame (engine=spark). Generated and in-memory tables are
        made here and handed to Spark; files and catalog tables read lazily (FileDataset)."""
        return spark.createDataFrame(self.read())
