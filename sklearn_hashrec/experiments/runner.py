"""Running a grid of variants x code lengths x seeds under one protocol."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from .protocols import Protocol
from .registry import MODELS, build_estimator, variant_name
from .tuning import tune_estimator

__all__ = ["SETTINGS", "Run", "plan_runs", "run_grid"]

#: How a run sets each model's hyperparameters: the package's defaults, a grid
#: search on validation data (``tuning_grid``), or the paper's stated values.
SETTINGS = ("defaults", "tuned", "paper")


@dataclass(frozen=True)
class Run:
    """One fit: a variant at a code length with a seed (split and model)."""

    family: str
    binarize: object
    n_bits: int
    seed: int

    @property
    def name(self) -> str:
        return variant_name(self.family, self.binarize)


def plan_runs(variants, bits, seeds) -> list[Run]:
    """The runs of a grid, seed by seed, longest codes first.

    Longest codes first, so an interrupted grid still has whole columns of
    the table; models without codes run once per seed.
    """
    longest = max(bits)
    return [Run(family, binarize, n_bits, seed)
            for seed in seeds for n_bits in sorted(bits, reverse=True)
            for family, binarize in variants
            if MODELS[family].has_codes or n_bits == longest]


def run_grid(X, protocol: Protocol, runs, *, device: str = "cpu", params=None,
             setting: str = "defaults", dataset: str = "", on_result=None,
             progress: bool = False) -> list[dict]:
    """Fit and score every run; returns the rows (one dict per run).

    Parameters
    ----------
    X : sparse matrix of shape (n_users, n_items)
        The whole interaction matrix; each seed's split comes from ``protocol``.
    protocol : Protocol
    runs : list of Run
    device : str, default="cpu"
        Passed to the models that train with torch.
    params : callable or None
        ``params(run) -> dict`` of extra estimator parameters (e.g. fewer
        epochs), applied before the setting's.
    setting : {"defaults", "tuned", "paper"}, default="defaults"
        ``"tuned"``: each run first searches its family's ``tuning_grid`` on a
        validation split of its training part (:func:`tune_estimator`), then
        refits the best point on the whole training part; the row records the
        chosen ``params`` and their ``validation NDCG@10``. ``"paper"``: the
        family's ``paper_recipe`` for the run's code length and ``dataset``.
    dataset : str, default=""
        The dataset's name, for the paper's per-dataset values.
    on_result : callable or None
        Called with the rows so far after every run (to write them out as
        they come, so an interrupted grid keeps its results).
    progress : bool, default=False
        A tqdm progress bar over the runs, on stderr.
    """
    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {SETTINGS}, got {setting!r}.")
    rows, splits = [], {}
    iterator = runs
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(runs, total=len(runs), desc="runs", file=sys.stderr)
    for run in iterator:
        if run.seed not in splits:
            splits[run.seed] = protocol.split(X, run.seed)
        train, test = splits[run.seed]
        estimator = build_estimator(run.family, run.binarize, n_bits=run.n_bits,
                                    random_state=run.seed, device=device,
                                    params=params(run) if params else None)
        spec, chosen = MODELS[run.family], {}
        if setting == "paper" and spec.paper_recipe is not None:
            estimator.set_params(**spec.paper_recipe(run.n_bits, dataset))
        elif setting == "tuned":
            best, validation = tune_estimator(estimator, spec.tuning_grid, train, protocol,
                                              run.seed)
            estimator.set_params(**best)
            chosen = {"params": json.dumps(best, sort_keys=True),
                      "validation NDCG@10": validation if validation is not None else ""}
        scores = protocol.fit_and_evaluate(estimator, train, test)
        rows.append({"model": run.name, "n_bits": run.n_bits, "seed": run.seed,
                     "fit_seconds": scores.pop("fit_seconds"), **scores, **chosen})
        if on_result is not None:
            on_result(rows)
    return rows
