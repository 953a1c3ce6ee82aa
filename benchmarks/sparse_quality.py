"""Graph filter, GraphHash codes and the two-stage against EASE, CCSR and popularity.

The final numbers of docs/quality.md's "Sparse catalogues" section, on the
test parts. Each model's parameters are the point that
``benchmarks/sparse_selection.py`` chose on validation data carved from the
training part (docs/results/sparse-selection.csv); ``GraphFilter()`` with
the package's defaults runs beside it. Rows: popularity, EASE (where it
fits), the filter, CCSR with 64 continuous dimensions, 64 bits, and 64 bits
distilled from the chosen filter (not on Gowalla, where a CCSR fit takes most
of an hour), GraphHash at 32, 64 and 128 bits, and the two-stage
``RerankRecommender`` of the fitted 64-bit GraphHash's Hamming top-1000 and
top-200 re-ranked by its own fitted teacher. Models are fitted on the
training part (Gowalla: train + valid) and scored on the test part; seeds
change the split (MovieLens-1M, Amazon), the randomized SVD's start and the
training order. Per row: fit seconds, the seconds of ``recommend`` for every
user (after a warm-up, best of two), the peak of numpy's traced allocations
and the process's peak resident memory during fit and scoring, and for a
two-stage row the re-ranker's own full scoring in the same process:

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/sparse_quality.py \
        --dataset gowalla --seeds 0 1 2 --out docs/results/quality-sparse.csv

``--rows`` runs the rows whose names start so (and the stage a two-stage row
needs). Rows are appended to ``--out`` as they finish; ``--report CSV``
prints the Markdown tables of docs/quality.md.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
from quality import scoring_seconds
from sparse_selection import CUTOFF, append_row, built, read_rows

from sklearn_hashrec import (
    CCSR,
    EASE,
    GraphFilter,
    GraphHash,
    PopularityRecommender,
    RerankRecommender,
)
from sklearn_hashrec.experiments import load_dataset

# The validation-chosen points (docs/results/sparse-selection.csv); EASE does
# not fit Gowalla (41,000^2 float32 weights are 6.7 GB, its inverse twice that).
CHOSEN = {
    "gowalla": {"GraphFilter": {"n_components": 512, "low_pass_weight": 0.3},
                "GraphHash": {"batch_size": 256, "distill_items": 20, "learning_rate": 0.1,
                              "max_epochs": 10}},
    "ml-1m": {"GraphFilter": {"n_components": 128, "low_pass_weight": 0.3},
              "EASE": {"l2_reg": 1500.0},
              "GraphHash": {"batch_size": 256, "distill_items": 10, "learning_rate": 0.3,
                            "max_epochs": 40, "n_bits": 64,
                            "teacher": {"GraphFilter": {"n_components": 128}}}},
    "amazon": {"GraphFilter": {"n_components": 64, "low_pass_weight": 0.3},
               "EASE": {"l2_reg": 300.0},
               "GraphHash": {"batch_size": 256, "distill_items": 10, "learning_rate": 0.3,
                             "max_epochs": 40, "n_bits": 64,
                             "teacher": {"GraphFilter": {"n_components": 64}}}},
}
GRAPH_HASH_BITS = (32, 64, 128)


def models(dataset: str, seed: int):
    """``(row name, estimator)`` pairs of a dataset's table.

    An entry may instead be a function of the fitted models so far (by row
    name) that returns the estimator: the two-stage rows re-rank the fitted
    64-bit GraphHash's candidates with its own fitted teacher.
    """
    chosen = CHOSEN[dataset]
    out = [("Top", PopularityRecommender())]
    if "EASE" in chosen:
        out.append((f"EASE {json.dumps(chosen['EASE'])}", EASE(**chosen["EASE"])))
    out.append(("GraphFilter defaults", GraphFilter(random_state=seed)))
    out.append((f"GraphFilter {json.dumps(chosen['GraphFilter'])}",
                GraphFilter(**chosen["GraphFilter"], random_state=seed)))
    if dataset != "gowalla":
        # A CCSR fit takes most of an hour on Gowalla: its rows there are
        # docs/results/quality-gowalla.csv's.
        teacher = GraphFilter(**chosen["GraphFilter"], random_state=seed)
        out += [("CCSR 64 bits, continuous", CCSR(n_bits=64, binarize=None, random_state=seed)),
                ("CCSR 64 bits", CCSR(n_bits=64, random_state=seed)),
                ("CCSR 64 bits, teacher GraphFilter",
                 CCSR(n_bits=64, teacher=teacher, random_state=seed))]
    hashing = {name: value for name, value in chosen.get("GraphHash", {}).items()
               if name != "n_bits"}
    shown = json.dumps(hashing)
    for n_bits in GRAPH_HASH_BITS:
        params = {**hashing, "n_bits": n_bits, "random_state": seed}
        if "teacher" in params:
            params["teacher"] = built(params["teacher"], seed)
        out.append((f"GraphHash {n_bits} bits {shown}", GraphHash(**params)))
    stage = f"GraphHash 64 bits {shown}"
    for n_candidates in (1000, 200):
        out.append((f"two-stage: GraphHash 64 bits top-{n_candidates} + its teacher",
                    lambda fitted, n=n_candidates: RerankRecommender(
                        fitted[stage], fitted[stage].teacher_, n_candidates=n, prefit=True)))
    return out


def needed_rows(rows, wanted):
    """``(asked, stages)``: the rows asked for (names starting with a ``wanted``
    prefix; all without any), and the fitted stages their two-stage rows need
    that were not asked for themselves."""
    asked = {name for name, _ in rows
             if not wanted or any(name.startswith(prefix) for prefix in wanted)}
    stages = set()
    if any(name.startswith("two-stage") for name in asked):
        stages = {name for name, _ in rows if name.startswith("GraphHash 64 bits")} - asked
    return asked, stages


class PeakRSS:
    """The process's peak resident memory over a ``with`` block, sampled every 20 ms.

    ``tracemalloc`` sees numpy's allocations but not torch's; the resident
    set sees both (and the interpreter, the data and earlier models too).
    """

    def __enter__(self):
        self.peak, self._stop = _rss(), threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(model, train, test, protocol, k, fit=True):
    """Scores, fit and scoring seconds, and the peak memory of one model.

    ``fit=False`` measures a model fitted already (a two-stage over fitted stages).
    """
    tracemalloc.start()
    with PeakRSS() as rss:
        start = time.perf_counter()
        if fit:
            model.fit(train)
        fit_seconds = time.perf_counter() - start
        scoring = scoring_seconds(model, train.shape[0], k=k, repeat=2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    extra = {}
    if isinstance(model, RerankRecommender):
        # The re-ranker's own full scoring, in the same process, for the ratio.
        extra["reranker_scoring_seconds"] = round(
            scoring_seconds(model.reranker_, train.shape[0], k=k, repeat=2), 2)
    return {**protocol.evaluate(model, train, test), "fit_seconds": round(fit_seconds, 2),
            "scoring_seconds": round(scoring, 2), "peak_MB": round(peak / 2**20),
            "peak_RSS_MB": round(rss.peak / 2**20), **extra}


def report(rows) -> str:
    """docs/quality.md's tables: mean +- std over seeds, blank where a row has no value.

    The tie-aware columns (expected over a random order of the items at equal
    Hamming distance) are the headline for binary codes; the plain ones break
    ties by item index. ``peak_RSS_MB`` is missing from the rows run before it
    was measured.
    """
    lines = []
    for dataset in dict.fromkeys(row["dataset"] for row in rows):
        at = CUTOFF.get(dataset, 10)
        metrics = [f"NDCG@{at}", f"Recall@{at}", f"tie-aware NDCG@{at}",
                   f"tie-aware Recall@{at}", "fit_seconds", "scoring_seconds", "peak_MB",
                   "peak_RSS_MB"]
        subset = [row for row in rows if row["dataset"] == dataset]
        lines += [f"**{dataset}** (mean +- std over each row's seeds)", "",
                  "| model | seeds | " + " | ".join(metrics) + " |",
                  "|---" * (len(metrics) + 2) + "|"]
        for name in dict.fromkeys(row["model"] for row in subset):
            mine = [row for row in subset if row["model"] == name]
            cells = []
            for metric in metrics:
                values = np.array([float(row[metric]) for row in mine
                                   if row.get(metric) not in (None, "")])
                digits = 4 if "@" in metric else 1
                cells.append(f"{values.mean():.{digits}f} +- {values.std():.{digits}f}"
                             if len(values) == len(mine) else "")
            seeds = ",".join(str(int(row["seed"])) for row in mine)
            lines.append(f"| {name} | {seeds} | " + " | ".join(cells) + " |")
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
        rows = models(args.dataset, seed)
        asked, stages = needed_rows(rows, args.rows)
        fitted = {}
        for name, model in rows:
            if name not in asked | stages:
                continue
            if callable(model) and not hasattr(model, "fit"):
                model = model(fitted)
            if name in stages:
                # Only fitted, for the two-stage rows: neither timed nor scored.
                fitted[name] = model.fit(train)
                continue
            row = {"dataset": args.dataset, "model": name, "seed": seed,
                   **measure(model, train, test, protocol, at)}
            fitted[name] = model
            append_row(Path(args.out), row)
            print(row, flush=True)


if __name__ == "__main__":
    main()
