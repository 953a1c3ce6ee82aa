"""Shared fixtures.

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

from sklearn_hashrec.datasets import DATA_HOME_ENV, DatasetNotFoundError, load_movielens

REPO = Path(__file__).resolve().parents[1]


def data_home() -> Path:
    return Path(os.environ.get(DATA_HOME_ENV) or REPO.parent / "shared" / "data")


def load_or_skip(variant: str):
    try:
        return load_movielens(variant, data_home=data_home())
    except DatasetNotFoundError as exc:
        if os.environ.get("HASHREC_REQUIRE_DATA") == "1":
            raise
        pytest.skip(f"dataset not in the data home: {exc}")


@pytest.fixture(scope="session")
def movielens_1m():
    return load_or_skip("1m")


@pytest.fixture(scope="session")
def movielens_100k():
    return load_or_skip("100k")


def planted_interactions(n_users=120, n_items=80, n_groups=4, density=0.5, noise=0.02, seed=0):
    """Users and items in groups; a user interacts mostly with items of the same group."""
    rng = np.random.default_rng(seed)
    user_group = rng.integers(n_groups, size=n_users)
    item_group = rng.integers(n_groups, size=n_items)
    same = user_group[:, None] == item_group[None, :]
    mask = np.where(same, rng.random((n_users, n_items)) < density,
                    rng.random((n_users, n_items)) < noise)
    ratings = rng.integers(1, 6, size=(n_users, n_items)).astype(np.float64)
    ratings[same & mask] = rng.integers(4, 6, size=(same & mask).sum())
    return sp.csr_matrix(np.where(mask, ratings, 0.0)), user_group, item_group


@pytest.fixture
def planted():
    return planted_interactions()
