"""Fit time by torch thread count (``n_jobs``), on a quiet machine and beside another job.

The torch models' ``n_jobs`` default (None: one thread) was chosen from this
run. Each fit is timed with ``n_jobs=1`` and ``n_jobs=2``, alternating, first
alone, then beside a second process that multiplies matrices on 2 threads
(another job on the cores, as on a shared machine or a busy laptop).

    python benchmarks/bench_fit_threads.py           # writes docs/results/fit-threads.csv
    python benchmarks/bench_fit_threads.py --quick   # MovieLens-100k, 2 epochs, no CSV

Needs MovieLens-100k and -1M in the data home ($SKLEARN_HASHREC_DATA).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

from sklearn_hashrec import CCSR, BinaryMF, GraphHash
from sklearn_hashrec.datasets import load_movielens

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results" / "fit-threads.csv"
LOAD = """
import time, numpy as np
a = np.random.default_rng(0).random((1500, 1500))
while True:
    a @ a
"""
MACHINES = ["quiet", "beside a 2-thread job"]


@contextlib.contextmanager
def machine(kind: str):
    """The machine as ``kind`` says: quiet, or with LOAD running on 2 threads beside."""
    if kind == "quiet":
        yield
        return
    env = {**os.environ, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2",
           "MKL_NUM_THREADS": "2"}
    load = subprocess.Popen([sys.executable, "-c", LOAD], env=env)
    time.sleep(2)
    try:
        yield
    finally:
        load.kill()
        load.wait()


# (model, dataset, epochs)
CASES = [("CCSR", "100k", 10), ("GraphHash", "100k", 10), ("CF", "100k", 10), ("CCSR", "1m", 3)]
MAKE = {"CCSR": CCSR, "GraphHash": GraphHash, "CF": BinaryMF}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    cases = [("CCSR", "100k", 2)] if args.quick else CASES
    data = {name: load_movielens(name).data for name in {case[1] for case in cases}}
    CCSR(max_epochs=1).fit(data[cases[0][1]])  # warm-up: first-call costs are not threads'
    rows = []
    for kind in MACHINES:
        with machine(kind):
            for model, dataset, epochs in cases:
                for _ in range(args.repeat):
                    for n_jobs in (1, 2):
                        estimator = MAKE[model](max_epochs=epochs, n_jobs=n_jobs, random_state=0)
                        start = time.perf_counter()
                        estimator.fit(data[dataset])
                        seconds = time.perf_counter() - start
                        rows.append([kind, model, f"ml-{dataset}", epochs, n_jobs,
                                     f"{seconds:.2f}"])
                        print(*rows[-1], flush=True)
    if not args.quick:
        with open(RESULTS, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["machine", "model", "dataset", "epochs", "n_jobs", "fit_seconds"])
            writer.writerows(rows)
        print(f"wrote {RESULTS} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
