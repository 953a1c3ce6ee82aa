"""Speed of asymmetric scoring (float queries vs packed items) against the symmetric codes.

Same process, same random data: every user's top-k by packed Hamming codes,
by float features against the same packed items (``query="features"``: a
table of partial sums per byte, items stay at ``n_bits / 8`` bytes), and by
the same features against the items unpacked to float32 (a matmul, items at
``4 * n_bits`` bytes). Best of ``--repeat``.

    python benchmarks/bench_asymmetric_speed.py      # writes docs/results/asymmetric-speed.csv
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from results_csv import write_rows

from sklearn_hashrec.ranking import hamming_topk, pack_codes

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results" / "asymmetric-speed.csv"
# (name, users, items, bits, k, seen items per user)
CASES = [("MovieLens-1M scale", 6_040, 3_706, 64, 10, 130),
         ("Gowalla scale", 29_858, 40_981, 64, 20, 27)]


def best_of(repeat, fn, *args, **kwargs):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for name, n_users, n_items, bits, k, seen_per_user in CASES:
        rng = np.random.default_rng(0)
        features = rng.standard_normal((n_users, bits)).astype(np.float32)
        items = np.where(rng.random((n_items, bits)) < 0.5, 1, -1).astype(np.int8)
        seen = sp.random(n_users, n_items, density=seen_per_user / n_items, format="csr",
                         random_state=0)
        user_words = pack_codes(np.where(features >= 0, 1, -1))
        item_words = np.asfortranarray(pack_codes(items))
        item_floats = items.astype(np.float32)
        for query in (user_words[:4], features[:4]):  # compile outside timing
            hamming_topk(query, item_words, k, exclude=seen[:4], n_bits=bits)
        timings = {
            "codes_packed": best_of(args.repeat, hamming_topk, user_words, item_words, k,
                                    exclude=seen, n_bits=bits),
            "features_packed": best_of(args.repeat, hamming_topk, features, item_words, k,
                                       exclude=seen, n_bits=bits),
            "features_float_items": best_of(args.repeat, hamming_topk, features, item_floats,
                                            k, exclude=seen),
        }
        same = float(np.mean((timings["features_packed"][1]
                              == timings["features_float_items"][1]).all(axis=1)))
        row = {"case": name, "n_users": n_users, "n_items": n_items, "n_bits": bits, "k": k,
               **{f"{key}_seconds": round(value[0], 3) for key, value in timings.items()},
               "item_bytes_packed": item_words.nbytes, "item_bytes_float": item_floats.nbytes,
               "same_topk_share": round(same, 4)}
        rows.append(row)
        print(row, flush=True)
    write_rows(RESULTS, rows)


if __name__ == "__main__":
    main()
