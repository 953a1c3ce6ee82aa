"""Plain top-k ranking metrics: NDCG@k and Recall@k of a ranked list of items.

The recommendations are an ``(n_users, >= k)`` array of item indices (``-1``
marks an empty slot, as :func:`sklearn_hashrec.ranking.hamming_topk` pads).
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..ranking import check_k

__all__ = ["ndcg_at_k", "recall_at_k"]

# One definition of each shared parameter, for every public function of the package's metrics.
K_CONSTRAINT = [Interval(Integral, 1, None, closed="left")]
GAIN_CONSTRAINT = [StrOptions({"binary", "graded"})]
TRUTH_CONSTRAINT = ["array-like", "sparse matrix"]


def check_truth(y_true, name: str = "y_true") -> sp.csr_matrix:
    """Held-out relevance as float64 CSR, with zero and negative entries dropped."""
    y_true = sp.csr_matrix(check_array(
        y_true, accept_sparse="csr", dtype=np.float64, ensure_all_finite=True,
        input_name=name, ensure_min_samples=1, ensure_min_features=1,
    ), copy=True)
    y_true.data = np.where(y_true.data > 0, y_true.data, 0.0)
    y_true.eliminate_zeros()
    return y_true


def _check_ranking(y_true, ranked, k):
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
    return ranked[:, :k]


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


def mean_ndcg(y_true, dcg, k, gain, discounts):
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


def mean_recall(relevant, hits):
    """Average hits / |R_u| over users with a relevant item."""
    n_relevant = np.diff(relevant.indptr)
    has_relevant = n_relevant > 0
    per_user = np.zeros(relevant.shape[0])
    per_user[has_relevant] = hits[has_relevant] / n_relevant[has_relevant]
    return _average_over_users_with_relevant(per_user, has_relevant, "Recall@k")


@validate_params(
    {"y_true": TRUTH_CONSTRAINT, "ranked": ["array-like"], "k": K_CONSTRAINT,
     "gain": GAIN_CONSTRAINT},
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
    k = check_k(k)
    y_true = check_truth(y_true)
    ranked = _check_ranking(y_true, ranked, k)
    if gain == "binary":
        y_true.data = np.ones_like(y_true.data)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = _gains_at_ranks(y_true, ranked) @ discounts
    return mean_ndcg(y_true, dcg, k, gain, discounts)


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
    {"y_true": TRUTH_CONSTRAINT, "ranked": ["array-like"], "k": K_CONSTRAINT},
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
    k = check_k(k)
    relevant = check_truth(y_true)
    relevant.data = np.ones_like(relevant.data)
    ranked = _check_ranking(relevant, ranked, k)
    return mean_recall(relevant, _gains_at_ranks(relevant, ranked).sum(axis=1))
