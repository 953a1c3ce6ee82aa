"""Tie-aware NDCG@k and Recall@k of binary codes (McSherry & Najork, ECIR 2008).

Hamming distances take only ``n_bits + 1`` values, so many items tie and a
fixed tie-break can move a score; these metrics average over a uniformly
random order of the items at equal distance.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import validate_params

from ..ranking import check_k, hamming_distances, is_binary_codes, pack_codes
from ._ranking import (
    GAIN_CONSTRAINT,
    K_CONSTRAINT,
    TRUTH_CONSTRAINT,
    check_truth,
    mean_ndcg,
    mean_recall,
)

__all__ = ["tie_aware_ndcg_at_k", "tie_aware_recall_at_k"]

_CODES_CONSTRAINTS = {
    "y_true": TRUTH_CONSTRAINT,
    "user_codes": ["array-like"],
    "item_codes": ["array-like"],
    "k": K_CONSTRAINT,
    "exclude": ["array-like", "sparse matrix", None],
}


def _distance_buckets(y_true, user_codes, item_codes, exclude, gain):
    """Per user and Hamming distance: item count, relevant count and gain sum.

    Excluded items are left out of every bucket. Users are processed in
    chunks, so memory stays at ``chunk x n_items`` distances.
    """
    user_codes, item_codes = np.asarray(user_codes), np.asarray(item_codes)
    if not (is_binary_codes(user_codes) and is_binary_codes(item_codes)):
        raise ValueError("Tie-aware metrics need binary (-1/+1) codes; continuous codes "
                         "have no ties to average over.")
    if user_codes.ndim != 2 or item_codes.ndim != 2 or user_codes.shape[1] != item_codes.shape[1]:
        raise ValueError(f"user_codes {user_codes.shape} and item_codes {item_codes.shape} must "
                         "be 2-D with the same number of bits.")
    n_users, n_bits = user_codes.shape
    n_items = item_codes.shape[0]
    if y_true.shape != (n_users, n_items):
        raise ValueError(f"y_true has shape {y_true.shape}, expected {(n_users, n_items)}.")
    n_buckets = n_bits + 2  # the last one collects excluded items
    counts = np.zeros((n_users, n_buckets))
    relevant = np.zeros((n_users, n_buckets))
    gains = np.zeros((n_users, n_buckets))
    packed_items = pack_codes(item_codes)
    chunk = max(1, 2**22 // max(n_items, 1))
    for start in range(0, n_users, chunk):
        stop = min(start + chunk, n_users)
        dist = hamming_distances(pack_codes(user_codes[start:stop]), packed_items, n_bits=n_bits)
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
    y_true = check_truth(y_true)
    if exclude is not None:
        exclude = sp.csr_matrix(exclude)
        if exclude.shape != y_true.shape:
            raise ValueError(f"exclude has shape {exclude.shape}, expected {y_true.shape}.")
    counts, relevant, gains = _distance_buckets(y_true, user_codes, item_codes, exclude, gain)
    share, mean_discount, discounts = _expected_block_shares(counts, k)
    return y_true, relevant, gains, share, mean_discount, discounts


@validate_params({**_CODES_CONSTRAINTS, "gain": GAIN_CONSTRAINT},
                 prefer_skip_nested_validation=True)
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
    y_true, _, gains, _, mean_discount, discounts = _tie_aware(
        y_true, user_codes, item_codes, k, exclude, gain)
    return mean_ndcg(y_true, (gains * mean_discount).sum(axis=1), k, gain, discounts)


@validate_params(_CODES_CONSTRAINTS, prefer_skip_nested_validation=True)
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
    return mean_recall(y_true, (relevant * share).sum(axis=1))
