"""Binary codes against float models on MovieLens-1M: pure Hamming, two-stage, float.

Protocol (``experiments.DATASETS["ml-1m"]``): per-user 80/20 split, relevance =
held-out rating > 3, full ranking of every item minus the user's training
items; NDCG@10 and Recall@10, for binary codes also the tie-aware values
(expected over a random order of items at equal Hamming distance). Rows:
popularity, EASE (float item-item), CCSR with continuous codes (``binarize=None``,
float32 inner products), default CCSR (pure Hamming), and the two-stage
``RerankRecommender(CCSR, EASE)``. Scoring costs are measured in this process,
after one warm-up call, for all users at once:

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/quality.py --bits 32 64 128 \
        --out docs/results/quality-ml-1m.csv

Each row goes to the CSV as it finishes, so a stopped run keeps its rows.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sklearn_hashrec import CCSR, EASE, PopularityRecommender, RerankRecommender
from sklearn_hashrec.experiments import load_dataset, markdown_table, write_runs


def scoring_seconds(model, n_users, k=10, repeat=3):
    """Best of ``repeat`` timings of ``recommend`` for every user (after a warm-up)."""
    users = np.arange(n_users)
    model.recommend(users[:10], k=k)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        model.recommend(users, k=k)
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n-candidates", type=int, default=200)
    parser.add_argument("--params", default="{}", help="extra CCSR parameters as JSON")
    parser.add_argument("--out", default="quality-ml-1m.csv")
    args = parser.parse_args()
    import json

    extra = json.loads(args.params)
    data, protocol = load_dataset("ml-1m")
    protocol = protocol.with_options(ndcg_at=(10,), recall_at=(10,))
    rows = []

    def record(name, n_bits, seed, model, train, test, fit_seconds=None):
        scores = protocol.fit_and_evaluate(model, train, test)
        if fit_seconds is not None:  # a prefit two-stage model: its stages' fits
            scores["fit_seconds"] = fit_seconds
        scores["scoring_seconds"] = scoring_seconds(model, train.shape[0])
        rows.append({"model": name, "n_bits": n_bits, "seed": seed, **scores})
        write_runs(args.out, rows)
        print(rows[-1], flush=True)
        return model, scores["fit_seconds"]

    for seed in args.seeds:
        train, test = protocol.split(data.data, seed)
        longest = max(args.bits)
        record("Top", longest, seed, PopularityRecommender(), train, test)
        ease, ease_seconds = record("EASE", longest, seed, EASE(), train, test)
        for n_bits in sorted(args.bits):
            record("CCSR-C", n_bits, seed,
                   CCSR(n_bits=n_bits, binarize=None, random_state=seed, **extra), train, test)
            ccsr, ccsr_seconds = record("CCSR-S", n_bits, seed,
                                        CCSR(n_bits=n_bits, random_state=seed, **extra),
                                        train, test)
            two_stage = RerankRecommender(ccsr, ease, n_candidates=args.n_candidates,
                                          prefit=True)
            record(f"CCSR-S + EASE top-{args.n_candidates}", n_bits, seed, two_stage, train,
                   test, fit_seconds=ccsr_seconds + ease_seconds)
    metrics = ["NDCG@10", "tie-aware NDCG@10", "Recall@10", "fit_seconds", "scoring_seconds"]
    print(markdown_table(rows, sorted(args.bits), f"ML-1M, seeds {args.seeds}", metrics))


if __name__ == "__main__":
    main()
