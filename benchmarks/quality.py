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

Each row goes to the CSV as it finishes, so a stopped run keeps its rows. On
Gowalla a fit takes most of an hour, so ``--rows`` runs a subset of the rows
and ``--cache DIR`` saves each fitted model (with its fit seconds) and reuses
it: the two-stage and distilled rows then load the stages and the teacher that
other processes fitted, for instance

    python benchmarks/quality.py --dataset gowalla --reranker CCSR-C --bits 64 \
        --rows CCSR-S --cache models --out a.csv          # beside
    python benchmarks/quality.py --dataset gowalla --reranker CCSR-C --bits 64 \
        --rows CCSR-C --cache models --out b.csv          # then
    python benchmarks/quality.py --dataset gowalla --reranker CCSR-C --bits 64 \
        --rows two-stage --cache models --out c.csv

The table of docs/quality.md is regenerated from the committed CSV with

    python benchmarks/quality.py --report docs/results/quality-ml-1m.csv
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import joblib
import numpy as np

from sklearn_hashrec import CCSR, EASE, PopularityRecommender, RerankRecommender
from sklearn_hashrec.experiments import load_dataset, markdown_table, read_runs, write_runs

ROWS = ("Top", "EASE", "CCSR-C", "CCSR-S", "teacher EASE", "teacher CCSR-C", "two-stage")


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
    parser.add_argument("--rows", nargs="+", choices=ROWS, default=list(ROWS),
                        help="the rows to run (the stages and teachers they need are "
                             "fitted, or loaded from --cache, without a row of their own)")
    parser.add_argument("--cache", metavar="DIR",
                        help="save each fitted model there and load it instead of fitting "
                             "it again")
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
    cache = Path(args.cache) if args.cache else None
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
    rows = []

    def fitted(name, n_bits, seed, make, train):
        """A row's fitted model and fit seconds: loaded from the cache, or fitted now."""
        path = cache / f"{name.replace(' ', '_')}-{n_bits}-{seed}.joblib" if cache else None
        if path is not None and path.exists():
            return joblib.load(path)
        model = make()
        start = time.perf_counter()  # as Protocol.fit_and_evaluate counts it
        model.fit(train)
        result = model, time.perf_counter() - start
        if path is not None:
            joblib.dump(result, path)
        return result

    def record(name, n_bits, seed, model, fit_seconds, train, test):
        scores = protocol.evaluate(model, train, test)
        scores["fit_seconds"] = fit_seconds
        scores["scoring_seconds"] = scoring_seconds(model, train.shape[0], k=at)
        rows.append({"model": name, "n_bits": n_bits, "seed": seed, **scores})
        write_runs(args.out, rows)
        print(rows[-1], flush=True)

    def run_seed(seed):
        train, test = protocol.split(data.data, seed)
        longest = max(args.bits)

        def row(kind, name, n_bits, make):
            """Fit (or load) a model; record its row if ``kind`` was asked for."""
            model, seconds = fitted(name, n_bits, seed, make, train)
            if kind in args.rows:
                record(name, n_bits, seed, model, seconds, train, test)
            return model, seconds

        if "Top" in args.rows:
            row("Top", "Top", longest, PopularityRecommender)
        needs_reranker = "two-stage" in args.rows or "teacher EASE" in args.rows
        if args.reranker == "EASE" and ("EASE" in args.rows or needs_reranker):
            # no code length: fitted once, its row under the longest
            reranker, reranker_seconds = row("EASE", "EASE", longest, EASE)
        for n_bits in sorted(args.bits):
            def ccsr(n_bits=n_bits, **params):
                return lambda: CCSR(n_bits=n_bits, random_state=seed, **params, **extra)

            if ("CCSR-C" in args.rows or "teacher CCSR-C" in args.rows
                    or (args.reranker == "CCSR-C" and needs_reranker)):
                continuous, continuous_seconds = row("CCSR-C", "CCSR-C", n_bits,
                                                     ccsr(binarize=None))
                if args.reranker == "CCSR-C":
                    reranker, reranker_seconds = continuous, continuous_seconds
            if "CCSR-S" in args.rows or "two-stage" in args.rows:
                ccsr_model, ccsr_seconds = row("CCSR-S", "CCSR-S", n_bits, ccsr())
            if args.reranker == "EASE" and "teacher EASE" in args.rows:
                # distillation needs the teacher's n_items^2 weights
                row("teacher EASE", "CCSR-S, teacher EASE", n_bits, ccsr(teacher=reranker))
            if "teacher CCSR-C" in args.rows:
                # The teacher that scales wherever CCSR itself trains: its own continuous codes.
                row("teacher CCSR-C", "CCSR-S, teacher CCSR-C", n_bits,
                    ccsr(teacher=continuous))
            if "two-stage" in args.rows:
                two_stage = RerankRecommender(ccsr_model, reranker,
                                              n_candidates=args.n_candidates, prefit=True)
                record(f"CCSR-S + {args.reranker} top-{args.n_candidates}", n_bits, seed,
                       two_stage.fit(train), ccsr_seconds + reranker_seconds, train, test)

    for seed in args.seeds:
        run_seed(seed)
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
