"""Does squashing CCSR's features help asymmetric scoring? Validation parts only.

``query="features"`` ranks the packed item codes by the user's raw encoder
output ``f``. A squashed query (``tanh(alpha_ * f)``, what the training loss
saw, or ``tanh(f)``, a clip to [-1, 1], a per-dimension scaling, a row
normalisation) weighs the dimensions differently and could rank better. Each
variant ranks with the same engine (``ranking.hamming_topk`` with float
queries and packed items) on the same fitted model.

    python benchmarks/asymmetric_squashing.py        # ML-1M, 64 bits, seeds 0-2 (~4 minutes)

Writes docs/results/asymmetric-squashing.csv.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from results_csv import write_rows

from sklearn_hashrec import CCSR
from sklearn_hashrec.experiments.protocols import load_dataset
from sklearn_hashrec.metrics import ndcg_at_k, recall_at_k
from sklearn_hashrec.ranking import hamming_topk

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results" / "asymmetric-squashing.csv"


def squashings(model) -> dict:
    """The query variants of a fitted CCSR's user features."""
    f = model.user_features_
    return {"raw f (query='features')": f,
            "tanh(alpha_ f)": np.tanh(model.alpha_ * f),
            "tanh(f)": np.tanh(f),
            "clip(f, -1, 1)": np.clip(f, -1, 1),
            "tanh(f / std per bit)": np.tanh(f / f.std(axis=0, keepdims=True)),
            "f / |f| per user": f / np.linalg.norm(f, axis=1, keepdims=True)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-1m")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-bits", type=int, default=64)
    args = parser.parse_args()
    data, protocol = load_dataset(args.dataset)
    cut = max(protocol.ndcg_at)
    rows = []
    for seed in args.seeds:
        train, test = protocol.split(data.data, seed)
        train, test = protocol.validation_split(train, seed)
        model = CCSR(n_bits=args.n_bits, random_state=seed).fit(train)
        relevant = (test > protocol.relevance_threshold).astype(np.float64).tocsr()
        for name, query in squashings(model).items():
            ranked = hamming_topk(np.asarray(query, dtype=np.float32),
                                  model.item_codes_packed_, cut, exclude=train,
                                  n_bits=args.n_bits)
            rows.append({"dataset": args.dataset, "split": "validation", "seed": seed,
                         "n_bits": args.n_bits, "query": name,
                         "ndcg": f"{ndcg_at_k(relevant, ranked, cut):.4f}",
                         "recall": f"{recall_at_k(relevant, ranked, cut):.4f}"})
            print(rows[-1], flush=True)
    write_rows(RESULTS, rows)
    print(f"(NDCG@{cut}, Recall@{cut})")


if __name__ == "__main__":
    main()
