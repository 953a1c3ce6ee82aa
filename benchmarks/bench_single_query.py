"""Latency of one query against a large catalogue: the stored item layout.

A server answers one user at a time, so the cost that matters there is one
query against every item. The kernel scans item codes word by word
(``n_words x n_items``); models store ``item_codes_packed_`` in that
layout. This compares, in one process and on the same codes, the model's
word-major storage, the row-major layout it replaced (transposed on every
call), and FAISS's ``IndexBinaryFlat`` (the peer), with the same top-k.

    python benchmarks/bench_single_query.py            # 1M items x 128 bits, k = 10
    python benchmarks/bench_single_query.py --quick    # 100k items, a smoke run

Writes docs/results/single-query.csv (without --quick).
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

import numpy as np

from sklearn_hashrec.ranking import hamming_topk

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results" / "single-query.csv"


def median_ms(fn, repeat):
    fn()  # compile / warm the caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--bits", type=int, default=128)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    n_items = 100_000 if args.quick else args.items
    n_words = -(-args.bits // 64)
    rng = np.random.default_rng(0)
    row_major = rng.integers(0, 2**63, size=(n_items, n_words), dtype=np.uint64, endpoint=True)
    if args.bits % 64:
        row_major[:, -1] &= np.uint64((1 << (args.bits % 64)) - 1)
    word_major = np.asfortranarray(row_major)
    queries = [rng.integers(0, 2**63, size=(1, n_words), dtype=np.uint64, endpoint=True)
               for _ in range(8)]
    if args.bits % 64:
        for q in queries:
            q[:, -1] &= np.uint64((1 << (args.bits % 64)) - 1)

    def ours(items):
        return lambda: [hamming_topk(q, items, args.k, n_bits=args.bits) for q in queries]

    rows = [("word-major (stored by the models)", median_ms(ours(word_major), args.repeat)),
            ("row-major (transposed per call)", median_ms(ours(row_major), args.repeat))]
    try:
        import faiss

        index = faiss.IndexBinaryFlat(64 * n_words)
        index.add(row_major.view(np.uint8))
        rows.append(("FAISS IndexBinaryFlat",
                     median_ms(lambda: [index.search(q.view(np.uint8), args.k) for q in queries],
                               args.repeat)))
        # Same items at the same distances (ties may be ordered differently).
        ours_dist, _ = hamming_topk(queries[0], word_major, args.k, n_bits=args.bits,
                                    return_distance=True)
        faiss_dist, _ = index.search(queries[0].view(np.uint8), args.k)
        np.testing.assert_array_equal(ours_dist[0], faiss_dist[0])
    except ImportError:
        print("faiss is not installed: no peer row")
    reference = rows[0][1]
    threads = os.environ.get("OMP_NUM_THREADS", "default")
    print(f"{n_items} items x {args.bits} bits, k={args.k}, one query at a time, "
          f"OMP_NUM_THREADS={threads}; median of {args.repeat} x {len(queries)} queries")
    for name, ms in rows:
        print(f"  {name:36s} {ms / len(queries):7.3f} ms/query  ({ms / reference:.2f}x)")
    if not args.quick:
        with open(RESULTS, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["layout", "n_items", "n_bits", "k", "omp_num_threads",
                             "ms_per_query", "ratio_to_word_major"])
            for name, ms in rows:
                writer.writerow([name, n_items, args.bits, args.k, threads,
                                 f"{ms / len(queries):.4f}", f"{ms / reference:.3f}"])
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
