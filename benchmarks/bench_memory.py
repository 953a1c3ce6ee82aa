"""Peak memory of one CCSR epoch on a large sparse matrix (never densified whole).

Synthetic 200,000 users x 100,000 items with 20M interactions (the reliability
issue's case). Prints the peak RSS of the process and the size a dense float32
copy of the matrix would take.

    python benchmarks/bench_memory.py                 # the full case, 1 epoch
    python benchmarks/bench_memory.py --users 20000 --items 10000 --nnz 2000000

Measured on 2 CPU cores shared with another job: a 1,620 s epoch and a
3.44 GB peak (docs/reliability.md). ``--device cuda`` runs it on a GPU.
"""

import argparse
import resource
import time

import numpy as np
import scipy.sparse as sp

from sklearn_hashrec import CCSR


def synthetic_interactions(n_users, n_items, nnz, seed):
    """Uniformly random 0/1 CSR matrix with about ``nnz`` entries, built row-wise.

    Built directly in CSR (no COO triplets), so that making the data does not
    set the process's peak memory.
    """
    rng = np.random.default_rng(seed)
    per_row = rng.multinomial(nnz, np.full(n_users, 1.0 / n_users))
    indptr = np.concatenate([[0], np.cumsum(per_row)]).astype(np.int64)
    indices = rng.integers(0, n_items, indptr[-1], dtype=np.int32)
    X = sp.csr_matrix((np.ones(indptr[-1], dtype=np.float32), indices, indptr),
                      shape=(n_users, n_items))
    X.sum_duplicates()  # repeated (user, item) draws merge; keep them as 1
    X.data[:] = 1
    return X


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--nnz", type=int, default=20_000_000)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    X = synthetic_interactions(args.users, args.items, args.nnz, seed=0)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    start = time.perf_counter()
    CCSR(n_bits=64, max_epochs=1, random_state=0, device=args.device, verbose=1).fit(X)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"{args.users:,} x {args.items:,}, {X.nnz:,} interactions: one epoch in "
          f"{time.perf_counter() - start:.0f}s; peak RSS {peak:.2f} GB (before fit "
          f"{base:.2f} GB); a dense float32 copy would be "
          f"{args.users * args.items * 4 / 2**30:.1f} GB")


if __name__ == "__main__":
    main()
