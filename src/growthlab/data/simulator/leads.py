"""The leads table: inbound leads, their engagement and a known conversion probability.

``p_convert = sigmoid(LEADS_INTERCEPT + _leads_logit(...))`` over the observed columns
(effect tables below), with a latent intent that drives the engagement counts but not
``p_convert``; ``converted ~ Bernoulli(p_convert)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from growthlab.data.simulator.draws import (
    CHANNEL_P,
    CHANNELS,
    COUNTRIES,
    COUNTRY_P,
    _categorical,
    _conditional_categorical,
    _counts,
    _dates,
    _lookup,
    _sigmoid,
    _strings,
    _with_missing,
)
from growthlab.data.simulator.identities import _emails

# ---------------------------------------------------------------------------
# Category levels and their marginal mixes.
# ---------------------------------------------------------------------------

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


def draw_leads(
    rng: np.random.Generator, n: int, start_day: np.datetime64, days: int
) -> pd.DataFrame:
    """The table of :meth:`MarketingSimulator.leads`, drawn from the "leads" stream."""
    # Volume grows ~60 % over the window, so later periods have more leads.
    created = _dates(rng, n, start_day, days, growth=1.6)

    channel = _categorical(rng, CHANNEL_P, n)
    campaign = _campaigns(rng, channel)
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
