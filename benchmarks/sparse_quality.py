"""Float graph filter against EASE and popularity on the test parts, with costs.

The final numbers of docs/quality.md's "Sparse catalogues" section. Each
model's parameters are the point that ``benchmarks/sparse_selection.py``
chose on validation data carved from the training part
(docs/results/sparse-selection.csv); ``GraphFilter()`` with the package's
defaults runs beside it. Models are fitted on the training part (Gowalla:
train + valid) and scored on the test part; seeds change the split
(MovieLens-1M, Amazon) and the randomized SVD's start. Per row: fit seconds,
the seconds of ``recommend`` for every user (after a warm-up, best of two) and
the peak of numpy's traced allocations during fit and scoring:

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/sparse_quality.py \
        --dataset gowalla --seeds 0 1 2 --out docs/results/quality-sparse.csv

Rows are appended to ``--out`` as they finish; ``--report CSV`` prints the
Markdown table of docs/quality.md.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import numpy as np
from quality import scoring_seconds
from sparse_selection import CUTOFF, append_row, read_rows

from sklearn_hashrec import EASE, GraphFilter, PopularityRecommender
from sklearn_hashrec.experiments import load_dataset

# The validation-chosen points (docs/results/sparse-selection.csv); EASE does
# not fit Gowalla (41,000^2 float32 weights are 6.7 GB, its inverse twice that).
CHOSEN = {
    "gowalla": {"GraphFilter": {"n_components": 512, "low_pass_weight": 0.3}},
    "ml-1m": {"GraphFilter": {"n_components": 128, "low_pass_weight": 0.3},
              "EASE": {"l2_reg": 1500.0}},
    "amazon": {"GraphFilter": {"n_components": 64, "low_pass_weight": 0.3},
               "EASE": {"l2_reg": 300.0}},
}


def models(dataset: str, seed: int):
    """``(row name, estimator)`` pairs of a dataset's table."""
    chosen = CHOSEN[dataset]
    out = [("Top", PopularityRecommender())]
    if "EASE" in chosen:
        out.append((f"EASE {json.dumps(chosen['EASE'])}", EASE(**chosen["EASE"])))
    out.append(("GraphFilter defaults", GraphFilter(random_state=seed)))
    out.append((f"GraphFilter {json.dumps(chosen['GraphFilter'])}",
                GraphFilter(**chosen["GraphFilter"], random_state=seed)))
    return out


def measure(model, train, test, protocol, k):
    """Scores, fit and scoring seconds, and the peak traced memory of one model."""
    tracemalloc.start()
    start = time.perf_counter()
    model.fit(train)
    fit_seconds = time.perf_counter() - start
    scoring = scoring_seconds(model, train.shape[0], k=k, repeat=2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {**protocol.evaluate(model, train, test), "fit_seconds": round(fit_seconds, 2),
            "scoring_seconds": round(scoring, 2), "peak_MB": round(peak / 2**20)}


def report(rows) -> str:
    lines = []
    for dataset in dict.fromkeys(row["dataset"] for row in rows):
        at = CUTOFF.get(dataset, 10)
        metrics = [f"NDCG@{at}", f"Recall@{at}", "fit_seconds", "scoring_seconds", "peak_MB"]
        subset = [row for row in rows if row["dataset"] == dataset]
        seeds = sorted({int(row["seed"]) for row in subset})
        lines += [f"**{dataset}** (seeds {seeds}: mean +- std)", "",
                  "| model | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
        for name in dict.fromkeys(row["model"] for row in subset):
            cells = []
            for metric in metrics:
                values = np.array([float(row[metric]) for row in subset
                                   if row["model"] == name])
                digits = 4 if "@" in metric else 1
                cells.append(f"{values.mean():.{digits}f} +- {values.std():.{digits}f}")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(CHOSEN), default="gowalla")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rows", nargs="+", help="only the rows whose name starts so")
    parser.add_argument("--out", default="quality-sparse.csv")
    parser.add_argument("--report", metavar="CSV")
    args = parser.parse_args()
    if args.report:
        print(report(read_rows(args.report)))
        return
    min_interactions = 20 if args.dataset == "amazon" else 0
    data, protocol = load_dataset(args.dataset, min_interactions=min_interactions)
    at = CUTOFF.get(args.dataset, 10)
    protocol = protocol.with_options(ndcg_at=(at,), recall_at=(at,))
    for seed in args.seeds:
        train, test = protocol.split(data.data, seed)
        for name, model in models(args.dataset, seed):
            if args.rows and not any(name.startswith(r) for r in args.rows):
                continue
            row = {"dataset": args.dataset, "model": name, "seed": seed,
                   **measure(model, train, test, protocol, at)}
            append_row(Path(args.out), row)
            print(row, flush=True)


if __name__ == "__main__":
    main()
