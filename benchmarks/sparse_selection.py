"""Choose a model's parameters on validation data carved from the training part.

Every default of GraphFilter and GraphHash is chosen here, never on the test
part that docs/quality.md reports. ``Protocol.validation_split`` gives the
validation data: Gowalla's published ``train`` / ``valid`` parts, and on
MovieLens-1M and the Amazon subset a split of the training part of seed 0
(by the dataset's own rule: per user on MovieLens, global on Amazon). Each
grid point is fitted on ``fit`` and scored on ``valid`` with the dataset's
protocol (Recall / NDCG at 20 on Gowalla, at 10 elsewhere); rows are appended
to the CSV as they finish:

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/sparse_selection.py \
        --dataset gowalla --model GraphFilter \
        --grid '{"n_components": [0, 128, 256, 512], "low_pass_weight": [0.1, 0.3, 1.0]}' \
        --out docs/results/sparse-selection.csv

``--report CSV`` prints the best point per dataset and model.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import time
from pathlib import Path

import sklearn_hashrec
from sklearn_hashrec.experiments import load_dataset, write_runs

CUTOFF = {"gowalla": 20}


def validation_data(dataset: str, seed: int = 0):
    """``(fit, valid, protocol)`` for a dataset: validation carved from the training part."""
    min_interactions = 20 if dataset == "amazon" else 0
    data, protocol = load_dataset(dataset, min_interactions=min_interactions)
    at = CUTOFF.get(dataset, 10)
    protocol = protocol.with_options(ndcg_at=(at,), recall_at=(at,))
    train, _ = protocol.split(data.data, seed)
    fit, valid = protocol.validation_split(train, seed)
    return fit, valid, protocol


def grid_points(grid: dict) -> list[dict]:
    names = sorted(grid)
    return [dict(zip(names, values, strict=True))
            for values in itertools.product(*(grid[n] for n in names))]


def append_row(path: Path, row: dict) -> None:
    """Add a row to a CSV, rewritten with the union of the rows' columns."""
    write_runs(path, (read_rows(path) if path.exists() else []) + [row])


def read_rows(path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def best_points(rows) -> dict:
    """The best row per (dataset, model) by the dataset's headline metric.

    Recall on Gowalla, NDCG elsewhere (the metrics docs/quality.md reports
    first); the tie-aware value where the model has binary codes.
    """
    best = {}
    for row in rows:
        key = (row["dataset"], row["model"])
        metric_prefix = "Recall@" if row["dataset"] == "gowalla" else "NDCG@"
        filled = [k for k in row if row[k] not in ("", None)]
        metric = next((k for k in filled if k.startswith("tie-aware " + metric_prefix)),
                      None) or next(k for k in filled if k.startswith(metric_prefix))
        value = float(row[metric])
        if key not in best or value > best[key][0]:
            best[key] = (value, metric, row["params"])
    return best


def built(spec, seed):
    """An estimator from JSON: ``{"GraphFilter": {"n_components": 128}}``, seeded."""
    (name, params), = spec.items()
    estimator = getattr(sklearn_hashrec, name)(**params)
    if "random_state" in estimator.get_params():
        estimator.set_params(random_state=seed)
    return estimator


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["gowalla", "ml-1m", "amazon"], default="gowalla")
    parser.add_argument("--model", default="GraphFilter")
    parser.add_argument("--grid", default="{}", help="parameter grid as JSON")
    parser.add_argument("--params", default="{}",
                        help='fixed parameters as JSON; a teacher as {"teacher": {"GraphFilter": '
                             '{"n_components": 128}}}')
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="sparse-selection.csv")
    parser.add_argument("--report", metavar="CSV")
    args = parser.parse_args()
    if args.report:
        for (dataset, model), (value, metric, params) in best_points(
                read_rows(args.report)).items():
            print(f"{dataset:8s} {model:12s} {metric} {value:.4f} {params}")
        return
    fit, valid, protocol = validation_data(args.dataset, args.seed)
    if args.model == "SpectralCodes":
        from spectral_codes import SpectralCodes as estimator_class
    else:
        estimator_class = getattr(sklearn_hashrec, args.model)
    fixed = json.loads(args.params)
    for point in grid_points(json.loads(args.grid)):
        params = {**fixed, **point}
        model = estimator_class(**{name: built(value, args.seed) if name == "teacher" else value
                                   for name, value in params.items()})
        if "random_state" in model.get_params():
            model.set_params(random_state=args.seed)
        start = time.perf_counter()
        model.fit(fit)
        seconds = time.perf_counter() - start
        scores = protocol.evaluate(model, fit, valid)
        row = {"dataset": args.dataset, "model": args.model, "seed": args.seed,
               "params": json.dumps(params, sort_keys=True), **scores,
               "fit_seconds": round(seconds, 2)}
        append_row(Path(args.out), row)
        print(row, flush=True)


if __name__ == "__main__":
    main()
