"""Searches on a Dask cluster: the same best parameters and scores as in one process."""

import pickle

import numpy as np
import pytest
import torch
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from sklearn_hashrec import CCSR, BinaryMF
from sklearn_hashrec.metrics import make_ndcg_scorer

# Clusters of worker processes: out of a user's default run, in CI's.
pytestmark = pytest.mark.integration

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    # Worker processes, not threads: estimators, scorers and fitted models
    # must cross a pickle boundary. The nanny starts each worker with
    # OMP_NUM_THREADS=1, so torch uses one thread there.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.fixture(scope="module")
def interactions():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 3, 150)
    liked = rng.random((150, 60)) < np.where(groups[:, None] == np.arange(60) % 3, 0.4, 0.03)
    return liked.astype(np.float32)


def _one_thread_search(search, X):
    """The reference: the same search in this process, on one torch thread as the workers."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return search.set_params(n_jobs=1).fit(X)
    finally:
        torch.set_num_threads(threads)


def _searches():
    scorer = make_ndcg_scorer(10)
    yield GridSearchCV(
        CCSR(n_bits=8, hidden_layer_sizes=(16,), max_epochs=3, batch_size=32, random_state=0),
        {"n_bits": [8, 16], "lambda_ae": [1.0, 20.0]}, scoring=scorer, cv=3)
    yield RandomizedSearchCV(
        BinaryMF(n_bits=8, max_epochs=5, batch_size=32, random_state=0),
        {"learning_rate": [1e-3, 1e-2, 5e-2], "unobserved_weight": [0.01, 0.1, 1.0]},
        n_iter=4, scoring=scorer, cv=3, random_state=0)


@pytest.mark.parametrize("search", list(_searches()), ids=["grid-CCSR", "randomized-BinaryMF"])
def test_a_search_on_dask_equals_the_one_process_search(search, client, interactions):
    from distributed import get_task_stream

    reference = _one_thread_search(pickle.loads(pickle.dumps(search)), interactions)
    with get_task_stream(client) as tasks, parallel_backend("dask"):
        on_dask = search.set_params(n_jobs=-1).fit(interactions)
    # The fits ran in the cluster's worker processes (Dask may give quick
    # tasks all to one of them, so which ones is not asserted).
    workers = {task["worker"] for task in tasks.data}
    assert workers and workers <= set(client.scheduler_info()["workers"])

    assert on_dask.best_params_ == reference.best_params_
    assert on_dask.best_score_ == reference.best_score_
    np.testing.assert_array_equal(on_dask.cv_results_["mean_test_score"],
                                  reference.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(on_dask.best_estimator_.item_codes_,
                                  reference.best_estimator_.item_codes_)
    # The refitted best model came back from a worker and works here.
    assert on_dask.best_estimator_.recommend([0, 1], k=5).shape == (2, 5)


def test_fitting_leaves_the_global_random_state_alone(interactions):
    # Workers run many fits in one process: a fit must not move the global
    # generators that the next fit (or the user's code) draws from.
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    CCSR(n_bits=8, hidden_layer_sizes=(16,), max_epochs=2, dropout=0.3,
         random_state=0).fit(interactions)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert after[0] == numpy_state[0]
    np.testing.assert_array_equal(after[1], numpy_state[1])
    assert after[2:] == numpy_state[2:]


def test_a_search_on_ray_equals_the_one_process_search(interactions):
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    search = next(_searches())
    reference = _one_thread_search(pickle.loads(pickle.dumps(search)), interactions)
    register_ray()
    # Ray's workers are processes too; one torch thread each, as the reference.
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
    try:
        with parallel_backend("ray"):
            on_ray = search.set_params(n_jobs=-1).fit(interactions)
    finally:
        ray.shutdown()
    assert on_ray.best_params_ == reference.best_params_
    np.testing.assert_array_equal(on_ray.cv_results_["mean_test_score"],
                                  reference.cv_results_["mean_test_score"])
