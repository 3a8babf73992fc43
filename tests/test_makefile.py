"""Free text given to make (REASON, INPUT, OUTPUT, CUTOFF) reaches growthlab through the
environment, never through a shell command line: quotes are characters, `;` runs nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd

from growthlab.data.simulator import MarketingSimulator
from growthlab.paths import ROOT

from .conftest import growthlab

NAME = "lead_scoring-simulated_leads"


def make(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    """`make <args>` as a user types it: each value one argument, no shell of ours between."""
    return subprocess.run(
        ["make", "--no-print-directory", *args, f"MODEL={NAME}", f"ARGS=store={store}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_free_text_reaches_growthlab_verbatim_and_runs_nothing(tmp_path: Path, store: Path) -> None:
    marker = tmp_path / "pwned"
    trained = growthlab("dataset.n_rows=2000", "model=logistic_regression", store=store)
    assert trained.returncode == 0, trained.stderr
    reason = 'it\'s fine: "approved" by $USER'
    done = make("promote", "FORCE=1", f"REASON={reason}", store=store)
    assert done.returncode == 0, done.stderr
    history = make("history", store=store)
    assert reason in history.stdout, history.stdout

    folder = tmp_path / 'it\'s "odd" (folder)'
    folder.mkdir()
    source, target = folder / "new leads.csv", folder / "scores; touch pwned.csv"
    leads = MarketingSimulator(7).leads(50).drop(columns=["converted", "p_convert"])
    leads.to_csv(source, index=False)
    done = make("score", f"INPUT={source}", f"OUTPUT={target}", store=store)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(target)) == 50

    attack = f'x"; touch {marker}; echo "'
    done = make("promote", "FORCE=1", f"REASON={attack}", store=store)
    assert done.returncode == 2 and "already the champion" in done.stderr, done.stderr
    done = make("score", f"INPUT={source}; touch {marker}", f"OUTPUT={target}", store=store)
    assert done.returncode == 2 and "does not exist" in done.stderr, done.stderr
    assert not marker.exists()
