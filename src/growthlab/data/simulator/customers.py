"""Customers and their purchases: a buy-till-you-die (BG/NBD-style) process.

While alive, a customer buys at a Gamma-distributed ``purchase_rate`` (modulated by the
profiles of :mod:`~growthlab.data.simulator.clock`) and leaves for good after each purchase
with a Beta-distributed ``dropout_prob``. :func:`draw_customer_base` draws everything per
customer from the "customers" stream; :func:`customers_frame` and
:func:`draw_transactions` (its own "transactions" stream) turn it into the two tables.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from growthlab.data.simulator.clock import (
    _clock_to_hours,
    _hours_to_clock,
    _operational_clock,
    _seconds,
)
from growthlab.data.simulator.draws import (
    CHANNEL_P,
    CHANNELS,
    COUNTRIES,
    COUNTRY_P,
    SEGMENTS,
    _categorical,
    _conditional_categorical,
    _dirichlet_rows,
    _row_categorical,
    _strings,
)
from growthlab.data.simulator.identities import _emails

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


@dataclass
class _CustomerBase:
    """Per-customer arrays of one simulated customer base (see :func:`draw_customer_base`)."""

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


def draw_customer_base(
    rng: np.random.Generator, n: int, start_day: np.datetime64, days: int
) -> _CustomerBase:
    """Everything per customer, from the "customers" stream (shared by both tables).

    The buying process is drawn per customer, not purchase by purchase: in operational
    time (see :func:`_operational_clock`) a customer's purchase opportunities form a
    Poisson process of rate ``purchase_rate``, so their number in the window is
    Poisson and, given it, their times are uniform. The repeat purchases made are the
    first ``min(lifetime - 1, opportunities)`` of them, with ``lifetime ~ Geometric(
    dropout_prob)`` purchases until dropout (the first, at sign-up, included). When
    the customer drops out inside the window, the time of their last purchase is the
    matching uniform order statistic, a Beta draw; :func:`draw_transactions` places
    the purchases in between uniformly. Same law as drawing exponential gaps one by
    one, without a loop over purchases.
    """
    channel = _categorical(rng, CHANNEL_P, n)
    segment = _conditional_categorical(rng, channel, SEGMENT_P_BY_CHANNEL)
    country = _categorical(rng, COUNTRY_P, n)
    email = _emails(rng, n, FREEMAIL_RATE_BY_SEGMENT[segment])

    # Sign-ups: uniform in the growing acquisition clock, then mapped to calendar time.
    acquisition = _operational_clock(start_day, days, growth=CUSTOMER_GROWTH)
    signup_hours = _clock_to_hours(acquisition, segment, rng.random(n) * acquisition[segment, -1])
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


def customers_frame(base: _CustomerBase) -> pd.DataFrame:
    """The table of :meth:`MarketingSimulator.customers`: CRM columns and latent truth."""
    dropout_at = np.where(base.dropped, base.second(base.last_seconds), np.datetime64("NaT", "s"))
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


def draw_transactions(rng: np.random.Generator, base: _CustomerBase) -> pd.DataFrame:
    """The table of :meth:`MarketingSimulator.transactions`, from the "transactions" stream."""
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
        base.signup_tau[customer] + rng.random(len(customer)) * (hi_tau - base.signup_tau)[customer]
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
