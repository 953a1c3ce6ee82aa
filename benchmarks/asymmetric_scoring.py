"""Asymmetric scoring (users' continuous features vs packed item codes) against symmetric codes.

For each model and seed, one fit; then the same fitted model ranks every user
twice: by its binary codes (Hamming; the tie-aware values are the headline)
and by the users' continuous features against the same packed item codes
(``recommend(..., query="features")``). Both rankings are timed in the same
process.

    python benchmarks/asymmetric_scoring.py --dataset ml-1m --split validation
    python benchmarks/asymmetric_scoring.py --dataset ml-1m --split test
    python benchmarks/asymmetric_scoring.py --dataset gowalla --split test --models CCSR BinaryMF

Appends rows to docs/results/asymmetric-scoring.csv.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from results_csv import write_rows

from sklearn_hashrec import AECF, CCSR, BinaryMF
from sklearn_hashrec.experiments.protocols import load_dataset
from sklearn_hashrec.metrics import evaluate

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results" / "asymmetric-scoring.csv"
MODELS = {"CCSR": CCSR, "AECF": AECF, "BinaryMF": BinaryMF}
FIELDS = ["dataset", "split", "seed", "model", "n_bits", "query", "ndcg", "recall",
          "tie_aware_ndcg", "tie_aware_recall", "rank_seconds", "fit_seconds"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-1m")
    parser.add_argument("--split", choices=["validation", "test"], default="validation")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-bits", type=int, default=64)
    args = parser.parse_args()
    data, protocol = load_dataset(args.dataset)
    cut = max(protocol.ndcg_at)
    rows = []
    for seed in args.seeds:
        train, test = protocol.split(data.data, seed)
        if args.split == "validation":
            train, test = protocol.validation_split(train, seed)
        for name in args.models:
            model = MODELS[name](n_bits=args.n_bits, random_state=seed)
            start = time.perf_counter()
            model.fit(train)
            fit_seconds = time.perf_counter() - start
            for query in ("codes", "features"):
                start = time.perf_counter()
                model.recommend(np.arange(train.shape[0]), k=cut, query=query)
                rank_seconds = time.perf_counter() - start
                scores = evaluate(model, train, test, ndcg_at=cut, recall_at=cut,
                                  relevance_threshold=protocol.relevance_threshold,
                                  query=query)
                rows.append({"dataset": args.dataset, "split": args.split, "seed": seed,
                             "model": name, "n_bits": args.n_bits, "query": query,
                             "ndcg": f"{scores[f'NDCG@{cut}']:.4f}",
                             "recall": f"{scores[f'Recall@{cut}']:.4f}",
                             "tie_aware_ndcg": f"{scores.get(f'tie-aware NDCG@{cut}', np.nan):.4f}",
                             "tie_aware_recall":
                                 f"{scores.get(f'tie-aware Recall@{cut}', np.nan):.4f}",
                             "rank_seconds": f"{rank_seconds:.2f}",
                             "fit_seconds": f"{fit_seconds:.1f}"})
                print(rows[-1], flush=True)
    write_rows(RESULTS, rows, append=True, fields=FIELDS)
    print(f"(NDCG@{cut}, Recall@{cut})")


if __name__ == "__main__":
    main()
