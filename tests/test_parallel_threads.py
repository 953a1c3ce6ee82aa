"""Numba's parallel kernels leave the process's torch and numba thread counts as they were."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import numpy as np

from sklearn_hashrec.ranking import hamming_distances, hamming_topk

REPO = Path(__file__).resolve().parents[1]


def test_first_ranking_call_keeps_torch_threads():
    # Numba's OpenMP layer shares torch's OpenMP runtime, and starting it
    # (the first parallel kernel of a process) set the runtime's thread count
    # to numba's: one evaluation turned torch.set_num_threads(1) into all
    # cores. Only a fresh process has not started it yet.
    script = textwrap.dedent("""
        import numpy as np, scipy.sparse as sp, torch
        torch.set_num_threads(1)
        from sklearn_hashrec import EASE, BinaryMF, RerankRecommender
        X = sp.random(60, 40, density=0.2, random_state=0, format="csr")
        model = RerankRecommender(BinaryMF(n_bits=8, max_epochs=2, random_state=0), EASE(),
                                  n_candidates=10).fit(X)
        model.recommend(np.arange(60), k=5)
        print(torch.get_num_threads())
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("OMP_NUM_THREADS", None)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=300, check=True)
    assert result.stdout.split()[-1] == "1"


def test_kernels_leave_numba_threads_and_rank_like_brute_force():
    rng = np.random.default_rng(0)
    users = np.where(rng.random((300, 64)) < 0.5, -1, 1).astype(np.int8)
    items = np.where(rng.random((2000, 64)) < 0.5, -1, 1).astype(np.int8)
    numba_before = numba.get_num_threads()
    expected = (users[:, None, :] != items[None, :, :]).sum(axis=2)
    np.testing.assert_array_equal(hamming_distances(users, items), expected)
    order = np.argsort(expected, axis=1, kind="stable")
    np.testing.assert_array_equal(hamming_topk(users, items, k=5), order[:, :5])
    assert numba.get_num_threads() == numba_before
