"""Top-k ranking metrics and the scorers that let ``GridSearchCV`` tune models.

All metrics take the held-out truth as a users x items sparse matrix and the
recommendations as an ``(n_users, >= k)`` array of item indices (``-1`` marks
an empty slot, as returned by :func:`sklearn_hashrec.ranking.hamming_topk`).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._hamming_kernels import distances_packed
from .ranking import _is_sign_matrix, check_k, pack_codes

__all__ = [
    "ndcg_at_k",
    "recall_at_k",
    "tie_aware_ndcg_at_k",
    "tie_aware_recall_at_k",
    "make_ndcg_scorer",
    "make_recall_scorer",
    "RecommenderScorer",
]


def _check_truth_and_ranking(y_true, ranked, k):
    k = check_k(k)
    y_true = check_array(
        y_true, accept_sparse="csr", dtype=np.float64, ensure_all_finite=True,
        input_name="y_true", ensure_min_samples=1, ensure_min_features=1,
    )
    y_true = sp.csr_matrix(y_true)
    ranked = np.asarray(ranked)
    if ranked.ndim != 2:
        raise ValueError(f"ranked must be 2-D (n_users, k), got shape {ranked.shape}.")
    if ranked.dtype.kind not in "iu":
        raise TypeError(f"ranked must hold integer item indices, got dtype {ranked.dtype}.")
    if ranked.shape[0] != y_true.shape[0]:
        raise ValueError(
            f"ranked has {ranked.shape[0]} rows but y_true has {y_true.shape[0]} users."
        )
    if ranked.shape[1] < k:
        raise ValueError(f"ranked has {ranked.shape[1]} columns, fewer than k={k}.")
    if ranked.size and (ranked.max() >= y_true.shape[1] or ranked.min() < -1):
        raise ValueError("ranked holds item indices outside [0, n_items) (and -1 for empty).")
    return y_true, ranked[:, :k]


def _gains_at_ranks(y_true, ranked):
    """Relevance of each recommended item; 0 for empty (-1) slots."""
    n_users, k = ranked.shape
    rows = np.repeat(np.arange(n_users), k)
    cols = ranked.ravel()
    filled = cols >= 0
    gains = np.zeros(n_users * k)
    if filled.any():
        gains[filled] = np.asarray(y_true[rows[filled], cols[filled]]).ravel()
    return gains.reshape(n_users, k)


def _average_over_users_with_relevant(per_user, has_relevant, name):
    if not has_relevant.any():
        warnings.warn(
            f"{name} is undefined: no user has a relevant held-out item; returning 0.0.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
        return 0.0
    return float(per_user[has_relevant].mean())


def _mean_ndcg(y_true, dcg, k, gain, discounts):
    """Average DCG / IDCG over users with a relevant item (IDCG over min(k, |R_u|))."""
    n_relevant = np.diff(y_true.indptr)
    if gain == "binary":
        idcg = np.concatenate([[0.0], np.cumsum(discounts)])[np.minimum(n_relevant, k)]
    else:
        idcg = _ideal_graded_dcg(y_true, k, discounts)
    has_relevant = n_relevant > 0
    per_user = np.zeros(y_true.shape[0])
    per_user[has_relevant] = dcg[has_relevant] / idcg[has_relevant]
    return _average_over_users_with_relevant(per_user, has_relevant, "NDCG@k")


def _mean_recall(relevant, hits):
    """Average hits / |R_u| over users with a relevant item."""
    n_relevant = np.diff(relevant.indptr)
    has_relevant = n_relevant > 0
    per_user = np.zeros(relevant.shape[0])
    per_user[has_relevant] = hits[has_relevant] / n_relevant[has_relevant]
    return _average_over_users_with_relevant(per_user, has_relevant, "Recall@k")


@validate_params(
    {
        "y_true": ["array-like", "sparse matrix"],
        "ranked": ["array-like"],
        "k": [Interval(Integral, 1, None, closed="left")],
        "gain": [StrOptions({"binary", "graded"})],
    },
    prefer_skip_nested_validation=True,
)
def ndcg_at_k(y_true, ranked, k: int = 10, *, gain: str = "binary") -> float:
    r"""Normalised discounted cumulative gain at ``k``, averaged over users.

    For user ``u`` with recommended items ``i_1, ..., i_k`` and relevant set
    ``R_u`` (the positive entries of row ``u`` of ``y_true``)::

        DCG@k(u)  = sum_{j=1..k} g(u, i_j) / log2(j + 1)
        IDCG@k(u) = sum_{j=1..k} g*_j(u) / log2(j + 1)
        NDCG@k    = mean over users with |R_u| >= 1 of DCG@k(u) / IDCG@k(u)

    With ``gain="binary"``, ``g(u, i) = 1`` if ``i`` is in ``R_u`` else 0, and the
    ideal gains ``g*`` are ``min(k, |R_u|)`` ones, so
    ``IDCG@k(u) = sum_{j=1..min(k, |R_u|)} 1 / log2(j + 1)``.
    With ``gain="graded"``, ``g(u, i) = y_true[u, i]`` (for example the held-out
    rating) and ``g*`` are the user's ``k`` largest values, in decreasing order.
    Entries of ``y_true`` that are zero or negative are not relevant.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_users, n_items)
        Held-out relevance.
    ranked : array-like of shape (n_users, n_ranked)
        Recommended item indices, best first, ``n_ranked >= k``; ``-1`` marks an
        empty slot.
    k : int, default=10
        Cut-off.
    gain : {"binary", "graded"}, default="binary"
        Gain of a relevant item.

    Returns
    -------
    ndcg : float
        In [0, 1]. Users without relevant items are left out of the average;
        if no user has one, 0.0 is returned with an ``UndefinedMetricWarning``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse import csr_matrix
    >>> from sklearn_hashrec.metrics import ndcg_at_k
    >>> y_true = csr_matrix(np.array([[1, 0, 0, 1]]))
    >>> round(ndcg_at_k(y_true, np.array([[3, 1, 0]]), k=3), 4)
    0.9197
    """
    y_true, ranked = _check_truth_and_ranking(y_true, ranked, k)
    y_true = y_true.copy()
    y_true.data = np.where(y_true.data > 0, y_true.data, 0.0)
    y_true.eliminate_zeros()
    if gain == "binary":
        y_true.data = np.ones_like(y_true.data)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = _gains_at_ranks(y_true, ranked) @ discounts
    return _mean_ndcg(y_true, dcg, k, gain, discounts)


def _ideal_graded_dcg(y_true, k, discounts):
    # Sort each row's values in decreasing order without a Python loop: sort by
    # (row, -value) and take each row's first k entries.
    rows = np.repeat(np.arange(y_true.shape[0]), np.diff(y_true.indptr))
    order = np.lexsort((-y_true.data, rows))
    position = np.arange(len(order)) - y_true.indptr[rows[order]]
    keep = position < k
    idcg = np.zeros(y_true.shape[0])
    np.add.at(idcg, rows[order][keep], y_true.data[order][keep] * discounts[position[keep]])
    return idcg


@validate_params(
    {
        "y_true": ["array-like", "sparse matrix"],
        "ranked": ["array-like"],
        "k": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def recall_at_k(y_true, ranked, k: int = 10) -> float:
    r"""Recall at ``k``, averaged over users.

    For user ``u`` with relevant set ``R_u`` (positive entries of row ``u``)::

        Recall@k(u) = |{i_1, ..., i_k} & R_u| / |R_u|
        Recall@k    = mean over users with |R_u| >= 1 of Recall@k(u)

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_users, n_items)
        Held-out relevance; entries > 0 are relevant.
    ranked : array-like of shape (n_users, n_ranked)
        Recommended item indices, best first, ``n_ranked >= k``; ``-1`` marks an
        empty slot.
    k : int, default=10
        Cut-off.

    Returns
    -------
    recall : float
        In [0, 1]; 0.0 with an ``UndefinedMetricWarning`` if no user has a
        relevant item.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse import csr_matrix
    >>> from sklearn_hashrec.metrics import recall_at_k
    >>> y_true = csr_matrix(np.array([[1, 0, 0, 1]]))
    >>> recall_at_k(y_true, np.array([[3, 1]]), k=2)
    0.5
    """
    y_true, ranked = _check_truth_and_ranking(y_true, ranked, k)
    relevant = (y_true > 0).astype(np.float64).tocsr()
    return _mean_recall(relevant, _gains_at_ranks(relevant, ranked).sum(axis=1))


def _distance_buckets(y_true, user_codes, item_codes, exclude, gain):
    """Per user and Hamming distance: item count, relevant count and gain sum.

    Excluded items are left out of every bucket. Users are processed in
    chunks, so memory stays at ``chunk x n_items`` distances.
    """
    user_codes, item_codes = np.asarray(user_codes), np.asarray(item_codes)
    if not (_is_sign_matrix(user_codes) and _is_sign_matrix(item_codes)):
        raise ValueError("Tie-aware metrics need binary (-1/+1) codes; continuous codes "
                         "have no ties to average over.")
    n_users, n_bits = user_codes.shape
    n_items = item_codes.shape[0]
    if y_true.shape != (n_users, n_items):
        raise ValueError(f"y_true has shape {y_true.shape}, expected {(n_users, n_items)}.")
    n_buckets = n_bits + 2  # the last one collects excluded items
    counts = np.zeros((n_users, n_buckets))
    relevant = np.zeros((n_users, n_buckets))
    gains = np.zeros((n_users, n_buckets))
    packed_items = np.ascontiguousarray(pack_codes(item_codes).T)
    chunk = max(1, 2**22 // max(n_items, 1))
    for start in range(0, n_users, chunk):
        stop = min(start + chunk, n_users)
        dist = np.empty((stop - start, n_items), dtype=np.int64)
        distances_packed(pack_codes(user_codes[start:stop]), packed_items, dist)
        if exclude is not None:
            block = exclude[start:stop]
            rows = np.repeat(np.arange(stop - start), np.diff(block.indptr))
            dist[rows, block.indices] = n_bits + 1
        offsets = (np.arange(stop - start) * n_buckets)[:, None] + dist
        size = (stop - start) * n_buckets
        counts[start:stop] = np.bincount(offsets.ravel(), minlength=size).reshape(-1, n_buckets)
        truth = y_true[start:stop]
        t_rows = np.repeat(np.arange(stop - start), np.diff(truth.indptr))
        t_bucket = dist[t_rows, truth.indices] + t_rows * n_buckets
        relevant[start:stop] = np.bincount(t_bucket, minlength=size).reshape(-1, n_buckets)
        weights = truth.data if gain == "graded" else np.ones_like(truth.data)
        gains[start:stop] = np.bincount(t_bucket, weights=weights,
                                        minlength=size).reshape(-1, n_buckets)
    return counts[:, :-1], relevant[:, :-1], gains[:, :-1]


def _expected_block_shares(counts, k):
    """Each bucket's share of the top-k positions, and of their discounts, per item.

    Items of a bucket fill positions ``p .. p + n - 1`` in random order, so
    each gets the mean discount of those positions (0 past k).
    """
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    cumulative = np.concatenate([[0.0], np.cumsum(discounts)])
    start = np.cumsum(counts, axis=1) - counts
    end = start + counts
    inside = np.minimum(end, k) - np.minimum(start, k)
    discount_sum = cumulative[np.minimum(end, k).astype(int)] - cumulative[
        np.minimum(start, k).astype(int)]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(counts > 0, inside / counts, 0.0)
        mean_discount = np.where(counts > 0, discount_sum / counts, 0.0)
    return share, mean_discount, discounts


def _tie_aware(y_true, user_codes, item_codes, k, exclude, gain):
    k = check_k(k)
    y_true = sp.csr_matrix(check_array(y_true, accept_sparse="csr", dtype=np.float64,
                                       ensure_all_finite=True, input_name="y_true"))
    y_true.data = np.where(y_true.data > 0, y_true.data, 0.0)
    y_true.eliminate_zeros()
    if exclude is not None:
        exclude = sp.csr_matrix(exclude)
    counts, relevant, gains = _distance_buckets(y_true, user_codes, item_codes, exclude, gain)
    share, mean_discount, discounts = _expected_block_shares(counts, k)
    return y_true, relevant, gains, share, mean_discount, discounts


def tie_aware_ndcg_at_k(y_true, user_codes, item_codes, k: int = 10, *, exclude=None,
                        gain: str = "binary") -> float:
    """Expected NDCG@k over a uniformly random order of items at equal Hamming distance.

    Hamming distances take only ``n_bits + 1`` values, so many items tie and a
    fixed tie-break can move the score (at 5 bits it decides it). This is the
    tie-aware NDCG of McSherry & Najork (ECIR 2008), which
    ``sklearn.metrics.ndcg_score`` computes too: the items at distance ``d``
    occupy positions ``p_d .. p_d + n_d - 1`` in some order, so each earns the
    mean discount of those positions (positions past ``k`` count 0)::

        E[DCG@k(u)] = sum_d G_d(u) * mean_{j in block d, j < k} 1 / log2(j + 2)

    with ``G_d(u)`` the gain of the user's relevant items at distance ``d``.
    IDCG, the averaging over users with a relevant item and ``gain`` are as in
    :func:`ndcg_at_k`.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_users, n_items)
        Held-out relevance (entries > 0).
    user_codes : array-like of shape (n_users, n_bits)
        -1/+1 codes of the users of ``y_true``'s rows.
    item_codes : array-like of shape (n_items, n_bits)
        -1/+1 item codes.
    k : int, default=10
    exclude : sparse matrix of shape (n_users, n_items), default=None
        Items left out of the ranking (the training items).
    gain : {"binary", "graded"}, default="binary"

    Returns
    -------
    ndcg : float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec.metrics import tie_aware_ndcg_at_k
    >>> users = np.array([[1, 1]])
    >>> items = np.array([[1, 1], [1, 1], [-1, -1]])  # items 0 and 1 tie
    >>> y_true = np.array([[0, 1, 0]])
    >>> round(tie_aware_ndcg_at_k(y_true, users, items, k=1), 2)  # 1/2 chance at rank 1
    0.5
    """
    if gain not in ("binary", "graded"):
        raise ValueError(f"gain must be 'binary' or 'graded', got {gain!r}.")
    y_true, _, gains, _, mean_discount, discounts = _tie_aware(
        y_true, user_codes, item_codes, k, exclude, gain)
    return _mean_ndcg(y_true, (gains * mean_discount).sum(axis=1), k, gain, discounts)


def tie_aware_recall_at_k(y_true, user_codes, item_codes, k: int = 10, *,
                          exclude=None) -> float:
    """Expected Recall@k over a uniformly random order of items at equal Hamming distance.

    A relevant item at distance ``d`` is in the top k with probability
    ``|block d within the first k positions| / n_d``. Otherwise as
    :func:`recall_at_k`; the parameters are those of :func:`tie_aware_ndcg_at_k`.

    Returns
    -------
    recall : float
    """
    y_true, relevant, _, share, _, _ = _tie_aware(
        y_true, user_codes, item_codes, k, exclude, "binary")
    return _mean_recall(y_true, (relevant * share).sum(axis=1))


def _split_pipeline(estimator):
    """The final recommender and the transformers in front of it."""
    if isinstance(estimator, Pipeline):
        return estimator.steps[-1][1], estimator[:-1]
    return estimator, None


class RecommenderScorer:
    """A top-k ranking scorer usable as ``scoring=`` in ``GridSearchCV``.

    Build it with :func:`make_ndcg_scorer` or :func:`make_recall_scorer`.
    Calling ``scorer(estimator, X, y=None)`` works in two protocols:

    * ``y is None`` (user-fold CV, strong generalisation): for every row of
      ``X`` a seeded fraction ``holdout`` of its interactions is hidden; the
      estimator recommends from the rest through ``recommend_from_history``
      (fold-in), and the hidden entries above ``relevance_threshold`` are the
      truth.
    * ``y`` given (the paper's same-users protocol): ``X`` is the history and
      ``y`` (same shape) the held-out matrix.

    In both, the items of the history are excluded from the ranking. When the
    estimator is a :class:`~sklearn.pipeline.Pipeline`, its preprocessing steps
    transform the history before the final recommender sees it; exclusion and
    truth use the untransformed matrices.
    """

    def __init__(self, metric, k=10, *, holdout=0.2, relevance_threshold=0.0,
                 random_state=0, metric_kwargs=None):
        self.metric = metric
        self.k = k
        self.holdout = holdout
        self.relevance_threshold = relevance_threshold
        self.random_state = random_state
        self.metric_kwargs = metric_kwargs or {}

    def __repr__(self):
        return (f"RecommenderScorer({self.metric.__name__}, k={self.k}, "
                f"holdout={self.holdout}, relevance_threshold={self.relevance_threshold})")

    def __call__(self, estimator, X, y=None) -> float:
        from .model_selection import train_test_split_interactions

        X = check_array(X, accept_sparse="csr", dtype=np.float64, ensure_all_finite=True,
                        ensure_min_samples=1, ensure_min_features=1)
        X = sp.csr_matrix(X)
        if y is None:
            history, truth = train_test_split_interactions(
                X, test_size=self.holdout, per_user=True, random_state=self.random_state
            )
        else:
            truth = check_array(y, accept_sparse="csr", dtype=np.float64,
                                ensure_all_finite=True, ensure_2d=False, input_name="y")
            if truth.ndim != 2 or truth.shape != X.shape:
                raise ValueError(
                    "y must be the held-out interaction matrix, with the same shape as X "
                    f"{X.shape}; got shape {truth.shape}."
                )
            history, truth = X, sp.csr_matrix(truth)
        relevant = (truth > self.relevance_threshold).astype(np.float64)
        if self.metric is ndcg_at_k and self.metric_kwargs.get("gain") == "graded":
            relevant = truth.multiply(relevant).tocsr()
        final, preprocessing = _split_pipeline(estimator)
        model_input = preprocessing.transform(history) if preprocessing is not None else history
        ranked = final._recommend_from_validated_history(
            model_input, k=self.k, exclude=history
        )
        return self.metric(relevant, ranked, self.k, **self.metric_kwargs)


def _check_scorer_args(k, holdout):
    check_k(k)
    if not isinstance(holdout, Real) or not 0 < holdout < 1:
        raise ValueError(f"holdout must be a float in (0, 1), got {holdout!r}.")


def make_ndcg_scorer(k: int = 10, *, holdout: float = 0.2, relevance_threshold: float = 0.0,
                     gain: str = "binary", random_state=0) -> RecommenderScorer:
    """NDCG@k scorer for ``GridSearchCV`` and ``cross_validate``.

    Parameters
    ----------
    k : int, default=10
        Cut-off.
    holdout : float, default=0.2
        With ``y=None``, the fraction of each test user's interactions hidden
        and used as truth.
    relevance_threshold : float, default=0.0
        A held-out entry is relevant when its value is greater than this (use
        3 for MovieLens ratings, as the paper does).
    gain : {"binary", "graded"}, default="binary"
        See :func:`ndcg_at_k`.
    random_state : int, RandomState instance or None, default=0
        Seed of the hidden fraction. Fixed by default so every candidate of a
        grid search is scored on the same hidden entries.

    Returns
    -------
    scorer : RecommenderScorer
        Callable ``scorer(estimator, X, y=None) -> float``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_hashrec import CCSR
    >>> from sklearn_hashrec.metrics import make_ndcg_scorer, make_recall_scorer
    >>> X = (np.random.default_rng(0).random((60, 30)) < 0.3).astype(float)
    >>> search = GridSearchCV(
    ...     CCSR(n_bits=8, max_epochs=2, random_state=0),
    ...     {"n_bits": [4, 8]},
    ...     scoring={"ndcg": make_ndcg_scorer(k=5), "recall": make_recall_scorer(k=5)},
    ...     refit="ndcg", cv=3,
    ... ).fit(X)
    >>> search.best_params_["n_bits"] in (4, 8)
    True
    """
    if gain not in ("binary", "graded"):
        raise ValueError(f"gain must be 'binary' or 'graded', got {gain!r}.")
    _check_scorer_args(k, holdout)
    return RecommenderScorer(ndcg_at_k, k, holdout=holdout,
                             relevance_threshold=relevance_threshold,
                             random_state=random_state, metric_kwargs={"gain": gain})


def make_recall_scorer(k: int = 10, *, holdout: float = 0.2, relevance_threshold: float = 0.0,
                       random_state=0) -> RecommenderScorer:
    """Recall@k scorer for ``GridSearchCV`` and ``cross_validate``.

    Parameters
    ----------
    k : int, default=10
        Cut-off.
    holdout : float, default=0.2
        With ``y=None``, the fraction of each test user's interactions hidden
        and used as truth.
    relevance_threshold : float, default=0.0
        A held-out entry is relevant when its value is greater than this.
    random_state : int, RandomState instance or None, default=0
        Seed of the hidden fraction.

    Returns
    -------
    scorer : RecommenderScorer
        Callable ``scorer(estimator, X, y=None) -> float``.

    Examples
    --------
    >>> from sklearn_hashrec.metrics import make_recall_scorer
    >>> make_recall_scorer(k=20, relevance_threshold=3)
    RecommenderScorer(recall_at_k, k=20, holdout=0.2, relevance_threshold=3)
    """
    _check_scorer_args(k, holdout)
    return RecommenderScorer(recall_at_k, k, holdout=holdout,
                             relevance_threshold=relevance_threshold,
                             random_state=random_state)
