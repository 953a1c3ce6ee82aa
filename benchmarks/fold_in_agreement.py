"""Fold-in codes of the training users against the stored ones, per model.

``recommend`` ranks a fitted user by its stored code (``user_codes_``);
``transform`` and ``recommend_from_history`` fold a row in. For the
encoder models the two are one computation; the factorisation models store
free parameters, so their fold-in of a training row can differ. This
measures, on MovieLens-100k (per-user 80/20 split, relevance: rating > 3),
each model with its defaults: the share of equal bits, and the metrics of
the training users ranked both ways through ``sklearn_hashrec.metrics.evaluate``.

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/fold_in_agreement.py
    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/fold_in_agreement.py \
        --models BinaryMF --max-epochs 100 --out docs/results/fold-in-binarymf-100-epochs.csv

Writes docs/results/fold-in.csv (seeds 0-2; the seed is both the split's and the model's).
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from sklearn_hashrec import AECF, CCSR, DJSRH, BinaryMF, CFCodeReg, GraphHash
from sklearn_hashrec.datasets import load_movielens
from sklearn_hashrec.metrics import evaluate
from sklearn_hashrec.model_selection import train_test_split_interactions

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results" / "fold-in.csv"
MODELS = [CCSR, AECF, DJSRH, BinaryMF, CFCodeReg, GraphHash]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", help="class names (default: all six)")
    parser.add_argument("--max-epochs", type=int, help="instead of each model's default")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    X = load_movielens("100k").data
    rows = []
    for seed in args.seeds:
        train, test = train_test_split_interactions(X, 0.2, per_user=True, random_state=seed)
        for model_class in MODELS:
            if args.models and model_class.__name__ not in args.models:
                continue
            model = model_class(random_state=seed)
            if args.max_epochs:
                model.set_params(max_epochs=args.max_epochs)
            start = time.perf_counter()
            model.fit(train)
            seconds = time.perf_counter() - start
            row = {"model": model_class.__name__, "seed": seed,
                   "bit_agreement": float(np.mean(model.transform(train) == model.user_codes_)),
                   "fit_seconds": round(seconds, 2)}
            for users in ("fitted", "fold_in"):
                scores = evaluate(model, train, test, users=users, relevance_threshold=3.0)
                row.update({f"{users} {name}": value for name, value in scores.items()})
            rows.append(row)
            print({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()},
                  flush=True)
    with open(args.out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
