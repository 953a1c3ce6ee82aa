"""Binary codes against float models: pure Hamming, two-stage, float.

Protocols (``experiments.DATASETS``): on MovieLens-1M a per-user 80/20 split,
relevance = held-out rating > 3, cut-off 10; on Gowalla LightGCN's published
split (train + valid to fit, test to score), cut-off 20. Both rank every item
minus the user's training items; for binary codes the tie-aware values too
(expected over a random order of items at equal Hamming distance). Rows:
popularity, the float reranker (EASE, or continuous CCSR where EASE's
n_items x n_items matrix does not fit), CCSR with continuous codes
(``binarize=None``), default CCSR (pure Hamming), CCSR distilled from EASE
and from the continuous CCSR of the same length (``teacher=``; the fit time
excludes the teacher's), and the two-stage
``RerankRecommender(CCSR, reranker)``. Scoring costs are measured in this
process, after a warm-up call, for all users at once:

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/quality.py --bits 32 40 64 128 \
        --out docs/results/quality-ml-1m.csv

Each row goes to the CSV as it finishes, so a stopped run keeps its rows. The
table of docs/quality.md is regenerated from the committed CSV with

    python benchmarks/quality.py --report docs/results/quality-ml-1m.csv
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sklearn_hashrec import CCSR, EASE, PopularityRecommender, RerankRecommender
from sklearn_hashrec.experiments import load_dataset, markdown_table, read_runs, write_runs


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
    parser.add_argument("--dataset", choices=["ml-1m", "gowalla"], default="ml-1m")
    parser.add_argument("--reranker", choices=["EASE", "CCSR-C"], default="EASE")
    parser.add_argument("--out", default="quality.csv")
    parser.add_argument("--report", metavar="CSV", help="only print the table of a run's CSV")
    args = parser.parse_args()
    if args.report:
        print(report(read_runs(args.report)))
        return
    import json

    extra = json.loads(args.params)
    data, protocol = load_dataset(args.dataset)
    at = 20 if args.dataset == "gowalla" else 10
    protocol = protocol.with_options(ndcg_at=(at,), recall_at=(at,))
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
        if args.reranker == "EASE":
            reranker, reranker_seconds = record("EASE", longest, seed, EASE(), train, test)
        for n_bits in sorted(args.bits):
            continuous, continuous_seconds = record(
                "CCSR-C", n_bits, seed,
                CCSR(n_bits=n_bits, binarize=None, random_state=seed, **extra), train, test)
            if args.reranker == "CCSR-C":
                reranker, reranker_seconds = continuous, continuous_seconds
            ccsr, ccsr_seconds = record("CCSR-S", n_bits, seed,
                                        CCSR(n_bits=n_bits, random_state=seed, **extra),
                                        train, test)
            if args.reranker == "EASE":  # distillation needs the teacher's n_items^2 weights
                record("CCSR-S, teacher EASE", n_bits, seed,
                       CCSR(n_bits=n_bits, random_state=seed, teacher=reranker, **extra),
                       train, test)
            # The teacher that scales wherever CCSR itself trains: its own continuous codes.
            record("CCSR-S, teacher CCSR-C", n_bits, seed,
                   CCSR(n_bits=n_bits, random_state=seed, teacher=continuous, **extra),
                   train, test)
            two_stage = RerankRecommender(ccsr, reranker, n_candidates=args.n_candidates,
                                          prefit=True)
            record(f"CCSR-S + {args.reranker} top-{args.n_candidates}", n_bits, seed,
                   two_stage, train, test, fit_seconds=ccsr_seconds + reranker_seconds)
    print(report(rows))


def report(rows) -> str:
    """Markdown tables of a run: one per metric, a row per model, a column per code length."""
    bits = sorted({int(row["n_bits"]) for row in rows})
    at = 20 if any("NDCG@20" in row for row in rows) else 10
    seeds = sorted({int(row["seed"]) for row in rows})
    metrics = [f"NDCG@{at}", f"tie-aware NDCG@{at}", f"Recall@{at}", f"tie-aware Recall@{at}",
               "fit_seconds", "scoring_seconds"]
    title = (f"Seeds {seeds} (mean +- std over seeds); Top and EASE have no code length and "
             "fill every column.")
    return markdown_table(rows, bits, title, metrics)


if __name__ == "__main__":
    main()
