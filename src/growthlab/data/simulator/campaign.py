"""A randomised retention campaign (a discount e-mail) on customers with a known effect.

Every customer is one of four latent response types, as in the uplift literature:

- sure thing: buys whether contacted or not;
- persuadable: buys only if contacted;
- sleeping dog: buys only if NOT contacted (the e-mail reminds them to cancel);
- lost cause: never buys.

Type probabilities are a multinomial logit of the observed columns (effects below), so the
best any model can know from x is ``true_uplift = P(persuadable | x) - P(sleeping dog | x)``
and the conversion probabilities ``p_control = P(sure) + P(dog)`` and
``p_treated = P(sure) + P(persuadable)``. The arm is a fair coin (or ``treated_share``);
``converted`` follows the drawn type and arm. The latent ``response_type`` and the three
probabilities are truth, never features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from growthlab.data.simulator.draws import _categorical, _strings

RESPONSE_TYPES: tuple[str, ...] = ("sure_thing", "persuadable", "sleeping_dog", "lost_cause")
# Designed shares of the four types: an average effect of 4.0 - 1.5 = 2.5 points.
RESPONSE_TYPE_SHARES = {
    "sure_thing": 0.070,
    "persuadable": 0.040,
    "sleeping_dog": 0.015,
    "lost_cause": 0.875,
}

SIGNUP_CHANNELS: tuple[str, ...] = ("web", "app", "store", "marketplace")
SIGNUP_CHANNEL_P = np.array([0.45, 0.25, 0.20, 0.10])
REGIONS: tuple[str, ...] = ("north", "south", "east", "west")
REGION_P = np.array([0.30, 0.25, 0.25, 0.20])

# Log-odds of each type against lost cause. Intercepts calibrated offline (fixed-point steps
# a_k += log(target_k / mean p_k) - log(target_lost / mean p_lost) on 2,000,000 rows, seed 0)
# to the shares above; re-run them whenever an effect changes. The true uplift then has a
# standard deviation of ~4.7 points and is negative for ~25 % of customers.
SURE_INTERCEPT = -3.21
PERSUADABLE_INTERCEPT = -5.54
DOG_INTERCEPT = -4.77
# Sure things buy often and recently; loyalty members a little more.
SURE_ORDERS = 0.9  # per log(1 + orders in 12 months)
SURE_RECENCY = -0.6  # per 90 days since the last order
SURE_LOYALTY = 0.4
# Persuadables like discounts, read e-mails, are lapsing (not gone) and younger.
PERSUADABLE_DISCOUNT = 4.0  # per unit of the share of past orders bought on discount
PERSUADABLE_OPENS = 0.5  # per log(1 + e-mail opens in 90 days)
PERSUADABLE_LAPSING = 1.2  # peak effect at ~120 days since the last order
PERSUADABLE_AGE = -0.3  # per 10 years above 35
PERSUADABLE_APP = 0.4
# Sleeping dogs: long-tenured customers who ignore e-mails and never wait for a discount.
DOG_TENURE = 0.8  # per 5 years of tenure
DOG_QUIET = 1.0  # no e-mail opened in 90 days
DOG_FULL_PRICE = 1.0  # discount share under 0.1


def draw_campaign(rng: np.random.Generator, n: int, treated_share: float) -> pd.DataFrame:
    """The table of :meth:`MarketingSimulator.campaign`, drawn from the "campaign" stream."""
    age = np.clip(rng.normal(42, 13, n), 18, 85).round()
    tenure = np.clip(rng.gamma(1.5, 16, n), 1, 180).round()
    channel = _categorical(rng, SIGNUP_CHANNEL_P, n)
    region = _categorical(rng, REGION_P, n)
    # Engaged customers order more, recently, and open more e-mails.
    engagement = rng.gamma(2.0, 1.0, n)
    orders = rng.poisson(1.5 * engagement)
    recency = np.clip(rng.exponential(60 + 240 / (1 + orders)), 1, 730).round()
    opens = rng.poisson(2.0 * engagement * np.where(channel == 1, 1.4, 1.0))
    discount = rng.beta(2, 5, n)
    order_value = np.exp(rng.normal(3.8, 0.5, n)).round(2)
    loyalty = rng.random(n) < 0.15 + 0.1 * (orders > 3)

    eta = _type_logits(age, tenure, channel, orders, recency, opens, discount, loyalty)
    probs = _softmax(eta)
    kind = (rng.random(n)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
    kind = np.minimum(kind, len(RESPONSE_TYPES) - 1)  # float sums a hair below 1
    treated = (rng.random(n) < treated_share).astype(np.int64)
    converted = (kind == 0) | ((kind == 1) & (treated == 1)) | ((kind == 2) & (treated == 0))
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "age": age,
            "tenure_months": tenure,
            "signup_channel": _strings(channel, SIGNUP_CHANNELS),
            "region": _strings(region, REGIONS),
            "orders_12m": orders.astype(np.int64),
            "days_since_last_order": recency,
            "email_opens_90d": opens.astype(np.int64),
            "discount_share": discount.round(3),
            "avg_order_value": order_value,
            "loyalty_member": loyalty,
            "treatment": treated,
            "converted": converted.astype(np.int64),
            "response_type": _strings(kind, RESPONSE_TYPES),
            "p_control": probs[:, 0] + probs[:, 2],
            "p_treated": probs[:, 0] + probs[:, 1],
            "true_uplift": probs[:, 1] - probs[:, 2],
        }
    )


def _type_logits(
    age: np.ndarray,
    tenure: np.ndarray,
    channel: np.ndarray,
    orders: np.ndarray,
    recency: np.ndarray,
    opens: np.ndarray,
    discount: np.ndarray,
    loyalty: np.ndarray,
) -> np.ndarray:
    """Log-odds of (sure, persuadable, dog, lost) per row; lost cause is the reference 0."""
    sure = (
        SURE_INTERCEPT
        + SURE_ORDERS * np.log1p(orders)
        + SURE_RECENCY * recency / 90
        + SURE_LOYALTY * loyalty
    )
    lapsing = np.exp(-(((recency - 120) / 60) ** 2))  # neither active nor long gone
    persuadable = (
        PERSUADABLE_INTERCEPT
        + PERSUADABLE_DISCOUNT * discount
        + PERSUADABLE_OPENS * np.log1p(opens)
        + PERSUADABLE_LAPSING * lapsing
        + PERSUADABLE_AGE * np.maximum(age - 35, 0) / 10
        + PERSUADABLE_APP * (channel == SIGNUP_CHANNELS.index("app"))
    )
    dog = (
        DOG_INTERCEPT
        + DOG_TENURE * tenure / 60
        + DOG_QUIET * (opens == 0)
        + DOG_FULL_PRICE * (discount < 0.1)
    )
    return np.column_stack([sure, persuadable, dog, np.zeros_like(sure)])


def _softmax(eta: np.ndarray) -> np.ndarray:
    e = np.exp(eta - eta.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
