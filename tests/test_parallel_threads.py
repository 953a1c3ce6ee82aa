"""Numba's parallel kernels: thread counts left as found, and safe from several threads."""

import functools
import os
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numba
import numpy as np
import pytest
import scipy.sparse as sp

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


def _fitted_models():
    from sklearn_hashrec import GraphFilter, GraphHash

    rng = np.random.default_rng(1)
    X = sp.csr_matrix((rng.random((400, 300)) < 0.05).astype(np.float32))
    return X, [GraphHash(n_bits=64, max_epochs=1, random_state=0).fit(X),
               GraphFilter(n_components=8, random_state=0).fit(X)]


def test_concurrent_recommend_gives_the_serial_answers():
    # A threaded server calls one model from many threads at once.
    X, models = _fitted_models()
    requests = [np.arange(start, start + 50) for start in range(0, 350, 25)]
    for model in models:
        rank = functools.partial(model.recommend, k=20, return_distance=True)
        fold_in = functools.partial(model.recommend_from_history, X[:40], k=20)
        serial = [rank(users) for users in requests]
        history = fold_in()
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(3):
                answers = list(pool.map(rank, requests))
                for (dist, items), (want_dist, want_items) in zip(answers, serial, strict=True):
                    np.testing.assert_array_equal(items, want_items)
                    np.testing.assert_array_equal(dist, want_dist)
                for items in pool.map(lambda _, call=fold_in: call(), range(8)):
                    np.testing.assert_array_equal(items, history)


def test_a_kernel_in_one_thread_does_not_block_another():
    # recommend used to hold a process-wide lock for its whole kernel: a
    # threaded server answered one request at a time. Thread A stays inside
    # the kernel context while thread B ranks; B must finish meanwhile.
    from sklearn_hashrec import _parallel

    X, (model, _) = _fitted_models()
    model.recommend([0], k=5)  # the threading layer is known after a first kernel
    if numba.threading_layer() == "workqueue":
        pytest.skip("numba's workqueue layer cannot run two kernels at once; it queues them")
    inside, release = threading.Event(), threading.Event()

    def hold():
        with _parallel.kernel_threads():
            inside.set()
            release.wait()  # set below, whatever the outcome

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(60)
    answers = []
    ranker = threading.Thread(target=lambda: answers.append(model.recommend(np.arange(50), k=5)))
    ranker.start()
    ranker.join(timeout=30)
    finished = not ranker.is_alive()
    release.set()
    holder.join()
    ranker.join()
    assert finished, "recommend waited for another thread's kernel"
    np.testing.assert_array_equal(answers[0], model.recommend(np.arange(50), k=5))
