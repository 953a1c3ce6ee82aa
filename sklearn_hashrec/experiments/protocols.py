"""Evaluation protocols: how a dataset is split, what is relevant, what is ranked.

A :class:`Protocol` is a scenario object: it splits an interaction matrix into
training and held-out parts and scores a fitted recommender on them. The
command line, the benchmarks and the tests all score through
:meth:`Protocol.evaluate`, so the protocol is written once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from .. import datasets
from ..metrics import evaluate
from ..model_selection import train_test_split_interactions

__all__ = ["DATASETS", "Protocol", "load_dataset"]


@dataclass(frozen=True)
class Protocol:
    """A split-and-score protocol.

    Parameters
    ----------
    per_user : bool, default=True
        Hold out ``test_size`` of each user's interactions (the paper's
        MovieLens protocol), or of all interactions at once.
    test_size : float, default=0.2
        Held-out fraction.
    relevance_threshold : float, default=0.0
        A held-out entry is relevant when its value is greater than this
        (3 on 1-5 ratings, 0 on implicit data).
    candidates : {"all", "test"}, default="all"
        ``"all"``: rank every item the user did not have in training.
        ``"test"``: rank only the user's held-out items, with graded gain for
        NDCG (the NeuHash-CF protocol).
    ndcg_at : tuple of int, default=(2, 6, 10)
        Cut-offs of NDCG.
    recall_at : tuple of int, default=(6, 10)
        Cut-offs of Recall.
    tie_aware : bool, default=True
        Also report tie-aware NDCG and Recall at the largest cut-offs for
        binary codes (with ``candidates="all"``).
    fixed_split : tuple of (train, test) matrices or None, default=None
        A published split (Gowalla's): :meth:`split` returns it whatever the
        seed, and the other split fields are ignored.
    fixed_validation : tuple of (fit, valid) matrices or None, default=None
        A published validation split of the training part (Gowalla's
        ``train`` and ``valid``): :meth:`validation_split` returns it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec import PopularityRecommender
    >>> from sklearn_hashrec.experiments import Protocol
    >>> X = (np.random.default_rng(0).random((50, 20)) < 0.3).astype(float)
    >>> protocol = Protocol(ndcg_at=(5,), recall_at=(5,))
    >>> train, test = protocol.split(X, seed=0)
    >>> sorted(protocol.evaluate(PopularityRecommender().fit(train), train, test))
    ['NDCG@5', 'Recall@5']
    """

    per_user: bool = True
    test_size: float = 0.2
    relevance_threshold: float = 0.0
    candidates: str = "all"
    ndcg_at: tuple = (2, 6, 10)
    recall_at: tuple = (6, 10)
    tie_aware: bool = True
    fixed_split: tuple | None = field(default=None, compare=False, repr=False)
    fixed_validation: tuple | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self.candidates not in ("all", "test"):
            raise ValueError(f"candidates must be 'all' or 'test', got {self.candidates!r}.")

    def with_options(self, **changes) -> Protocol:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def split(self, X, seed) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """``(train, test)``: train as float32 CSR, test as float64 CSR."""
        if self.fixed_split is not None:
            train, test = self.fixed_split
            return sp.csr_matrix(train, dtype=np.float32), sp.csr_matrix(test, dtype=np.float64)
        train, test = train_test_split_interactions(X, self.test_size, per_user=self.per_user,
                                                    random_state=seed)
        return train.astype(np.float32), test

    def validation_split(self, train, seed) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """``(fit, valid)`` carved from a training part, to choose parameters on.

        The test part that tables report is never used to choose: defaults and
        techniques are compared on ``valid`` after fitting on ``fit``. With a
        published validation split (``fixed_validation``) that split is
        returned; otherwise ``train`` is split by the protocol's own rule
        (per user or global, ``test_size``), with ``seed``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_hashrec.experiments import Protocol
        >>> X = (np.random.default_rng(0).random((50, 20)) < 0.3).astype(float)
        >>> protocol = Protocol()
        >>> train, test = protocol.split(X, seed=0)
        >>> fit, valid = protocol.validation_split(train, seed=0)
        >>> bool((fit + valid != train).nnz == 0 and fit.multiply(test).nnz == 0)
        True
        """
        if self.fixed_validation is not None:
            fit, valid = self.fixed_validation
            return sp.csr_matrix(fit, dtype=np.float32), sp.csr_matrix(valid, dtype=np.float64)
        return self.with_options(fixed_split=None).split(train, seed)

    def evaluate(self, model, train, test) -> dict[str, float]:
        """The protocol's metrics for a model fitted on ``train`` (its users are the rows).

        Through :func:`sklearn_hashrec.metrics.evaluate` with ``users="fitted"``:
        each user is ranked from what the model stored for it.
        """
        return evaluate(model, train, test, ndcg_at=self.ndcg_at, recall_at=self.recall_at,
                        users="fitted", relevance_threshold=self.relevance_threshold,
                        candidates=self.candidates,
                        gain="graded" if self.candidates == "test" else "binary",
                        tie_aware=self.tie_aware)

    def fit_and_evaluate(self, estimator, train, test) -> dict[str, float]:
        """Fit ``estimator`` on ``train``, then :meth:`evaluate`; adds ``fit_seconds``."""
        start = time.perf_counter()
        estimator.fit(train)
        seconds = time.perf_counter() - start
        return {**self.evaluate(estimator, train, test), "fit_seconds": seconds}


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset of the data home and the protocol the paper uses on it."""

    loader: object
    protocol: Protocol


# The paper splits MovieLens per user and the sparse sets globally; relevance is
# rating > 3 on explicit data and any interaction on implicit data.
DATASETS: dict[str, DatasetSpec] = {
    "ml-1m": DatasetSpec(lambda home: datasets.load_movielens("1m", data_home=home),
                         Protocol(per_user=True, relevance_threshold=3.0)),
    "ml-100k": DatasetSpec(lambda home: datasets.load_movielens("100k", data_home=home),
                           Protocol(per_user=True, relevance_threshold=3.0)),
    "amazon": DatasetSpec(lambda home: datasets.load_amazon(data_home=home),
                          Protocol(per_user=False, relevance_threshold=3.0)),
    # LightGCN's published split: fit on train + valid, score on test, at 20.
    "gowalla": DatasetSpec(lambda home: datasets.load_gowalla(data_home=home),
                           Protocol(relevance_threshold=0.0, ndcg_at=(10, 20),
                                    recall_at=(10, 20))),
    "citeulike": DatasetSpec(lambda home: datasets.load_citeulike(data_home=home),
                             Protocol(per_user=False, relevance_threshold=0.0)),
    "lastfm": DatasetSpec(lambda home: datasets.load_lastfm(data_home=home),
                          Protocol(per_user=False, relevance_threshold=0.0)),
}


def load_dataset(name: str, data_home=None, *, min_interactions: int = 0):
    """``(bunch, protocol)`` of a dataset of :data:`DATASETS`.

    A dataset with a published split (``bunch.test``) gets a protocol that
    returns it: everything else (train and validation) for fitting. With
    ``min_interactions``, ``bunch.data`` is its k-core (users and items
    with at least that many interactions), as the paper filters Amazon Books.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {sorted(DATASETS)}.")
    spec = DATASETS[name]
    bunch = spec.loader(data_home)
    protocol = spec.protocol
    if "test" in bunch:  # a published split
        protocol = protocol.with_options(fixed_split=(bunch.data - bunch.test, bunch.test))
    if "valid" in bunch and "train" in bunch:  # and its validation part
        protocol = protocol.with_options(fixed_validation=(bunch.train, bunch.valid))
    if min_interactions:
        if "test" in bunch:
            raise ValueError(f"{name} has a published split; --min-interactions would break it.")
        bunch.data, _, _ = datasets.filter_min_interactions(bunch.data, min_interactions,
                                                            min_interactions)
    return bunch, protocol
