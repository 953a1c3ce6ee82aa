"""Shared fixtures (pytest injects them; no test module imports this file).

Tests that need a real dataset read the data home (``$SKLEARN_HASHREC_DATA``,
else ``../shared/data`` beside the repository). They skip with a reason when
the files are missing, unless ``HASHREC_REQUIRE_DATA=1`` (set by ``.ci/run``),
where a missing file is a failure.
"""

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_hashrec import (
    AECF,
    CCSR,
    DJSRH,
    EASE,
    BinaryMF,
    CFCodeReg,
    GraphFilter,
    GraphHash,
    PopularityRecommender,
    RandomRecommender,
    RerankRecommender,
)
from sklearn_hashrec.datasets import DATA_HOME_ENV, DatasetNotFoundError, load_movielens

REPO = Path(__file__).resolve().parents[1]

# The one table of small, quick settings: a few epochs on a tiny network, for
# tests of behaviour (API, validation, persistence), not of quality.
QUICK = {
    "CCSR": lambda **kw: CCSR(**{"n_bits": 8, "hidden_layer_sizes": (16,), "max_epochs": 2,
                                 "batch_size": 32, "random_state": 0, **kw}),
    "AECF": lambda **kw: AECF(**{"n_bits": 8, "hidden_layer_sizes": (16, 8), "max_epochs": 2,
                                 "batch_size": 32, "random_state": 0, **kw}),
    "DJSRH": lambda **kw: DJSRH(**{"n_bits": 8, "hidden_layer_sizes": (16,), "max_epochs": 2,
                                   "batch_size": 32, "random_state": 0, **kw}),
    "BinaryMF": lambda **kw: BinaryMF(**{"n_bits": 8, "max_epochs": 2, "batch_size": 32,
                                         "random_state": 0, **kw}),
    "CFCodeReg": lambda **kw: CFCodeReg(**{"n_bits": 8, "max_epochs": 2, "batch_size": 32,
                                           "random_state": 0, **kw}),
    "Random": lambda **kw: RandomRecommender(**{"random_state": 0, **kw}),
    "Popularity": lambda **kw: PopularityRecommender(**kw),
    "EASE": lambda **kw: EASE(**{"l2_reg": 10.0, **kw}),
    "GraphFilter": lambda **kw: GraphFilter(**{"n_components": 4, "random_state": 0, **kw}),
    "GraphHash": lambda **kw: GraphHash(**{"n_bits": 8, "max_epochs": 2, "batch_size": 32,
                                           "random_state": 0, **kw}),
    # Candidates cover the small test catalogues (30-80 items): the API tests compare
    # against one full ranking; tests/test_models_rerank.py tests real shortlists.
    "Rerank": lambda **kw: RerankRecommender(**{
        "candidates": QUICK["CCSR"](), "reranker": EASE(l2_reg=10.0), "n_candidates": 100,
        **kw}),
}
# Settings under which each learned model recovers planted groups (tests of quality).
LEARNING = {
    "CCSR": dict(hidden_layer_sizes=(32,), learning_rate=1e-2, max_epochs=30),
    "AECF": dict(hidden_layer_sizes=(64, 32), dropout=0.0, learning_rate=3e-3, max_epochs=30,
                 unobserved_weight=0.1),
    "DJSRH": dict(hidden_layer_sizes=(64,), learning_rate=1e-2, max_epochs=30),
    "BinaryMF": dict(learning_rate=5e-2, max_epochs=60, unobserved_weight=0.1),
    "CFCodeReg": dict(learning_rate=5e-2, max_epochs=60, unobserved_weight=0.1, l2_reg=0.01),
}


# Named here so that each is listed once: a test taking ``model_name`` runs for every
# estimator of the package, one taking ``trained_name`` for every model trained with torch
# that has the paper's ``binarize`` variants, one taking ``torch_model_name`` for all of them.
TRAINED = ["AECF", "BinaryMF", "CCSR", "CFCodeReg", "DJSRH"]
# Every model on the shared training loop, GraphHash included (it has no
# ``binarize``: its codes are trained through the sign from the first step).
TORCH_MODELS = [*TRAINED, "GraphHash"]


def pytest_generate_tests(metafunc):
    if "model_name" in metafunc.fixturenames:
        metafunc.parametrize("model_name", sorted(QUICK))
    if "trained_name" in metafunc.fixturenames:
        metafunc.parametrize("trained_name", TRAINED)
    if "torch_model_name" in metafunc.fixturenames:
        metafunc.parametrize("torch_model_name", TORCH_MODELS)


@pytest.fixture(scope="session")
def quick_model():
    """``quick_model(name, **overrides)``: a small, fast, seeded estimator."""
    return lambda name, **overrides: QUICK[name](**overrides)


@pytest.fixture(scope="session")
def learning_model():
    """``learning_model(name, **overrides)``: settings that learn the planted groups."""
    def make(name, **overrides):
        return QUICK[name](**{"n_bits": 16, "batch_size": 64, **LEARNING[name], **overrides})
    return make


@pytest.fixture(scope="session")
def data_home() -> Path:
    return Path(os.environ.get(DATA_HOME_ENV) or REPO.parent / "shared" / "data")


@pytest.fixture(scope="session")
def dataset_or_skip(data_home):
    """``dataset_or_skip(variant)``: a MovieLens bunch, or a skip (a failure in CI)."""
    def load(variant):
        try:
            return load_movielens(variant, data_home=data_home)
        except DatasetNotFoundError as exc:
            if os.environ.get("HASHREC_REQUIRE_DATA") == "1":
                raise
            pytest.skip(f"dataset not in the data home: {exc}")
    return load


@pytest.fixture(scope="session")
def movielens_1m(dataset_or_skip):
    return dataset_or_skip("1m")


@pytest.fixture(scope="session")
def movielens_100k(dataset_or_skip):
    return dataset_or_skip("100k")


def _planted(n_users=120, n_items=80, n_groups=4, density=0.5, noise=0.02, seed=0):
    rng = np.random.default_rng(seed)
    user_group = rng.integers(n_groups, size=n_users)
    item_group = rng.integers(n_groups, size=n_items)
    same = user_group[:, None] == item_group[None, :]
    mask = np.where(same, rng.random((n_users, n_items)) < density,
                    rng.random((n_users, n_items)) < noise)
    ratings = rng.integers(1, 6, size=(n_users, n_items)).astype(np.float64)
    ratings[same & mask] = rng.integers(4, 6, size=(same & mask).sum())
    return sp.csr_matrix(np.where(mask, ratings, 0.0)), user_group, item_group


@pytest.fixture(scope="session")
def make_planted():
    """``make_planted(n_users=120, n_items=80, ...) -> (X, user_group, item_group)``.

    Users and items in groups; a user interacts mostly with items of its own
    group, and rates them 4-5.
    """
    return _planted


@pytest.fixture
def planted():
    return _planted()


@pytest.fixture(scope="session")
def small_X():
    """A 50 x 30 planted ratings matrix (CSR, float64)."""
    return _planted(n_users=50, n_items=30)[0]


def _popularity_ndcg(train, test, k, relevance_threshold):
    """NDCG@k of the popularity ranking, computed apart from the package.

    Popularity ranks items by training count, ties by item index, training items
    left out; sklearn's ``ndcg_score`` scores it (users without a relevant
    held-out item are left out, as the package's metrics do).
    """
    from sklearn.metrics import ndcg_score

    train, test = sp.csr_matrix(train), sp.csr_matrix(test)
    n_items = train.shape[1]
    counts = np.asarray((train != 0).sum(axis=0)).ravel()
    scores = np.tile(counts * float(n_items) + (n_items - np.arange(n_items)),
                     (train.shape[0], 1))
    scores[train.toarray() != 0] = -1.0
    truth = (test.toarray() > relevance_threshold).astype(float)
    keep = truth.sum(axis=1) > 0
    return ndcg_score(truth[keep], scores[keep], k=k)


@pytest.fixture(scope="session")
def popularity_ndcg():
    """``popularity_ndcg(train, test, k, relevance_threshold)``, independent of the package."""
    return _popularity_ndcg
