"""A seeded synthetic B2B/B2C company whose tables share one random design.

``MarketingSimulator(seed)`` is the company; each public method returns one table:
:meth:`~MarketingSimulator.leads`, :meth:`~MarketingSimulator.customers` and their
:meth:`~MarketingSimulator.transactions`. :class:`SimulatedLeads`,
:class:`SimulatedCustomers` and :class:`SimulatedTransactions` wrap them as
:class:`~growthlab.data.dataset.Dataset` objects for Hydra configs::

    dataset:
      _target_: growthlab.data.simulator.SimulatedLeads
      name: leads
      n_rows: 50000
      columns: {id: lead_id, target: converted, positive_label: 1, time: created_at,
                oracle: p_convert, pii: [email]}

The leads model: ``p_convert = sigmoid(LEADS_INTERCEPT + _leads_logit(...))`` over the
observed columns (effect tables below), with a latent intent that drives the
engagement counts but not ``p_convert``; ``converted ~ Bernoulli(p_convert)``.

The customers model is buy-till-you-die (BG/NBD): while alive, a customer buys at a
Gamma-distributed ``purchase_rate`` (modulated by a Q4-peaked yearly season, the day of
the week and the hour, by segment) and leaves for good after each purchase with a
Beta-distributed ``dropout_prob``; the customers table keeps this latent truth, including
``dropout_at``, so churn and CLV models can be scored against it.

Write any table to a file with ``python -m growthlab.data.simulator transactions
--customers 10000 --seed 0 --out data/transactions.csv`` (also ``customers``, ``leads``;
``.csv`` or ``.parquet``).

How to add a table (customers, products, transactions, sessions, ...):

1. Add a method ``def <table>(self, n_rows: int, ...) -> pd.DataFrame`` on
   :class:`MarketingSimulator`. Draw from ``self._rng("<table>")``: every table
   has its own random stream derived from ``(seed, table name)``, so adding or
   changing one table never changes the rows of another for the same seed.
2. Build columns with the vectorised helpers below (``_categorical``,
   ``_conditional_categorical``, ``_with_missing``, ``_counts``, ``_dates``,
   ``_emails``, ``_strings``); never loop over rows in Python.
3. Keep category levels and effect sizes as module-level constants so other
   tables (and tests) can reuse them, emit strings as plain ``str`` columns
   (never ``category``), and keep every email at a ``.example`` domain.
4. If the table has a target, store the true probability next to it (like
   ``p_convert``), computed from observed columns only, so its AUC is the
   attainable ceiling; calibrate its intercept with ``_calibrate_intercept``
   offline and hard-code the result (a fixed intercept keeps the true model
   independent of the sample size).
5. Add a ``Dataset`` subclass like :class:`SimulatedLeads` and tests in
   ``tests/test_simulator.py``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
from numpy.dtypes import StringDType

from growthlab.data.dataset import Columns, Dataset
from growthlab.errors import UserError

# ---------------------------------------------------------------------------
# Category levels and their marginal mixes (shared by future tables).
# ---------------------------------------------------------------------------

CHANNELS: tuple[str, ...] = (
    "organic_search",
    "paid_search",
    "paid_social",
    "email",
    "referral",
    "direct",
    "events",
)
CHANNEL_P = np.array([0.24, 0.18, 0.17, 0.12, 0.09, 0.13, 0.07])

# Campaigns are nested in channels: each channel has its own campaigns and mix.
CAMPAIGNS: dict[str, tuple[tuple[str, float], ...]] = {
    "organic_search": (("seo_blog", 0.65), ("seo_product_pages", 0.35)),
    "paid_search": (
        ("paid_search_brand", 0.40),
        ("paid_search_generic", 0.45),
        ("paid_search_competitor", 0.15),
    ),
    "paid_social": (
        ("linkedin_lead_gen", 0.45),
        ("linkedin_abm", 0.20),
        ("meta_retargeting", 0.35),
    ),
    "email": (("newsletter", 0.60), ("nurture_sequence", 0.40)),
    "referral": (("partner_program", 0.55), ("customer_referral", 0.45)),
    "direct": (("no_campaign", 1.0),),
    "events": (("webinar_q1", 0.35), ("webinar_q3", 0.35), ("trade_show", 0.30)),
}
CAMPAIGN_NAMES: tuple[str, ...] = tuple(c for ch in CHANNELS for c, _ in CAMPAIGNS[ch])

DEVICES: tuple[str, ...] = ("desktop", "mobile", "tablet")
# Rows follow CHANNELS: social traffic is mostly mobile, events/referrals desktop.
DEVICE_P_BY_CHANNEL = np.array(
    [
        [0.62, 0.32, 0.06],
        [0.60, 0.34, 0.06],
        [0.30, 0.63, 0.07],
        [0.55, 0.38, 0.07],
        [0.70, 0.25, 0.05],
        [0.66, 0.28, 0.06],
        [0.80, 0.14, 0.06],
    ]
)

COUNTRIES: tuple[str, ...] = ("US", "GB", "DE", "FR", "CA", "AU", "NL", "IN")
COUNTRY_P = np.array([0.38, 0.13, 0.11, 0.08, 0.08, 0.06, 0.05, 0.11])

COMPANY_SIZES: tuple[str, ...] = ("1-10", "11-50", "51-200", "201-1000", "1000+")
# Rows follow CHANNELS: events and referrals bring bigger accounts, social smaller ones.
COMPANY_SIZE_P_BY_CHANNEL = np.array(
    [
        [0.30, 0.28, 0.21, 0.14, 0.07],
        [0.27, 0.28, 0.22, 0.15, 0.08],
        [0.40, 0.29, 0.17, 0.10, 0.04],
        [0.26, 0.27, 0.22, 0.16, 0.09],
        [0.18, 0.25, 0.25, 0.20, 0.12],
        [0.28, 0.27, 0.21, 0.15, 0.09],
        [0.10, 0.18, 0.27, 0.27, 0.18],
    ]
)

SENIORITIES: tuple[str, ...] = ("individual_contributor", "manager", "director", "vp", "c_level")
# Rows follow COMPANY_SIZES: small companies are run by founders (many c_level).
SENIORITY_P_BY_SIZE = np.array(
    [
        [0.30, 0.18, 0.10, 0.07, 0.35],
        [0.38, 0.27, 0.15, 0.08, 0.12],
        [0.42, 0.30, 0.15, 0.08, 0.05],
        [0.44, 0.31, 0.15, 0.07, 0.03],
        [0.46, 0.32, 0.14, 0.06, 0.02],
    ]
)

# Missingness per channel (rows follow CHANNELS). It is informative: low-intent
# social/ad leads skip optional form fields; the mix averages ~5 % and ~8 %.
COMPANY_SIZE_MISSING_BY_CHANNEL = np.array([0.05, 0.045, 0.085, 0.04, 0.03, 0.045, 0.01])
SENIORITY_MISSING_BY_CHANNEL = np.array([0.08, 0.075, 0.13, 0.07, 0.05, 0.08, 0.02])

# ---------------------------------------------------------------------------
# The true conversion model (log-odds effects). p_convert uses observed columns only.
# ---------------------------------------------------------------------------

# Calibrated offline (``_calibrate_intercept`` on 2,000,000 rows, seed 0) so the
# overall base rate is ~5 %. Re-run it whenever an effect below changes.
LEADS_INTERCEPT = -6.30

CHANNEL_EFFECT = {
    "organic_search": 0.0,
    "paid_search": 0.15,
    "paid_social": -0.45,
    "email": 0.05,
    "referral": 0.55,
    "direct": 0.30,
    "events": 0.10,
}
CAMPAIGN_EFFECT = {
    "paid_search_brand": 0.35,
    "paid_search_competitor": 0.20,
    "paid_search_generic": -0.15,
    "linkedin_abm": 0.40,
    "meta_retargeting": -0.25,
    "seo_product_pages": 0.25,
    "nurture_sequence": 0.15,
    "customer_referral": 0.25,
    "trade_show": 0.20,
}
DEVICE_EFFECT = {"desktop": 0.0, "mobile": -0.25, "tablet": -0.10}
COUNTRY_EFFECT = {
    "US": 0.25,
    "GB": 0.15,
    "DE": 0.05,
    "FR": -0.15,
    "CA": 0.10,
    "AU": 0.05,
    "NL": 0.10,
    "IN": -0.55,
}
# Index -1 (last row/column) is "missing": not telling is itself a weak-intent signal.
SIZE_EFFECT = np.array([-0.55, 0.0, 0.35, 0.45, 0.20, -0.60])
SENIORITY_EFFECT = np.array([-0.55, 0.0, 0.40, 0.55, 0.35, -0.55])
# Seniority (rows) x company size (columns): buyers are senior people at mid/large
# accounts; a c_level at a 1000+ company who fills a form rarely buys; an IC at a
# tiny company often is the buyer.
SENIORITY_X_SIZE = np.array(
    [
        # 1-10  11-50 51-200 201-1k 1000+  missing
        [0.63, 0.14, -0.14, -0.28, -0.35, 0.0],  # individual_contributor
        [0.00, 0.14, 0.21, 0.14, 0.07, 0.0],  # manager
        [-0.42, 0.14, 0.63, 0.84, 0.70, 0.0],  # director
        [-0.56, 0.07, 0.70, 0.98, 0.84, 0.0],  # vp
        [0.42, 0.35, 0.14, -0.42, -1.12, 0.0],  # c_level
        [0.00, 0.00, 0.00, 0.00, 0.00, -0.42],  # missing (both missing is worse still)
    ]
)
# A webinar helps most where it is a real sales touch (events, email nurture).
WEBINAR_EFFECT = 0.35
WEBINAR_X_CHANNEL = {"events": 0.55, "email": 0.45, "paid_social": -0.30, "referral": 0.20}

# ---------------------------------------------------------------------------
# Customers and their purchases: a buy-till-you-die (BG/NBD-style) process.
# ---------------------------------------------------------------------------

SEGMENTS: tuple[str, ...] = ("consumer", "small_business", "enterprise")
# Rows follow CHANNELS: events and referrals bring business buyers, social brings consumers.
SEGMENT_P_BY_CHANNEL = np.array(
    [
        [0.74, 0.20, 0.06],
        [0.72, 0.22, 0.06],
        [0.88, 0.10, 0.02],
        [0.75, 0.20, 0.05],
        [0.60, 0.28, 0.12],
        [0.70, 0.22, 0.08],
        [0.35, 0.40, 0.25],
    ]
)
# Consumers sign up with personal mailboxes, businesses with their company domain.
FREEMAIL_RATE_BY_SEGMENT = np.array([0.85, 0.30, 0.03])
# Daily sign-ups at the end of the window are this many times those at its start.
CUSTOMER_GROWTH = 2.0

# Latent truth, per customer and by segment (index follows SEGMENTS).
# purchase_rate ~ Gamma(shape, mean / shape): purchases per year while alive. A shape
# below 1 gives the long tail of heavy buyers (businesses that reorder every week).
PURCHASE_RATE_SHAPE = 0.7
PURCHASE_RATE_MEAN = np.array([7.0, 20.0, 50.0])
# dropout_prob ~ Beta(a, b): chance of leaving for good right after each purchase
# (means 0.11, 0.06, 0.03). With a < 1 many customers are near-loyal and a few leave fast.
DROPOUT_BETA_A = np.array([0.6, 0.6, 0.6])
DROPOUT_BETA_B = np.array([5.0, 10.0, 17.0])
# mean_amount ~ Gamma(shape, mean / shape): the customer's typical basket.
AMOUNT_SHAPE = 2.5
AMOUNT_MEAN = np.array([55.0, 320.0, 1800.0])
# Each amount is mean_amount times a mean-one log-normal noise of this sigma.
AMOUNT_NOISE_SIGMA = 0.5

PURCHASE_CHANNELS: tuple[str, ...] = ("web", "app", "store", "marketplace")
# Rows follow SEGMENTS; a customer's own mix ~ Dirichlet(concentration * row).
PURCHASE_CHANNEL_P_BY_SEGMENT = np.array(
    [
        [0.40, 0.30, 0.15, 0.15],
        [0.60, 0.10, 0.10, 0.20],
        [0.80, 0.02, 0.03, 0.15],
    ]
)
PURCHASE_CHANNEL_CONCENTRATION = 2.0  # small: most customers stick to one or two channels

PRODUCT_CATEGORIES: tuple[str, ...] = (
    "electronics",
    "home_kitchen",
    "apparel",
    "beauty",
    "sports_outdoors",
    "toys_games",
    "office_supplies",
    "software",
)
# Rows follow SEGMENTS; a customer's own taste ~ Dirichlet(concentration * row).
PRODUCT_CATEGORY_P_BY_SEGMENT = np.array(
    [
        [0.18, 0.17, 0.20, 0.12, 0.10, 0.10, 0.05, 0.08],
        [0.20, 0.08, 0.04, 0.03, 0.05, 0.02, 0.33, 0.25],
        [0.25, 0.05, 0.02, 0.01, 0.02, 0.01, 0.30, 0.34],
    ]
)
PRODUCT_CATEGORY_CONCENTRATION = 3.0

# When people buy (a purchase's and a sign-up's intensity is the product of the three;
# each profile is normalised to mean one, so purchase_rate stays "per average year").
# Yearly: a mild winter high, Black Friday / Cyber Monday and the run-up to Christmas.
SEASON_AMPLITUDE = 0.20  # cosine with its peak at SEASON_PEAK_DAY (day of year)
SEASON_PEAK_DAY = 350
# (day of year, width in days, height) of the holiday bumps on top.
HOLIDAY_BUMPS: tuple[tuple[float, float, float], ...] = ((331.0, 4.0, 1.0), (350.0, 8.0, 0.5))
# Monday..Sunday, rows follow SEGMENTS: businesses buy on weekdays, consumers at weekends.
WEEKDAY_PROFILE = np.array(
    [
        [0.95, 0.92, 0.92, 0.95, 1.00, 1.10, 1.16],
        [1.18, 1.18, 1.15, 1.12, 1.00, 0.35, 0.22],
        [1.22, 1.22, 1.20, 1.15, 1.00, 0.13, 0.08],
    ]
)
# Hour of day 0..23, rows follow SEGMENTS: consumers shop in the evening, businesses
# from 9 to 5 (time zones are ignored). Each row is written as hours 0-11, then 12-23.
HOUR_PROFILE = np.array(
    [
        [0.30, 0.18, 0.10, 0.07, 0.06, 0.08, 0.18, 0.40, 0.65, 0.80, 0.90, 1.00],
        [1.10, 1.05, 1.00, 1.00, 1.05, 1.15, 1.30, 1.50, 1.60, 1.50, 1.10, 0.65],
        [0.05, 0.03, 0.02, 0.02, 0.03, 0.08, 0.25, 0.70, 1.40, 1.90, 2.00, 1.90],
        [1.40, 1.70, 1.90, 1.80, 1.50, 1.00, 0.50, 0.30, 0.20, 0.15, 0.10, 0.07],
        [0.05, 0.03, 0.02, 0.02, 0.03, 0.08, 0.25, 0.70, 1.40, 1.90, 2.00, 1.90],
        [1.40, 1.70, 1.90, 1.80, 1.50, 1.00, 0.50, 0.30, 0.20, 0.15, 0.10, 0.07],
    ]
).reshape(3, 24)
HOURS_PER_YEAR = 365.25 * 24

# ---------------------------------------------------------------------------
# Fake identities for emails: always at a reserved ``.example`` domain.
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Shared vectorised helpers.
# ---------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _categorical(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """Integer codes 0..len(p)-1 drawn with probabilities ``p``."""
    return rng.choice(len(p), size=n, p=p / p.sum())


def _conditional_categorical(
    rng: np.random.Generator, parent: np.ndarray, p_by_parent: np.ndarray
) -> np.ndarray:
    """Codes drawn row by row from ``p_by_parent[parent]`` with one vectorised search.

    Each parent's CDF is shifted by the parent code and the rows are laid end to end,
    so ``searchsorted(flat, parent + u)`` lands inside that parent's own CDF: no
    (n x levels) matrix and no loop.
    """
    n_parents, n_levels = p_by_parent.shape
    cdf = np.cumsum(p_by_parent / p_by_parent.sum(axis=1, keepdims=True), axis=1)
    cdf[:, -1] = 1.0  # exact, so round-off never spills into the next parent's block
    flat = (cdf + np.arange(n_parents)[:, None]).ravel()
    # Keep u a hair below 1 so parent + u cannot round up to parent + 1.
    u = np.minimum(rng.random(len(parent)), 1.0 - 1e-9)
    index = np.searchsorted(flat, parent + u, side="right")  # "right" skips zero-p levels
    return index - parent * n_levels


def _with_missing(rng: np.random.Generator, codes: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Replace codes by -1 (missing) with a per-row probability ``rate``."""
    return np.where(rng.random(len(codes)) < rate, -1, codes)


def _counts(rng: np.random.Generator, mean: np.ndarray, dispersion: float) -> np.ndarray:
    """Over-dispersed (negative binomial) counts with per-row ``mean``: long right tail."""
    return rng.negative_binomial(dispersion, dispersion / (dispersion + mean)).astype(np.int64)


def _dates(
    rng: np.random.Generator, n: int, start: np.datetime64, days: int, growth: float
) -> np.ndarray:
    """Sorted day-resolution dates whose daily volume grows by ``growth`` x over ``days``."""
    u = rng.random(n)
    if growth == 1.0:
        t = u
    else:
        # Inverse CDF of a density proportional to growth ** (t / days) on [0, 1).
        g = np.log(growth)
        t = np.log1p(u * (growth - 1.0)) / g
    offsets = np.minimum((t * days).astype(np.int64), days - 1)
    return start + np.sort(offsets).astype("timedelta64[D]")


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


def _strings(codes: np.ndarray, levels: Sequence[str]) -> pd.Series:
    """Plain string column from codes (-1 -> NaN); never the ``category`` dtype."""
    table = np.array([*levels, np.nan], dtype=object)  # code -1 picks the trailing NaN
    return pd.Series(table[codes])


def _lookup(codes: np.ndarray, levels: Sequence[str], effect: Mapping[str, float]) -> np.ndarray:
    """Per-row effect of a coded category; levels absent from ``effect`` count 0."""
    return np.array([effect.get(level, 0.0) for level in levels])[codes]


def _row_categorical(rng: np.random.Generator, p_rows: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Codes drawn from ``p_rows[rows]`` (one probability row per owner, e.g. per customer).

    One uniform per draw, compared level by level with the owner's CDF: memory stays
    linear in the number of draws whatever the number of owners.
    """
    cdf = np.cumsum(p_rows / np.maximum(p_rows.sum(axis=1, keepdims=True), 1e-300), axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(len(rows))
    codes = np.zeros(len(rows), dtype=np.int64)
    for level in range(p_rows.shape[1] - 1):
        codes += u >= cdf[rows, level]  # ">=" skips levels of zero probability
    return codes


def _dirichlet_rows(rng: np.random.Generator, alpha_rows: np.ndarray) -> np.ndarray:
    """One Dirichlet draw per row of ``alpha_rows`` (normalised Gammas, vectorised)."""
    g = rng.gamma(alpha_rows)
    return g / np.maximum(g.sum(axis=1, keepdims=True), 1e-300)


def _yearly_profile(day_of_year: np.ndarray) -> np.ndarray:
    """Seasonal purchase intensity by day of year (1..366), before normalisation."""
    angle = 2 * np.pi * (day_of_year - SEASON_PEAK_DAY) / 365.25
    level = 1.0 + SEASON_AMPLITUDE * np.cos(angle)
    for day, width, height in HOLIDAY_BUMPS:
        level = level + height * np.exp(-0.5 * ((day_of_year - day) / width) ** 2)
    return level


def _operational_clock(start: np.datetime64, days: int, growth: float = 1.0) -> np.ndarray:
    """Cumulative intensity at every hour boundary of the window, one row per segment.

    Row ``s`` is the operational time (in average years) of segment ``s``: an event
    process of constant rate in operational time is, in calendar time, a process whose
    rate follows the yearly, weekly and hourly profiles (times ``growth ** (t / days)``,
    used for sign-ups). Intensity is constant within an hour, so the clock is piecewise
    linear and ``np.interp`` maps both ways exactly. Shape ``(len(SEGMENTS), 24 * days + 1)``.
    """
    dates = start + np.arange(days).astype("timedelta64[D]")
    yearly = _yearly_profile(pd.DatetimeIndex(dates).day_of_year.to_numpy().astype(float))
    yearly = yearly / _yearly_profile(np.arange(1, 366, dtype=float)).mean()
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    weekly = WEEKDAY_PROFILE / WEEKDAY_PROFILE.mean(axis=1, keepdims=True)
    hourly = HOUR_PROFILE / HOUR_PROFILE.mean(axis=1, keepdims=True)
    intensity = (yearly * weekly[:, weekday])[:, :, None] * hourly[:, None, :]
    intensity = intensity.reshape(len(SEGMENTS), 24 * days)
    if growth != 1.0:
        intensity = intensity * growth ** (np.arange(24 * days) / (24 * days))
    clock = np.zeros((len(SEGMENTS), 24 * days + 1))
    np.cumsum(intensity / HOURS_PER_YEAR, axis=1, out=clock[:, 1:])
    return clock


def _seconds(hours: np.ndarray, end_seconds: int) -> np.ndarray:
    """Whole seconds (int64) from hours since the window start, capped at its last second."""
    return np.minimum(np.round(hours * 3600), end_seconds).astype(np.int64)


def _clock_to_hours(clock: np.ndarray, segment: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Calendar hours since the window start at operational times ``tau`` (per segment)."""
    grid = np.arange(clock.shape[1], dtype=float)
    hours = np.empty(len(tau))
    for s in range(len(clock)):
        rows = segment == s
        hours[rows] = np.interp(tau[rows], clock[s], grid)
    return hours


def _hours_to_clock(clock: np.ndarray, segment: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Operational times at calendar ``hours`` since the window start (per segment)."""
    grid = np.arange(clock.shape[1], dtype=float)
    tau = np.empty(len(hours))
    for s in range(len(clock)):
        rows = segment == s
        tau[rows] = np.interp(hours[rows], grid, clock[s])
    return tau


def _calibrate_intercept(eta: np.ndarray, base_rate: float) -> float:
    """Intercept b with mean(sigmoid(b + eta)) == base_rate (bisection; offline use)."""
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _sigmoid(mid + eta).mean() < base_rate else (lo, mid)
    return (lo + hi) / 2


# ---------------------------------------------------------------------------
# The company.
# ---------------------------------------------------------------------------


class MarketingSimulator:
    """One seeded synthetic company; each public method returns one of its tables."""

    def __init__(self, seed: int = 0) -> None:
        if not _is_int(seed) or seed < 0:
            raise UserError(f"simulator seed must be a non-negative integer (got {seed!r})")
        self.seed = int(seed)

    def _rng(self, table: str) -> np.random.Generator:
        """An independent stream per (seed, table), stable across Python runs."""
        return np.random.default_rng([self.seed, zlib.crc32(table.encode())])

    def leads(self, n_rows: int, start: str = "2024-01-01", days: int = 730) -> pd.DataFrame:
        """Inbound leads with engagement features, the true ``p_convert`` and ``converted``."""
        n = _check_positive_int(n_rows, "n_rows")
        days = _check_positive_int(days, "days")
        start_day = _parse_day(start, "start")
        rng = self._rng("leads")

        # Volume grows ~60 % over the window, so later periods have more leads.
        created = _dates(rng, n, start_day, days, growth=1.6)

        channel = _categorical(rng, CHANNEL_P, n)
        campaign = self._campaigns(rng, channel)
        device = _conditional_categorical(rng, channel, DEVICE_P_BY_CHANNEL)
        country = _categorical(rng, COUNTRY_P, n)
        size = _conditional_categorical(rng, channel, COMPANY_SIZE_P_BY_CHANNEL)
        seniority = _conditional_categorical(rng, size, SENIORITY_P_BY_SIZE)
        # Missingness is drawn after seniority so seniority still follows the true size.
        size = _with_missing(rng, size, COMPANY_SIZE_MISSING_BY_CHANNEL[channel])
        seniority = _with_missing(rng, seniority, SENIORITY_MISSING_BY_CHANNEL[channel])

        # A latent intent drives all engagement features but not p_convert directly:
        # the observed counts are noisy proxies for it, which caps the oracle AUC.
        intent_shift = _lookup(
            channel, CHANNELS, {"referral": 0.3, "events": 0.3, "direct": 0.2, "paid_social": -0.3}
        )
        intent = rng.normal(intent_shift, 1.0, n)
        mobile = device == DEVICES.index("mobile")
        organic = channel == CHANNELS.index("organic_search")
        by_email = channel == CHANNELS.index("email")
        webinar_campaign = np.array([c.startswith("webinar") for c in CAMPAIGN_NAMES])[campaign]

        # Every lead saw at least its landing page; phones browse shallower.
        pages = 1 + _counts(rng, np.exp(1.3 + 0.45 * intent - 0.35 * mobile + 0.3 * organic), 1.5)
        opens = _counts(rng, np.exp(0.6 + 0.35 * intent + 0.9 * by_email), 0.8)
        # Clicks are a thinning of opens, so clicks <= opens by construction.
        clicks = rng.binomial(opens, _sigmoid(-1.6 + 0.6 * intent)).astype(np.int64)
        form_fills = rng.poisson(np.exp(-1.3 + 0.5 * intent)).astype(np.int64)
        webinar = rng.random(n) < _sigmoid(
            -2.6 + 0.5 * intent + 2.6 * webinar_campaign + 0.8 * by_email
        )
        # Journeys from referrals/direct started long ago; paid clicks are fresh.
        touch_shift = _lookup(
            channel,
            CHANNELS,
            {"referral": 0.6, "direct": 0.5, "paid_search": -0.4, "paid_social": -0.3},
        )
        first_touch = np.floor(np.expm1(rng.normal(2.4 + touch_shift, 1.1, n)))
        first_touch = np.clip(first_touch, 0, 720).astype(np.int64)

        p_convert = _sigmoid(
            LEADS_INTERCEPT
            + _leads_logit(
                channel,
                campaign,
                device,
                country,
                size,
                seniority,
                pages,
                opens,
                clicks,
                form_fills,
                webinar,
                first_touch,
            )
        )
        converted = (rng.random(n) < p_convert).astype(np.int64)

        return pd.DataFrame(
            {
                "lead_id": np.arange(1, n + 1, dtype=np.int64),
                "email": pd.Series(_emails(rng, n).astype(object)),
                "created_at": created,
                "channel": _strings(channel, CHANNELS),
                "campaign": _strings(campaign, CAMPAIGN_NAMES),
                "device": _strings(device, DEVICES),
                "country": _strings(country, COUNTRIES),
                "company_size": _strings(size, COMPANY_SIZES),
                "job_seniority": _strings(seniority, SENIORITIES),
                "pages_viewed": pages,
                "email_opens": opens,
                "email_clicks": clicks,
                "form_fills": form_fills,
                "webinar_attended": webinar,
                "days_since_first_touch": first_touch,
                "converted": converted,
                "p_convert": p_convert,
            }
        )

    @staticmethod
    def _campaigns(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
        """Campaign codes (into CAMPAIGN_NAMES) nested within each row's channel."""
        p = np.zeros((len(CHANNELS), len(CAMPAIGN_NAMES)))
        for i, name in enumerate(CHANNELS):
            for campaign, share in CAMPAIGNS[name]:
                p[i, CAMPAIGN_NAMES.index(campaign)] = share
        return _conditional_categorical(rng, channel, p)

    def customers(
        self, n_customers: int, start: str = "2023-01-01", days: int = 1095
    ) -> pd.DataFrame:
        """Customers with CRM columns and the latent truth of their buying process.

        CRM columns: ``customer_id`` (in sign-up order), ``email``, ``signup_date``,
        ``country``, ``acquisition_channel``, ``segment``. Latent truth: ``purchase_rate``
        (purchases per average year while alive), ``dropout_prob`` (chance of leaving for
        good after each purchase), ``mean_amount`` and ``dropout_at`` (timestamp of the
        purchase after which the customer left; NaT if still alive at the window's end).
        :meth:`transactions` with the same seed and arguments holds their purchases.
        """
        base = self._customer_base(n_customers, start, days)
        dropout_at = np.where(
            base.dropped, base.second(base.last_seconds), np.datetime64("NaT", "s")
        )
        return pd.DataFrame(
            {
                "customer_id": np.arange(1, base.n + 1, dtype=np.int64),
                "email": pd.Series(base.email.astype(object)),
                "signup_date": base.second(base.signup_seconds // 86_400 * 86_400),
                "country": _strings(base.country, COUNTRIES),
                "acquisition_channel": _strings(base.channel, CHANNELS),
                "segment": _strings(base.segment, SEGMENTS),
                "purchase_rate": base.purchase_rate,
                "dropout_prob": base.dropout_prob,
                "mean_amount": base.mean_amount,
                "dropout_at": dropout_at,
            }
        )

    def transactions(
        self, n_customers: int, start: str = "2023-01-01", days: int = 1095
    ) -> pd.DataFrame:
        """One row per purchase of the :meth:`customers` of the same seed and arguments.

        The first purchase is at sign-up; while alive, a customer buys at
        ``purchase_rate`` modulated by the yearly (Q4 peak), weekly and hourly profiles of
        their segment; after each purchase they leave for good with ``dropout_prob``.
        Purchases after the window's end are cut. Rows are in time order
        (``transaction_id`` 1..n); ``amount`` is the customer's ``mean_amount`` times
        log-normal noise; ``channel`` and ``product_category`` follow the customer's own
        mix, drawn around their segment's.
        """
        base = self._customer_base(n_customers, start, days)
        rng = self._rng("transactions")
        n = base.n
        channel_taste = _dirichlet_rows(
            rng, PURCHASE_CHANNEL_CONCENTRATION * PURCHASE_CHANNEL_P_BY_SEGMENT[base.segment]
        )
        category_taste = _dirichlet_rows(
            rng, PRODUCT_CATEGORY_CONCENTRATION * PRODUCT_CATEGORY_P_BY_SEGMENT[base.segment]
        )

        # Purchase k of a customer: k = 0 at sign-up; for a dropped-out customer k = 1 is
        # the last one (its time is known from the customer base) and the others fall
        # uniformly, in operational time, between sign-up and it; for an alive customer
        # they fall uniformly between sign-up and the window's end.
        per_customer = 1 + base.repeats
        customer = np.repeat(np.arange(n), per_customer)
        first_row = np.cumsum(per_customer) - per_customer
        k = np.arange(len(customer)) - first_row[customer]
        hi_tau = np.where(base.dropped, base.last_tau, base.clock_end)
        tau = (
            base.signup_tau[customer]
            + rng.random(len(customer)) * (hi_tau - base.signup_tau)[customer]
        )
        seconds = base.seconds_at(customer, tau)
        last = (k == 1) & base.dropped[customer]
        seconds[last] = base.last_seconds[customer[last]]
        seconds[k == 0] = base.signup_seconds
        # Exact ties aside, nothing falls before sign-up or after the last purchase.
        hi_seconds = np.where(base.dropped, base.last_seconds, base.end_seconds)
        seconds = np.clip(seconds, base.signup_seconds[customer], hi_seconds[customer])

        noise = rng.lognormal(-0.5 * AMOUNT_NOISE_SIGMA**2, AMOUNT_NOISE_SIGMA, len(customer))
        amount = np.maximum(np.round(base.mean_amount[customer] * noise, 2), 0.01)
        channel = _row_categorical(rng, channel_taste, customer)
        category = _row_categorical(rng, category_taste, customer)

        order = np.argsort(seconds, kind="stable")  # ties keep customer order
        customer = customer[order]
        return pd.DataFrame(
            {
                "transaction_id": np.arange(1, len(order) + 1, dtype=np.int64),
                "customer_id": customer + 1,
                "timestamp": base.second(seconds[order]),
                "amount": amount[order],
                "channel": _strings(channel[order], PURCHASE_CHANNELS),
                "product_category": _strings(category[order], PRODUCT_CATEGORIES),
            }
        )

    def _customer_base(self, n_customers: int, start: str, days: int) -> _CustomerBase:
        """Everything per customer, from the "customers" stream (shared by both tables).

        The buying process is drawn per customer, not purchase by purchase: in operational
        time (see :func:`_operational_clock`) a customer's purchase opportunities form a
        Poisson process of rate ``purchase_rate``, so their number in the window is
        Poisson and, given it, their times are uniform. The repeat purchases made are the
        first ``min(lifetime - 1, opportunities)`` of them, with ``lifetime ~ Geometric(
        dropout_prob)`` purchases until dropout (the first, at sign-up, included). When
        the customer drops out inside the window, the time of their last purchase is the
        matching uniform order statistic, a Beta draw; :meth:`transactions` then places
        the purchases in between uniformly. Same law as drawing exponential gaps one by
        one, without a loop over purchases.
        """
        n = _check_positive_int(n_customers, "n_customers")
        days = _check_positive_int(days, "days")
        start_day = _parse_day(start, "start")
        rng = self._rng("customers")

        channel = _categorical(rng, CHANNEL_P, n)
        segment = _conditional_categorical(rng, channel, SEGMENT_P_BY_CHANNEL)
        country = _categorical(rng, COUNTRY_P, n)
        email = _emails(rng, n, FREEMAIL_RATE_BY_SEGMENT[segment])

        # Sign-ups: uniform in the growing acquisition clock, then mapped to calendar time.
        acquisition = _operational_clock(start_day, days, growth=CUSTOMER_GROWTH)
        signup_hours = _clock_to_hours(
            acquisition, segment, rng.random(n) * acquisition[segment, -1]
        )
        end_seconds = 86_400 * days - 1
        signup_seconds = _seconds(signup_hours, end_seconds)

        purchase_rate = rng.gamma(
            PURCHASE_RATE_SHAPE, PURCHASE_RATE_MEAN[segment] / PURCHASE_RATE_SHAPE
        )
        # Floored so that a near-zero draw still gives a finite geometric lifetime.
        dropout_prob = np.maximum(rng.beta(DROPOUT_BETA_A[segment], DROPOUT_BETA_B[segment]), 1e-6)
        mean_amount = rng.gamma(AMOUNT_SHAPE, AMOUNT_MEAN[segment] / AMOUNT_SHAPE)

        clock = _operational_clock(start_day, days)
        signup_tau = _hours_to_clock(clock, segment, signup_seconds / 3600)
        clock_end = clock[segment, -1]
        opportunities = rng.poisson(purchase_rate * (clock_end - signup_tau))
        lifetime = rng.geometric(dropout_prob)
        repeats = np.minimum(lifetime - 1, opportunities)
        dropped = lifetime - 1 <= opportunities
        # The repeats-th smallest of `opportunities` uniforms on (0, 1).
        position = rng.beta(np.maximum(repeats, 1), opportunities - repeats + 1)
        last_tau = np.where(
            dropped & (repeats > 0), signup_tau + position * (clock_end - signup_tau), signup_tau
        )

        last_seconds = np.where(
            dropped & (repeats > 0),
            _seconds(_clock_to_hours(clock, segment, last_tau), end_seconds),
            signup_seconds,
        )
        return _CustomerBase(
            start=start_day,
            clock=clock,
            end_seconds=end_seconds,
            channel=channel,
            segment=segment,
            country=country,
            email=email,
            signup_seconds=signup_seconds,
            signup_tau=signup_tau,
            clock_end=clock_end,
            purchase_rate=purchase_rate,
            dropout_prob=dropout_prob,
            mean_amount=mean_amount,
            repeats=repeats,
            dropped=dropped,
            last_tau=last_tau,
            last_seconds=np.maximum(last_seconds, signup_seconds),
        ).sorted_by_signup()


def _leads_logit(
    channel: np.ndarray,
    campaign: np.ndarray,
    device: np.ndarray,
    country: np.ndarray,
    size: np.ndarray,
    seniority: np.ndarray,
    pages: np.ndarray,
    opens: np.ndarray,
    clicks: np.ndarray,
    form_fills: np.ndarray,
    webinar: np.ndarray,
    first_touch: np.ndarray,
) -> np.ndarray:
    """Log-odds of conversion (without intercept) from observed lead columns only."""
    # Code -1 (missing) indexes the last row/column of the effect tables on purpose.
    firmographic = (
        SIZE_EFFECT[size] + SENIORITY_EFFECT[seniority] + SENIORITY_X_SIZE[seniority, size]
    )
    webinar_boost = webinar * (WEBINAR_EFFECT + _lookup(channel, CHANNELS, WEBINAR_X_CHANNEL))
    # Saturating engagement: the 20th page says little more than the 8th, and a page
    # read on a phone says less than one read at a desk.
    depth = 1.0 - np.exp(-(pages - 1) / 4.0)
    engagement = (
        (2.2 - 0.8 * (device == DEVICES.index("mobile"))) * depth
        + 0.9 * np.log1p(clicks)
        + 0.10 * np.log1p(opens)
        + 0.80 * np.minimum(form_fills, 2)
    )
    # Hump in recency: leads peak ~2 weeks after first touch, then go stale.
    recency = 1.3 * np.exp(-0.5 * ((np.log1p(first_touch) - np.log1p(14)) / 0.9) ** 2)
    return (
        _lookup(channel, CHANNELS, CHANNEL_EFFECT)
        + _lookup(campaign, CAMPAIGN_NAMES, CAMPAIGN_EFFECT)
        + _lookup(device, DEVICES, DEVICE_EFFECT)
        + _lookup(country, COUNTRIES, COUNTRY_EFFECT)
        + firmographic
        + webinar_boost
        + engagement
        + recency
    )


@dataclass
class _CustomerBase:
    """Per-customer arrays of one simulated customer base (see ``_customer_base``)."""

    start: np.datetime64
    clock: np.ndarray  # operational clock per segment, at hour boundaries
    end_seconds: int  # last second of the window, counted from its start
    channel: np.ndarray
    segment: np.ndarray
    country: np.ndarray
    email: np.ndarray
    signup_seconds: np.ndarray  # first purchase, in seconds since the window start
    signup_tau: np.ndarray  # the same in operational time
    clock_end: np.ndarray  # operational time at the window's end
    purchase_rate: np.ndarray
    dropout_prob: np.ndarray
    mean_amount: np.ndarray
    repeats: np.ndarray  # purchases after the first, inside the window
    dropped: np.ndarray  # left (after their last purchase) inside the window
    last_tau: np.ndarray  # operational time of the last purchase if dropped, else sign-up
    last_seconds: np.ndarray  # the same in seconds since the window start

    @property
    def n(self) -> int:
        return len(self.segment)

    def seconds_at(self, customer: np.ndarray, tau: np.ndarray) -> np.ndarray:
        """Whole seconds since the window start at operational times of these customers."""
        return _seconds(_clock_to_hours(self.clock, self.segment[customer], tau), self.end_seconds)

    def second(self, seconds: np.ndarray) -> np.ndarray:
        """Timestamps (``datetime64[s]``) from seconds since the window start."""
        return self.start.astype("datetime64[s]") + seconds.astype("timedelta64[s]")

    def sorted_by_signup(self) -> _CustomerBase:
        """The same customers, reordered so that ids follow sign-up time."""
        order = np.argsort(self.signup_seconds, kind="stable")
        per_customer = {
            f.name: getattr(self, f.name)[order]
            for f in fields(self)
            if f.name not in {"start", "clock", "end_seconds"}
        }
        return _CustomerBase(
            start=self.start, clock=self.clock, end_seconds=self.end_seconds, **per_customer
        )


def _parse_day(value: Any, name: str) -> np.datetime64:
    """A day from anything pandas reads as a timestamp; a UserError otherwise."""
    try:
        day = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise UserError(f"{name} must be a date like '2024-01-01' (got {value!r})") from exc
    if pd.isna(day):
        raise UserError(f"{name} must be a date like '2024-01-01' (got {value!r})")
    return np.datetime64(day.date(), "D")


def _is_int(value: Any) -> bool:
    # bool is an int subclass, but n_rows=True is a config mistake, not 1.
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_positive_int(value: Any, name: str) -> int:
    if not _is_int(value) or value < 1:
        raise UserError(f"{name} must be a positive integer (got {value!r})")
    return int(value)


# ---------------------------------------------------------------------------
# Dataset wrapper.
# ---------------------------------------------------------------------------

# Roles of the leads columns, for configs and tests that want the standard setup.
LEADS_COLUMNS: dict[str, Any] = {
    "id": "lead_id",
    "target": "converted",
    "positive_label": 1,
    "time": "created_at",
    "oracle": "p_convert",
    "pii": ["email"],
}


class SimulatedLeads(Dataset):
    """The simulator's leads table as a dataset (``_target_`` of a Hydra config)."""

    MIN_ROWS = 100  # below this, splits and CV folds hold almost no conversions

    def __init__(
        self,
        name: str,
        columns: Mapping[str, Any] | Columns,
        n_rows: int = 50_000,
        seed: int = 0,
        start: str = "2024-01-01",
        days: int = 730,
    ) -> None:
        super().__init__(name, columns)
        if not _is_int(n_rows) or n_rows < self.MIN_ROWS:
            raise UserError(
                f"dataset.n_rows must be an integer of at least {self.MIN_ROWS} (got {n_rows!r}); "
                f"set dataset.n_rows=50000 in the config or on the command line"
            )
        if not _is_int(seed) or seed < 0:
            raise UserError(f"dataset.seed must be a non-negative integer (got {seed!r})")
        if not _is_int(days) or days < 1:
            raise UserError(f"dataset.days must be a positive integer (got {days!r})")
        _parse_day(start, "dataset.start")
        self.n_rows = int(n_rows)
        self.seed = int(seed)
        self.start = str(start)
        self.days = int(days)

    def load(self) -> pd.DataFrame:
        """Generate the leads table (deterministic for the configured seed)."""
        return MarketingSimulator(self.seed).leads(self.n_rows, start=self.start, days=self.days)


# Roles of the customer tables' columns, for configs and tests that want the standard setup.
CUSTOMERS_COLUMNS: dict[str, Any] = {"id": "customer_id", "time": "signup_date", "pii": ["email"]}
TRANSACTIONS_COLUMNS: dict[str, Any] = {
    "id": "transaction_id",
    "time": "timestamp",
    "drop": ["customer_id"],
}
# What a CRM knows about a customer: SimulatedCustomers keeps these and hides the truth.
CRM_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "email",
    "signup_date",
    "country",
    "acquisition_channel",
    "segment",
)


class _SimulatedCustomerTable(Dataset):
    """Shared arguments of the datasets built on the simulated customer base."""

    def __init__(
        self,
        name: str,
        columns: Mapping[str, Any] | Columns,
        n_customers: int = 20_000,
        seed: int = 0,
        start: str = "2023-01-01",
        days: int = 1095,
    ) -> None:
        super().__init__(name, columns)
        if not _is_int(n_customers) or n_customers < 1:
            raise UserError(
                f"dataset.n_customers must be a positive integer (got {n_customers!r}); "
                "set dataset.n_customers=20000 in the config or on the command line"
            )
        if not _is_int(seed) or seed < 0:
            raise UserError(f"dataset.seed must be a non-negative integer (got {seed!r})")
        if not _is_int(days) or days < 1:
            raise UserError(f"dataset.days must be a positive integer (got {days!r})")
        _parse_day(start, "dataset.start")
        self.n_customers = int(n_customers)
        self.seed = int(seed)
        self.start = str(start)
        self.days = int(days)


class SimulatedCustomers(_SimulatedCustomerTable):
    """The simulated customers as a CRM sees them: no latent truth (``_target_`` of a config)."""

    def load(self) -> pd.DataFrame:
        """Generate the customers table's CRM columns (deterministic for the seed)."""
        frame = MarketingSimulator(self.seed).customers(
            self.n_customers, start=self.start, days=self.days
        )
        return frame[list(CRM_COLUMNS)]


class SimulatedTransactions(_SimulatedCustomerTable):
    """The simulated customers' purchases, one row each (``_target_`` of a config)."""

    def load(self) -> pd.DataFrame:
        """Generate the transactions table (deterministic for the seed)."""
        return MarketingSimulator(self.seed).transactions(
            self.n_customers, start=self.start, days=self.days
        )


# ---------------------------------------------------------------------------
# Command line: write a table to a file.
# ---------------------------------------------------------------------------

WRITERS = {".csv": "to_csv", ".parquet": "to_parquet"}


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m growthlab.data.simulator {leads,customers,transactions} --out FILE``."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(
        prog="python -m growthlab.data.simulator",
        description="Write a table of the simulated company to a .csv or .parquet file.",
    )
    tables = parser.add_subparsers(dest="table", required=True, metavar="TABLE")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    common.add_argument("--out", required=True, help="output file, .csv or .parquet")
    common.add_argument("--start", help="first day of the window, e.g. 2023-01-01")
    common.add_argument("--days", type=int, help="length of the window in days")
    leads = tables.add_parser("leads", parents=[common], help="inbound leads with p_convert")
    leads.add_argument("--rows", type=int, default=50_000, help="number of leads")
    for table, what in (
        ("customers", "customers with their latent buying process"),
        ("transactions", "one row per purchase"),
    ):
        sub = tables.add_parser(table, parents=[common], help=what)
        sub.add_argument("--customers", type=int, default=20_000, help="number of customers")
    customers = tables.choices["customers"]
    customers.add_argument(
        "--crm-only", action="store_true", help="only the CRM columns, without the latent truth"
    )
    args = parser.parse_args(argv)

    out = Path(args.out).expanduser()
    if out.suffix.lower() not in WRITERS:
        parser.error(f"--out must end in .csv or .parquet (got {args.out!r})")
    window = {k: v for k, v in (("start", args.start), ("days", args.days)) if v is not None}
    try:
        simulator = MarketingSimulator(args.seed)
        if args.table == "leads":
            frame = simulator.leads(args.rows, **window)
            what = f"{len(frame):,} leads"
        elif args.table == "customers":
            frame = simulator.customers(args.customers, **window)
            if args.crm_only:
                frame = frame[list(CRM_COLUMNS)]
            what = f"{len(frame):,} customers"
        else:
            frame = simulator.transactions(args.customers, **window)
            what = f"{len(frame):,} transactions of {args.customers:,} customers"
    except UserError as exc:
        parser.error(str(exc))
    out.parent.mkdir(parents=True, exist_ok=True)
    getattr(frame, WRITERS[out.suffix.lower()])(out, index=False)
    print(f"wrote {what} (seed {args.seed}) to {out}")


if __name__ == "__main__":
    main()
