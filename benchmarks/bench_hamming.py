"""Hamming top-k engine against its peers, in one process.

Peers: FAISS ``IndexBinaryFlat`` (heap and counting selection) and a float32
matmul + ``torch.topk`` (the float baseline, as implicit does). The raw limit
is a pure XOR + popcount pass over the same data. Every case checks that our
distances equal FAISS's. Our engine's peak memory is measured in a child
process that runs it alone.

    python benchmarks/bench_hamming.py            # the three cases of docs/performance.md
    python benchmarks/bench_hamming.py --quick    # small sizes, a smoke run

Without --quick it writes docs/results/hamming-engine.csv (times in ms, peak in MB).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from results_csv import write_rows

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results" / "hamming-engine.csv"
CASES = [
    ("MovieLens-1M scale", 6_040, 3_706, 64, 10),
    ("large catalogue", 10_000, 1_000_000, 64, 100),
    ("long codes", 1_000, 1_000_000, 256, 100),
]
QUICK = [
    ("MovieLens-1M scale", 6_040, 3_706, 64, 10),
    ("quick large", 500, 200_000, 64, 100),
]


def random_codes(rng, n, bits, chunk=65_536):
    """Uniform -1/+1 codes, drawn in chunks so the draw never outweighs the codes."""
    out = np.empty((n, bits), dtype=np.int8)
    for start in range(0, n, chunk):
        block = rng.random((min(chunk, n - start), bits), dtype=np.float32)
        out[start:start + chunk] = np.where(block < 0.5, 1, -1)
    return out


def best_of(fn, repeat):
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def engine_only(n_users, n_items, bits, k):
    """Child process: our engine alone, for its peak RSS."""
    from sklearn_hashrec.ranking import hamming_topk, pack_codes

    rng = np.random.default_rng(0)
    queries = pack_codes(random_codes(rng, n_users, bits))
    items = pack_codes(random_codes(rng, n_items, bits))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    hamming_topk(queries, items, k, n_bits=bits)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{peak / 1024:.0f} {before / 1024:.0f}")


def run_case(name, n_users, n_items, bits, k, repeat):
    import faiss
    import torch

    from sklearn_hashrec._hamming_kernels import xor_popcount_pass
    from sklearn_hashrec.ranking import hamming_topk, pack_codes

    rng = np.random.default_rng(0)
    user_codes = random_codes(rng, n_users, bits)
    item_codes = random_codes(rng, n_items, bits)
    queries, items = pack_codes(user_codes), pack_codes(item_codes)
    row = {}

    hamming_topk(queries[:8], items[:1000], 5, n_bits=bits)  # compile outside timing
    row["ours"], (ours_dist, _) = best_of(
        lambda: hamming_topk(queries, items, k, n_bits=bits, return_distance=True), repeat)
    items_t = np.ascontiguousarray(items.T)
    xor_popcount_pass(queries[:2], items_t[:, :100].copy())
    row["xor+popcount pass"], _ = best_of(lambda: xor_popcount_pass(queries, items_t), repeat)

    index = faiss.IndexBinaryFlat(64 * queries.shape[1])
    index.add(items.view(np.uint8))
    for use_heap in (True, False):
        index.use_heap = use_heap
        seconds, (faiss_dist, _) = best_of(lambda: index.search(queries.view(np.uint8), k),
                                           repeat)
        row[f"FAISS {'heap' if use_heap else 'counting'}"] = seconds
        if not np.array_equal(ours_dist, faiss_dist):
            raise AssertionError(f"{name}: distances differ from FAISS (use_heap={use_heap})")

    users_t = torch.from_numpy(user_codes.astype(np.float32))
    items_t = torch.from_numpy(item_codes.astype(np.float32))
    batch = max(1, 2**28 // (4 * n_items))  # 256 MB of scores at a time

    def float_topk():
        for start in range(0, n_users, batch):
            torch.topk(users_t[start:start + batch] @ items_t.T, k, dim=1)

    row["float32 matmul + topk"], _ = best_of(float_topk, repeat)

    child = subprocess.run([sys.executable, __file__, "--engine-only", str(n_users),
                            str(n_items), str(bits), str(k)],
                           capture_output=True, text=True, check=True)
    peak_mb, base_mb = map(float, child.stdout.split())
    pairs = n_users * n_items * queries.shape[1]
    return row, pairs, peak_mb, base_mb


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--repeat", type=int, default=2, help="best of this many runs")
    parser.add_argument("--cases", type=int, nargs="+", help="indices of the cases to run")
    parser.add_argument("--engine-only", nargs=4, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_only:
        engine_only(*args.engine_only)
        return
    import numba

    print(f"numba threads: {numba.get_num_threads()}")
    peers = ["FAISS heap", "FAISS counting", "float32 matmul + topk"]
    print("| case | users x items x bits, k | ours | " + " | ".join(peers)
          + " | ours / peer | XOR+popcount pass | share of the pass limit | peak RSS |")
    print("|---" * 10 + "|")
    cases = QUICK if args.quick else CASES
    records = []
    for name, n_users, n_items, bits, k in [cases[i] for i in (args.cases or range(len(cases)))]:
        row, pairs, peak_mb, base_mb = run_case(name, n_users, n_items, bits, k, args.repeat)
        ratios = ", ".join(f"{row['ours'] / row[p]:.2f}" for p in peers)
        limit = pairs / row["xor+popcount pass"] / 1e9
        print(f"| {name} | {n_users:,} x {n_items:,} x {bits}, k={k} | "
              f"{row['ours'] * 1e3:.0f} ms | "
              + " | ".join(f"{row[p] * 1e3:.0f} ms" for p in peers)
              + f" | {ratios} | {row['xor+popcount pass'] * 1e3:.0f} ms "
              f"({limit:.1f} G words/s) | {row['xor+popcount pass'] / row['ours']:.0%} | "
              f"{peak_mb:.0f} MB (inputs {base_mb:.0f} MB) |", flush=True)
        records.append({"case": name, "n_users": n_users, "n_items": n_items, "n_bits": bits,
                        "k": k, "repeat": args.repeat, "numba_threads": numba.get_num_threads(),
                        **{f"{key}_ms": round(value * 1e3, 1) for key, value in row.items()},
                        "peak_rss_mb": round(peak_mb), "inputs_rss_mb": round(base_mb)})
    if not args.quick and not args.cases:
        write_rows(RESULTS, records)


if __name__ == "__main__":
    main()
