"""Personal data and identifiers that nobody declared: found before they become features.

An email address or a name used as a feature leaks into the logged model and its input
example; a column of unique text (a name, a ticket id) only lets a model memorise rows. Each
must be declared (pii, id or drop) or waved through on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from growthlab.errors import UserError

EMAIL = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"
PHONE = r"\+?[\d\s().\-/]{7,20}"
NAME = r"[^\W\d_][^\W\d_'’\-]+(?: [^\W\d_][^\W\d_'’\-]+){1,2}"
SAMPLE = 1000  # values looked at per column: the patterns need no more to be sure
SHARE = 0.8  # of the sampled values that must match a pattern
UNIQUE_TEXT = 0.9  # share of distinct values that makes text an identifier
MIN_VALUES = 50  # fewer values say nothing about uniqueness
FIX = (
    "declare {them} in dataset.columns (pii, id or drop), "
    "or set dataset.allow_undeclared_identifiers=true"
)


def identifier_kind(values: pd.Series) -> str | None:
    """What a text column looks like when it identifies people or rows; None when it does not."""
    if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
        return None
    present = values.dropna().astype(str).str.strip()
    present = present[present != ""]
    sample = present.head(SAMPLE)
    if sample.empty:
        return None
    dates = pd.to_datetime(sample, format="ISO8601", errors="coerce")
    if dates.notna().mean() >= SHARE:
        return None  # dates kept as text are not identifiers (2024-05-01 matches PHONE)
    if _share(sample, EMAIL) >= SHARE:
        return "email addresses"
    digits = sample.str.count(r"\d") >= 7
    if (sample.str.fullmatch(PHONE) & digits).mean() >= SHARE:
        return "phone numbers"
    unique = present.nunique() / len(present)
    if _share(sample, NAME) >= SHARE and unique >= 0.3:  # "New York" repeats; names rarely do
        return "personal names"
    if len(present) >= MIN_VALUES and unique >= UNIQUE_TEXT:
        return f"text with {unique:.0%} distinct values"
    return None


def _share(sample: pd.Series, pattern: str) -> float:
    return float(sample.str.fullmatch(pattern).mean())


def check_identifiers(frame: pd.DataFrame, declared: Iterable[str], where: str) -> None:
    """Stop on undeclared columns that look like personal data or identifiers: one line that
    names the columns and what they look like, never a value."""
    known = set(declared)
    found = {
        c: kind for c in frame.columns if c not in known and (kind := identifier_kind(frame[c]))
    }
    if found:
        named = ", ".join(f"{c!r} ({kind})" for c, kind in found.items())
        them = "it" if len(found) == 1 else "them"
        raise UserError(
            f"undeclared column(s) in {where} look like personal data or identifiers: {named}; "
            + FIX.format(them=them)
        )
