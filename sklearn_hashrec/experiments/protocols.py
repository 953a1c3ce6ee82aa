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
from ..metrics import ndcg_at_k, recall_at_k, tie_aware_ndcg_at_k, tie_aware_recall_at_k
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
        """The protocol's metrics for a model fitted on ``train`` (its users are the rows)."""
        users = np.arange(train.shape[0])
        relevant = (test > self.relevance_threshold).astype(np.float64)
        k = max(self.ndcg_at + self.recall_at)
        if self.candidates == "test":
            gains = test.multiply(relevant).tocsr()
            ranked = model.recommend(users, k=k, exclude_seen=False, candidates=test)
            scores = {f"NDCG@{c}": ndcg_at_k(gains, ranked, c, gain="graded")
                      for c in self.ndcg_at}
        else:
            ranked = model.recommend(users, k=k)
            scores = {f"NDCG@{c}": ndcg_at_k(relevant, ranked, c) for c in self.ndcg_at}
        scores.update({f"Recall@{c}": recall_at_k(relevant, ranked, c) for c in self.recall_at})
        codes = getattr(model, "user_codes_", None)
        if (self.tie_aware and self.candidates == "all" and codes is not None
                and codes.dtype == np.int8):
            at = max(self.ndcg_at)
            scores[f"tie-aware NDCG@{at}"] = tie_aware_ndcg_at_k(
                relevant, codes, model.item_codes_, at, exclude=train)
            at = max(self.recall_at)
            scores[f"tie-aware Recall@{at}"] = tie_aware_recall_at_k(
                relevant, codes, model.item_codes_, at, exclude=train)
        return scores

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
