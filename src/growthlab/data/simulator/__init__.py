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

The leads model (``leads.py``): ``p_convert = sigmoid(LEADS_INTERCEPT + _leads_logit(...))``
over the observed columns (effect tables there), with a latent intent that drives the
engagement counts but not ``p_convert``; ``converted ~ Bernoulli(p_convert)``.

The customers model (``customers.py``) is buy-till-you-die (BG/NBD): while alive, a
customer buys at a Gamma-distributed ``purchase_rate`` (modulated by a Q4-peaked yearly
season, the day of the week and the hour, by segment: ``clock.py``) and leaves for good
after each purchase with a Beta-distributed ``dropout_prob``; the customers table keeps
this latent truth, including ``dropout_at``, so churn and CLV models can be scored against it.

Write any table to a file with ``python -m growthlab.data.simulator transactions
--customers 10000 --seed 0 --out data/transactions.csv`` (also ``customers``, ``leads``;
``.csv`` or ``.parquet``; ``cli.py``).

The modules of this package (``src/growthlab/data/simulator/``):

- ``draws.py``: category levels shared by several tables, the vectorised draw helpers;
- ``identities.py``: fake names and ``.example`` domains, the ``_emails`` helper;
- ``leads.py``: the leads table's levels and effect sizes, ``draw_leads``;
- ``clock.py``: when people buy (yearly, weekly, hourly profiles), the operational clock;
- ``customers.py``: the customer base, ``customers_frame`` and ``draw_transactions``;
- ``campaign.py``: a randomised campaign whose response types (persuadables, sure things,
  lost causes, sleeping dogs) give every customer a known ``true_uplift``;
- ``company.py``: :class:`MarketingSimulator`, which checks arguments and owns the streams;
- ``datasets.py``: the ``Dataset`` wrappers and the standard column roles;
- ``cli.py`` (run by ``__main__.py``): the command line above.

How to add a table (customers, products, transactions, sessions, ...):

1. Write ``def draw_<table>(rng: np.random.Generator, n: int, ...) -> pd.DataFrame``
   in a new module ``src/growthlab/data/simulator/<table>.py`` and add a method
   ``def <table>(self, n_rows: int, ...) -> pd.DataFrame`` on :class:`MarketingSimulator`
   (``company.py``) that checks its arguments and calls it with ``self._rng("<table>")``:
   every table has its own random stream derived from ``(seed, table name)``, so adding
   or changing one table never changes the rows of another for the same seed.
2. Build columns with the vectorised helpers of ``draws.py`` (``_categorical``,
   ``_conditional_categorical``, ``_with_missing``, ``_counts``, ``_dates``,
   ``_strings``) and ``identities.py`` (``_emails``); never loop over rows in Python.
3. Keep category levels and effect sizes as module-level constants so other
   tables (and tests) can reuse them (levels used by several tables go in ``draws.py``),
   emit strings as plain ``str`` columns (never ``category``), and keep every email at
   a ``.example`` domain.
4. If the table has a target, store the true probability next to it (like
   ``p_convert``), computed from observed columns only, so its AUC is the
   attainable ceiling; calibrate its intercept with ``_calibrate_intercept``
   (``draws.py``) offline and hard-code the result (a fixed intercept keeps the true
   model independent of the sample size).
5. Add a ``Dataset`` subclass like :class:`SimulatedLeads` in ``datasets.py``, re-export
   the new public names below, and add tests in ``tests/test_simulator.py``.
"""

from __future__ import annotations

from growthlab.data.simulator.campaign import (
    RESPONSE_TYPE_SHARES,
    RESPONSE_TYPES,
    SIGNUP_CHANNELS,
)
from growthlab.data.simulator.cli import WRITERS, main
from growthlab.data.simulator.clock import (
    HOLIDAY_BUMPS,
    HOUR_PROFILE,
    HOURS_PER_YEAR,
    SEASON_AMPLITUDE,
    SEASON_PEAK_DAY,
    WEEKDAY_PROFILE,
)
from growthlab.data.simulator.company import MarketingSimulator
from growthlab.data.simulator.customers import (
    AMOUNT_MEAN,
    AMOUNT_NOISE_SIGMA,
    AMOUNT_SHAPE,
    CUSTOMER_GROWTH,
    DROPOUT_BETA_A,
    DROPOUT_BETA_B,
    FREEMAIL_RATE_BY_SEGMENT,
    PRODUCT_CATEGORIES,
    PRODUCT_CATEGORY_CONCENTRATION,
    PRODUCT_CATEGORY_P_BY_SEGMENT,
    PURCHASE_CHANNEL_CONCENTRATION,
    PURCHASE_CHANNEL_P_BY_SEGMENT,
    PURCHASE_CHANNELS,
    PURCHASE_RATE_MEAN,
    PURCHASE_RATE_SHAPE,
    SEGMENT_P_BY_CHANNEL,
)
from growthlab.data.simulator.datasets import (
    CAMPAIGN_COLUMNS,
    CRM_COLUMNS,
    CUSTOMERS_COLUMNS,
    INTERACTIONS_COLUMNS,
    LEADS_COLUMNS,
    REVENUE_COLUMNS,
    TRANSACTIONS_COLUMNS,
    SimulatedCampaign,
    SimulatedCustomerProfiles,
    SimulatedCustomers,
    SimulatedInteractions,
    SimulatedLeads,
    SimulatedRevenue,
    SimulatedTransactions,
)
from growthlab.data.simulator.draws import (
    CHANNEL_P,
    CHANNELS,
    COUNTRIES,
    COUNTRY_P,
    SEGMENTS,
)
from growthlab.data.simulator.identities import (
    COMPANY_DOMAINS,
    FIRST_NAMES,
    FREEMAIL_DOMAINS,
    LAST_NAMES,
)
from growthlab.data.simulator.leads import (
    CAMPAIGN_EFFECT,
    CAMPAIGN_NAMES,
    CAMPAIGNS,
    CHANNEL_EFFECT,
    COMPANY_SIZE_MISSING_BY_CHANNEL,
    COMPANY_SIZE_P_BY_CHANNEL,
    COMPANY_SIZES,
    COUNTRY_EFFECT,
    DEVICE_EFFECT,
    DEVICE_P_BY_CHANNEL,
    DEVICES,
    LEADS_INTERCEPT,
    SENIORITIES,
    SENIORITY_EFFECT,
    SENIORITY_MISSING_BY_CHANNEL,
    SENIORITY_P_BY_SIZE,
    SENIORITY_X_SIZE,
    SIZE_EFFECT,
    WEBINAR_EFFECT,
    WEBINAR_X_CHANNEL,
)
from growthlab.data.simulator.profiles import (
    PROFILE_ARCHETYPES,
    PROFILE_REGIONS,
    PROFILE_SEGMENT_WEIGHTS,
)

__all__ = [
    # The company, its datasets and its command line.
    "MarketingSimulator",
    "SimulatedLeads",
    "SimulatedCustomers",
    "SimulatedTransactions",
    "SimulatedRevenue",
    "REVENUE_COLUMNS",
    "SimulatedInteractions",
    "INTERACTIONS_COLUMNS",
    "SimulatedCustomerProfiles",
    "SimulatedCampaign",
    "CAMPAIGN_COLUMNS",
    "LEADS_COLUMNS",
    "CUSTOMERS_COLUMNS",
    "TRANSACTIONS_COLUMNS",
    "CRM_COLUMNS",
    "WRITERS",
    "main",
    # Shared category levels.
    "CHANNELS",
    "CHANNEL_P",
    "COUNTRIES",
    "COUNTRY_P",
    "SEGMENTS",
    # Fake identities.
    "FIRST_NAMES",
    "LAST_NAMES",
    "COMPANY_DOMAINS",
    "FREEMAIL_DOMAINS",
    # Leads.
    "CAMPAIGNS",
    "CAMPAIGN_NAMES",
    "DEVICES",
    "DEVICE_P_BY_CHANNEL",
    "COMPANY_SIZES",
    "COMPANY_SIZE_P_BY_CHANNEL",
    "SENIORITIES",
    "SENIORITY_P_BY_SIZE",
    "COMPANY_SIZE_MISSING_BY_CHANNEL",
    "SENIORITY_MISSING_BY_CHANNEL",
    "LEADS_INTERCEPT",
    "CHANNEL_EFFECT",
    "CAMPAIGN_EFFECT",
    "DEVICE_EFFECT",
    "COUNTRY_EFFECT",
    "SIZE_EFFECT",
    "SENIORITY_EFFECT",
    "SENIORITY_X_SIZE",
    "WEBINAR_EFFECT",
    "WEBINAR_X_CHANNEL",
    # Customers and transactions.
    "SEGMENT_P_BY_CHANNEL",
    "FREEMAIL_RATE_BY_SEGMENT",
    "CUSTOMER_GROWTH",
    "PURCHASE_RATE_SHAPE",
    "PURCHASE_RATE_MEAN",
    "DROPOUT_BETA_A",
    "DROPOUT_BETA_B",
    "AMOUNT_SHAPE",
    "AMOUNT_MEAN",
    "AMOUNT_NOISE_SIGMA",
    "PURCHASE_CHANNELS",
    "PURCHASE_CHANNEL_P_BY_SEGMENT",
    "PURCHASE_CHANNEL_CONCENTRATION",
    "PRODUCT_CATEGORIES",
    "PRODUCT_CATEGORY_P_BY_SEGMENT",
    "PRODUCT_CATEGORY_CONCENTRATION",
    # Customer profiles with planted segments.
    "PROFILE_ARCHETYPES",
    "PROFILE_SEGMENT_WEIGHTS",
    "PROFILE_REGIONS",
    # A randomised campaign with known uplift.
    "RESPONSE_TYPES",
    "RESPONSE_TYPE_SHARES",
    "SIGNUP_CHANNELS",
    # When people buy.
    "SEASON_AMPLITUDE",
    "SEASON_PEAK_DAY",
    "HOLIDAY_BUMPS",
    "WEEKDAY_PROFILE",
    "HOUR_PROFILE",
    "HOURS_PER_YEAR",
]
