"""Command line: write a table of the simulated company to a .csv or .parquet file."""

from __future__ import annotations

from collections.abc import Sequence

from growthlab.data.simulator.company import MarketingSimulator
from growthlab.data.simulator.datasets import CRM_COLUMNS
from growthlab.errors import UserError

# What a campaign file to score lacks: the arm, the outcome and the truth behind them.
CAMPAIGN_HIDDEN = [
    "treatment",
    "converted",
    "response_type",
    "p_control",
    "p_treated",
    "true_uplift",
]

WRITERS = {".csv": "to_csv", ".parquet": "to_parquet"}


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m growthlab.data.simulator {leads,customers,transactions,campaign} --out FILE``."""
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
    campaign = tables.add_parser(
        "campaign", parents=[common], help="a randomised campaign with each customer's uplift"
    )
    campaign.add_argument("--customers", type=int, default=50_000, help="number of customers")
    campaign.add_argument(
        "--to-score",
        action="store_true",
        help="only the customer columns (no arm, outcome or truth): a file for make score",
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
        elif args.table == "campaign":
            if window:
                parser.error("a campaign has no time window: leave --start and --days out")
            frame = simulator.campaign(args.customers)
            if args.to_score:
                frame = frame.drop(columns=CAMPAIGN_HIDDEN)
            what = f"{len(frame):,} campaign customers"
        else:
            frame = simulator.transactions(args.customers, **window)
            what = f"{len(frame):,} transactions of {args.customers:,} customers"
    except UserError as exc:
        parser.error(str(exc))
    out.parent.mkdir(parents=True, exist_ok=True)
    getattr(frame, WRITERS[out.suffix.lower()])(out, index=False)
    print(f"wrote {what} (seed {args.seed}) to {out}")
