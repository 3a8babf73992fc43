"""A seeded synthetic B2B/B2C company whose tables share one random design.

``MarketingSimulator(seed)`` is the company; each public method returns one table
(today only :meth:`MarketingSimulator.leads`). :class:`SimulatedLeads` wraps the
leads table as a :class:`~growthlab.data.dataset.Dataset` for Hydra configs::

    dataset:
      _target_: growthlab.data.simulator.SimulatedLeads
      name: leads
      n_rows: 50000
      columns: {id: lead_id, target: converted, positive_label: 1, time: created_at,
                oracle: p_convert, pii: [email]}

The leads model: ``p_convert = sigmoid(LEADS_INTERCEPT + _leads_logit(...))`` over the
observed columns (effect tables below), with a latent intent that drives the
engagement counts but not ``p_convert``; ``converted ~ Bernoulli(p_convert)``.

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


def _emails(rng: np.random.Generator, n: int, freemail_rate: float = 0.15) -> np.ndarray:
    """Unique fake emails like ``maria.lopez4711@northwind.example`` (numpy string ops)."""
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
