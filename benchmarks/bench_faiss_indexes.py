"""FAISS binary indexes beyond brute force, against the package's exact engine.

A catalogue of ``--items`` codes (default 10M, 64 bits: 80 MB) is simulated
from a real model: a ``CCSR(n_bits=64)`` fitted on MovieLens-1M gives 3,706
item codes, and each simulated item is one of them with each bit flipped
with probability ``--flip`` (so the catalogue has the clustered structure of
real codes, not uniform noise). The queries are the model's real user codes.
For each index: build time, queries per second, and recall@k against the
exact engine (``ranking.hamming_topk``), counted tie-aware: a returned item
counts when its distance is at most the exact k-th distance, since items at
equal distance are interchangeable. Speeds are ratios against the exact
engine run in the same process.

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/bench_faiss_indexes.py \\
        --out docs/results/faiss-indexes.csv
    python benchmarks/bench_faiss_indexes.py --items 200000 --queries 200   # smoke run
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sklearn_hashrec import CCSR
from sklearn_hashrec.datasets import load_movielens
from sklearn_hashrec.experiments import write_runs
from sklearn_hashrec.ranking import hamming_topk, pack_codes
from sklearn_hashrec.serving import faiss_binary_index


def simulated_catalogue(base: np.ndarray, n_items: int, flip: float, seed: int,
                        chunk: int = 1_000_000) -> np.ndarray:
    """``n_items`` packed codes, each a random base code with bits flipped at rate ``flip``."""
    rng = np.random.default_rng(seed)
    words = pack_codes(base)
    out = np.empty((n_items, words.shape[1]), dtype=np.uint64)
    n_bits = base.shape[1]
    for start in range(0, n_items, chunk):
        size = min(chunk, n_items - start)
        flips = pack_codes(np.where(rng.random((size, n_bits), dtype=np.float32) < flip, 1, -1))
        out[start:start + size] = words[rng.integers(0, len(words), size)] ^ flips
    return out


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--flip", type=float, default=0.05)
    parser.add_argument("--out")
    args = parser.parse_args(argv)

    data = load_movielens("1m")
    model = CCSR(n_bits=64, random_state=0).fit(data.data)
    items = simulated_catalogue(model.item_codes_, args.items, args.flip, seed=0)
    queries = pack_codes(model.user_codes_[:args.queries])
    n_bits, k = 64, args.k
    print(f"{args.items:,} items x {n_bits} bits ({items.nbytes / 1e6:.0f} MB), "
          f"{len(queries)} queries, k={k}")

    hamming_topk(queries[:10], items[:100_000], k, n_bits=n_bits)  # compile the kernels first
    exact_seconds, (exact_distances, _) = timed(hamming_topk, queries, items, k, n_bits=n_bits,
                                                return_distance=True)
    kth = exact_distances[:, -1:]
    rows = [{"index": "exact engine (hamming_topk)", "options": "", "build_s": 0.0,
             "search_s": exact_seconds, "recall": 1.0}]
    configs = [("flat", {})]
    configs += [("ivf", {"n_probe": p}) for p in (1, 4, 16, 64)]
    configs += [("multihash", {"n_hash": h, "n_flip": f}) for h, f in ((4, 0), (4, 1), (4, 2))]
    built = {}
    for kind, options in configs:
        build_key = (kind, options.get("n_hash"))
        if build_key not in built:
            build_options = {key: value for key, value in options.items() if key != "n_probe"
                             and key != "n_flip"}
            build_seconds, index = timed(faiss_binary_index, items, n_bits, kind,
                                         **build_options)
            built[build_key] = (build_seconds, index)
        build_seconds, index = built[build_key]
        if "n_probe" in options:
            index.nprobe = options["n_probe"]
        if "n_flip" in options:
            index.nflip = options["n_flip"]
        index.search(queries[:10].view(np.uint8), k)  # warm-up
        search_seconds, (distances, ids) = timed(index.search, queries.view(np.uint8), k)
        recall = float(((distances <= kth) & (ids >= 0)).mean())
        label = ", ".join(f"{key}={value}" for key, value in options.items())
        rows.append({"index": kind, "options": label, "build_s": build_seconds,
                     "search_s": search_seconds, "recall": recall})
        print(f"{kind:10s} {label:22s} build {build_seconds:7.1f}s  search "
              f"{search_seconds:7.3f}s  recall@{k} {recall:.4f}", flush=True)
    for row in rows:
        row["speed_vs_exact"] = exact_seconds / row["search_s"]
        row.update(items=args.items, queries=len(queries), k=k, n_bits=n_bits, flip=args.flip)
    print(f"exact engine: {exact_seconds:.3f}s for {len(queries)} queries")
    if args.out:
        write_runs(args.out, [{key: f"{value:.4g}" if isinstance(value, float) else value
                               for key, value in row.items()} for row in rows])


if __name__ == "__main__":
    main()
