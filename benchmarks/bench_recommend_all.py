"""Every user's top-k written to Parquet, against FAISS and implicit on the same users.

Each size runs in a child process: it builds a model of random 64-bit codes
(every user has ``--seen`` random training items, filtered from the answers),
then times :func:`sklearn_hashrec.export.recommend_all` writing the top-k of
every user to a Parquet directory, and reports its peak RSS. In the parent, on
the same codes and users: FAISS's ``IndexBinaryFlat`` (ranking only: no seen
filter, nothing written) and, when installed, implicit's float ``recommend``
on 64 float factors (the peer users move from); each peer runs on at most
``--faiss-users`` / ``--implicit-users`` users (``all``: every user) and its
time is scaled to all of them (the CSV states both). The last lines estimate
14M users from the measured slope.

    python benchmarks/bench_recommend_all.py                    # 100k and 1M users
    python benchmarks/bench_recommend_all.py --users 10000000   # 10M (about 20 minutes)
    python benchmarks/bench_recommend_all.py --faiss-users all --implicit-users all  # no scaling
    python benchmarks/bench_recommend_all.py --quick            # 20k users x 100k items

Writes docs/results/recommend-all.csv (appends one row per size, unless --quick).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from bench_hamming import random_codes as codes
from results_csv import write_rows

from sklearn_hashrec.base import BaseHashRecommender

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results" / "recommend-all.csv"
FIELDS = ["n_users", "n_items", "n_bits", "k", "seen_per_user", "block_size", "threads",
          "ours_seconds", "ours_rows", "parquet_mb", "peak_rss_mb", "model_rss_mb",
          "faiss_users", "faiss_seconds_measured", "faiss_seconds_scaled",
          "implicit_users", "implicit_seconds_measured", "implicit_seconds_scaled"]


class RandomCodes(BaseHashRecommender):
    """Uniform random codes for every user and item: the engine's workload, no training."""

    def __init__(self, n_bits=64, random_state=0):
        self.n_bits = n_bits
        self.random_state = random_state

    def _fit(self, X):
        rng = np.random.default_rng(self.random_state)
        return {"user_codes_": codes(rng, X.shape[0], self.n_bits),
                "item_codes_": codes(rng, X.shape[1], self.n_bits)}


def random_model(n_users, n_items, n_bits, seen, seed=0):
    """A fitted recommender of random codes, with ``seen`` training items per user."""
    rng = np.random.default_rng(seed + 1)
    indices = rng.integers(0, n_items, n_users * seen, dtype=np.int64)
    X = sp.csr_matrix((np.ones(n_users * seen, dtype=np.float32), indices,
                       np.arange(0, n_users * seen + 1, seen)), shape=(n_users, n_items))
    return RandomCodes(n_bits, seed).fit(X)


def child(n_users, n_items, n_bits, k, seen, block_size, out):
    """Our export alone in this process: its time and the process's peak RSS."""
    from sklearn_hashrec.export import recommend_all

    model = random_model(n_users, n_items, n_bits, seen)
    recommend_all(model, out + ".warm.csv", k=k, users=np.arange(64))  # compile kernels
    model_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = recommend_all(model, out, k=k, block_size=block_size)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = sum(p.stat().st_size for p in Path(out).iterdir()) / 2**20
    print(json.dumps({"ours_seconds": round(report.seconds, 2), "ours_rows": report.rows_written,
                      "parquet_mb": round(size), "peak_rss_mb": round(peak),
                      "model_rss_mb": round(model_rss)}))


def faiss_seconds(model, users, k):
    import faiss

    index = faiss.IndexBinaryFlat(model.item_codes_packed_.shape[1] * 64)
    index.add(np.ascontiguousarray(model.item_codes_packed_).view(np.uint8))
    from sklearn_hashrec.ranking import pack_codes

    queries = pack_codes(model.user_codes_[users]).view(np.uint8)
    index.search(queries[:8], k)
    start = time.perf_counter()
    index.search(queries, k)
    return time.perf_counter() - start


def implicit_seconds(model, users, k, seen_csr):
    try:
        from implicit.cpu.als import AlternatingLeastSquares
    except ImportError:
        return None
    rng = np.random.default_rng(0)
    # Factors set by hand: only implicit's ranking (float matmul, top-k, filter) is timed.
    mf = AlternatingLeastSquares(factors=model.n_bits, num_threads=0, random_state=0)
    mf.user_factors = rng.standard_normal((len(users), model.n_bits), dtype=np.float32)
    mf.item_factors = rng.standard_normal((model.item_codes_.shape[0], model.n_bits),
                                          dtype=np.float32)
    rows = np.arange(len(users))
    history = seen_csr[users]
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):  # implicit's own advice: its threads, not BLAS's
        mf.recommend(rows[:8], history[:8], N=k)
        start = time.perf_counter()
        mf.recommend(rows, history, N=k, filter_already_liked_items=True)
        return time.perf_counter() - start


def _count(text):
    """A number of users, or 0 for 'all'."""
    return 0 if text == "all" else int(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--bits", type=int, default=64)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--seen", type=int, default=5, help="training items per user")
    parser.add_argument("--block-size", type=int, default=16_384)
    peers = "users the peer ranks (its time is scaled to all); 'all': every user"
    parser.add_argument("--faiss-users", type=_count, default=20_000, help=peers)
    parser.add_argument("--implicit-users", type=_count, default=20_000, help=peers)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        *sizes, out = args.child
        child(*map(int, sizes), out)
        return
    if args.quick:
        args.users, args.items = [20_000], 100_000
        args.faiss_users = args.implicit_users = 5_000
    import numba

    rows = []
    for n_users in args.users:
        folder = Path(tempfile.mkdtemp(prefix="recommend-all-"))
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(n_users), str(args.items),
                 str(args.bits), str(args.k), str(args.seen), str(args.block_size),
                 str(folder / "recs.parquet")], capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(done.stderr[-3000:])
            ours = json.loads(done.stdout.strip().splitlines()[-1])
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        model = random_model(n_users, args.items, args.bits, args.seen)
        faiss_users = min(n_users, args.faiss_users or n_users)
        implicit_users = min(n_users, args.implicit_users or n_users)
        faiss_time = faiss_seconds(model, np.arange(faiss_users), args.k)
        implicit_time = implicit_seconds(model, np.arange(implicit_users), args.k, model.seen_)
        row = {"n_users": n_users, "n_items": args.items, "n_bits": args.bits, "k": args.k,
               "seen_per_user": args.seen, "block_size": args.block_size,
               "threads": numba.get_num_threads(), **ours,
               "faiss_users": faiss_users, "faiss_seconds_measured": round(faiss_time, 2),
               "faiss_seconds_scaled": round(faiss_time * n_users / faiss_users, 1),
               "implicit_users": implicit_users if implicit_time is not None else "",
               "implicit_seconds_measured": (round(implicit_time, 2)
                                             if implicit_time is not None else ""),
               "implicit_seconds_scaled": (round(implicit_time * n_users / implicit_users, 1)
                                           if implicit_time is not None else "")}
        del model
        rows.append(row)
        print(json.dumps(row), flush=True)
    if len(rows) >= 2:
        users = np.array([r["n_users"] for r in rows], dtype=float)
        seconds = np.array([r["ours_seconds"] for r in rows], dtype=float)
        slope, intercept = np.polyfit(users, seconds, 1)
        print(f"estimate for 14M users: {intercept + slope * 14e6:.0f} s "
              f"({slope * 1e6:.1f} s per million users)")
    if not args.quick:
        write_rows(RESULTS, rows, append=True, fields=FIELDS)


if __name__ == "__main__":
    main()
