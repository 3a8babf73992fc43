"""Fake identities for emails: always at a reserved ``.example`` domain."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.dtypes import StringDType

from growthlab.data.simulator.draws import _categorical

FIRST_NAMES: tuple[str, ...] = (
    "maria",
    "james",
    "sofia",
    "liam",
    "emma",
    "noah",
    "olivia",
    "lucas",
    "ava",
    "mateo",
    "mia",
    "elijah",
    "amelia",
    "oliver",
    "chloe",
    "arjun",
    "priya",
    "wei",
    "yuki",
    "hannah",
    "jonas",
    "lena",
    "pierre",
    "camille",
    "fatima",
    "omar",
    "aisha",
    "david",
    "sarah",
    "daniel",
    "laura",
    "michael",
    "anna",
    "thomas",
    "julia",
    "lars",
    "ingrid",
    "diego",
    "lucia",
    "rahul",
    "ananya",
    "kenji",
    "grace",
    "samuel",
    "zoe",
    "ethan",
    "isabel",
    "felix",
    "nora",
    "leo",
)
LAST_NAMES: tuple[str, ...] = (
    "lopez",
    "smith",
    "johnson",
    "garcia",
    "muller",
    "schmidt",
    "martin",
    "bernard",
    "rossi",
    "brown",
    "jones",
    "miller",
    "davis",
    "wilson",
    "taylor",
    "anderson",
    "thomas",
    "moore",
    "jackson",
    "white",
    "harris",
    "clark",
    "lewis",
    "walker",
    "hall",
    "young",
    "king",
    "wright",
    "patel",
    "sharma",
    "singh",
    "kumar",
    "chen",
    "wang",
    "li",
    "tanaka",
    "sato",
    "kim",
    "park",
    "nguyen",
    "dubois",
    "moreau",
    "fischer",
    "weber",
    "jansen",
    "devries",
    "bakker",
    "silva",
    "santos",
    "oconnor",
)
COMPANY_DOMAINS: tuple[str, ...] = (
    "northwind",
    "contoso",
    "fabrikam",
    "globex",
    "initech",
    "umbrella-labs",
    "hooli",
    "piedpiper",
    "vandelay",
    "tyrell",
    "soylent",
    "cyberdyne",
    "wonka",
    "oscorp",
    "aperture",
    "blackmesa",
    "massive-dynamic",
    "dundermifflin",
    "bluth",
    "stark-industries",
    "wayne-ent",
    "acme",
    "gringotts",
    "prestige-worldwide",
    "monarch-solutions",
)
# Personal mailboxes, as B2C-ish sign-ups use them.
FREEMAIL_DOMAINS: tuple[str, ...] = ("mailbox", "webmail", "inbox", "postbox")

_STR = StringDType()


def _email_stems() -> tuple[np.ndarray, np.ndarray]:
    """Every distinct local-part stem (first.last, flast, first_last, firstlast) once.

    Returns the stem strings and, for each (first, style, last) combination in
    row-major order, the index of its string: "m.lopez"-style stems from different
    first names share one index, so integer keys can stand in for the strings.
    """
    index: dict[str, int] = {}
    code = np.empty(len(FIRST_NAMES) * 4 * len(LAST_NAMES), dtype=np.int64)
    i = 0
    for first in FIRST_NAMES:
        for head, sep in ((first, "."), (first[0], ""), (first, "_"), (first, "")):
            for last in LAST_NAMES:
                code[i] = index.setdefault(head + sep + last, len(index))
                i += 1
    return np.array(list(index), dtype=_STR), code


def _emails(
    rng: np.random.Generator, n: int, freemail_rate: float | np.ndarray = 0.15
) -> np.ndarray:
    """Unique fake emails like ``maria.lopez4711@northwind.example`` (numpy string ops).

    ``freemail_rate`` is the share at personal mailboxes, one number or one per row.
    """
    stems, stem_code = _email_stems()
    # Styles: first.last (0), flast (1), first_last (2), firstlast (3).
    style = _categorical(rng, np.array([0.5, 0.2, 0.15, 0.15]), n)
    combo = (rng.integers(len(FIRST_NAMES), size=n) * 4 + style) * len(LAST_NAMES)
    stem = stem_code[combo + rng.integers(len(LAST_NAMES), size=n)]
    # Suffixes as people pick them: none (0), two digits, a birth year, four digits.
    kind = _categorical(rng, np.array([0.3, 0.3, 0.2, 0.2]), n)
    low, high = np.array([0, 10, 1960, 1000]), np.array([1, 100, 2004, 10_000])
    number = rng.integers(low[kind], high[kind])
    domains = np.array([d + ".example" for d in COMPANY_DOMAINS + FREEMAIL_DOMAINS], dtype=_STR)
    domain = np.where(
        rng.random(n) < freemail_rate,
        rng.integers(len(COMPANY_DOMAINS), len(domains), size=n),
        rng.integers(len(COMPANY_DOMAINS), size=n),
    )
    # Names hold no digits, so (stem, number, domain) <-> address is one-to-one and
    # repeats can be found on integers. A repeat gets a fresh 5+ digit number, distinct
    # from every other fresh one and from every 0-4 digit number already in use.
    key = (stem * 1_000_000 + number) * len(domains) + domain
    repeat = pd.Series(key).duplicated().to_numpy()
    if repeat.any():
        k = int(repeat.sum())
        number[repeat] = 10_000 + rng.choice(max(10 * k, 90_000), size=k, replace=False)
    suffix = np.where(number > 0, number.astype(_STR), np.array("", dtype=_STR))
    return stems[stem] + suffix + "@" + domains[domain]
