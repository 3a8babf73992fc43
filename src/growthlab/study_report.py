"""What a study shows a person: a progress bar of trials, the best trial, Optuna's plots."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import optuna
from optuna.trial import TrialState

from growthlab.errors import UserError

log = logging.getLogger(__name__)

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def count(study: optuna.Study, states: tuple[TrialState, ...]) -> int:
    return len(study.get_trials(deepcopy=False, states=states))


class Progress:
    """A progress bar of finished trials with the best value so far (all workers counted); a
    log line per trial of this process when stderr is not a terminal."""

    def __init__(self, study: optuna.Study, total: int, enabled: bool) -> None:
        self.study = study
        self.total = total
        self.enabled = enabled
        self.bar: Any = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=self.total,
                initial=count(self.study, FINISHED),
                desc="trials",
                unit="trial",
                dynamic_ncols=True,
                disable=None,  # a terminal only: a log gets one line per trial instead
            )
        return self

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial | None) -> None:
        if self.bar is None:
            return
        if self.bar.disable:
            if trial is not None:
                value = "" if trial.value is None else f": {trial.value:.4f}"
                log.info("trial %d %s%s", trial.number, trial.state.name.lower(), value)
            return
        self.bar.n = min(count(study, FINISHED), self.total)
        with suppress(ValueError):  # no completed trial yet
            self.bar.set_postfix(best=f"{study.best_value:.4f}", refresh=False)
        self.bar.refresh()

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self(self.study, None)  # workers may have finished the last trials
            self.bar.close()


def summary(study: optuna.Study) -> dict[str, Any]:
    """The best trial's params and value and the study's counts, for the parent run."""
    counts = {f"trials_{s.name.lower()}": float(count(study, (s,))) for s in TrialState}
    try:
        best = study.best_trial
    except ValueError:
        raise UserError(
            f"study {study.study_name!r} has no completed trial; look at the FAILED child runs, "
            "or raise tuner.n_trials / tuner.timeout"
        ) from None
    return {
        "params": dict(best.params),
        "value": float(best.value),
        "number": best.number,
        "counts": counts,
    }


def figures(study: optuna.Study) -> Iterator[tuple[str, Any]]:
    """Optuna's matplotlib plots (history, importances, parallel coordinates), where they apply."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from optuna.visualization import matplotlib as plots

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the matplotlib backend is flagged experimental
        for name, plot in (
            ("optimization_history", plots.plot_optimization_history),
            ("param_importances", plots.plot_param_importances),
            ("parallel_coordinate", plots.plot_parallel_coordinate),
        ):
            try:
                axes = plot(study)
            except (ValueError, RuntimeError, ZeroDivisionError) as exc:
                log.info("no %s plot: %s", name, exc)
                continue
            figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
            figure.set_size_inches(9, 5.5)
            figure.tight_layout()
            # Optuna draws through pyplot, which keeps every figure alive: let go of it (it
            # still saves), or a long-lived process piles figures up.
            pyplot.close(figure)
            yield name, figure
