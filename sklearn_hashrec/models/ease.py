"""EASE: a closed-form item-item model, the float reference and teacher (Steck 2019)."""

from __future__ import annotations

from numbers import Real

import numba
import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval

from .._parallel import run_parallel_kernel
from ..base import BaseRecommender
from ..interactions import binary_interactions
from ..ranking import topk_dense

__all__ = ["EASE"]


class EASE(BaseRecommender):
    """Embarrassingly Shallow Autoencoder: item-item weights in closed form.

    EASE (Steck, WWW 2019) learns an item-item weight matrix ``B`` with a
    zero diagonal that reconstructs the interaction matrix::

        min_B ||X - X B||_F^2 + l2_reg ||B||_F^2   subject to diag(B) = 0

    whose solution is ``B = I - P diag(1 / diag(P))`` with
    ``P = (X'X + l2_reg I)^-1``. A user's score for item ``i`` is
    ``x_u . B[:, i]`` and items are ranked by decreasing score. ``X`` is taken
    as 0/1 (every stored interaction counts 1), as EASE is usually run on
    implicit feedback.

    It is a full-precision model with ``n_items x n_items`` float32 weights
    (55 MB for 3,706 items, 6.7 GB for 41,000), here as the reference that
    binary codes are measured against, the teacher for distillation and the
    second stage of :class:`~sklearn_hashrec.RerankRecommender`. It has no
    codes: ``transform`` is not defined.

    Parameters
    ----------
    l2_reg : float, default=1000.0
        The ridge penalty ``lambda``; tune it with ``GridSearchCV`` and the
        package's scorers (docs/quality.md gives measured values).

    Attributes
    ----------
    item_weights_ : ndarray of shape (n_items, n_items), dtype float32
        ``B``, with a zero diagonal.
    seen_ : csr_matrix of shape (n_users, n_items)
        The training interactions.
    n_features_in_ : int
        Number of items.

    See Also
    --------
    sklearn_hashrec.RerankRecommender : Hamming candidates re-ranked by a model such as this.

    References
    ----------
    .. [1] H. Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec import EASE
    >>> X = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1.0]])
    >>> model = EASE(l2_reg=1.0).fit(X)
    >>> model.recommend([0], k=2)
    array([[2, 3]])
    >>> np.allclose(np.diag(model.item_weights_), 0)
    True
    """

    _parameter_constraints: dict = {"l2_reg": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, l2_reg: float = 1000.0):
        self.l2_reg = l2_reg

    def _fit(self, X):
        binary = binary_interactions(X)
        gram = (binary.T @ binary).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.l2_reg
        precision = np.linalg.inv(gram)
        weights = -precision / np.diag(precision)
        weights[np.diag_indices_from(weights)] = 0.0
        return {"item_weights_": weights.astype(np.float32)}

    def _users_query(self, users):
        return self.seen_[users]

    def _history_query(self, X):
        return binary_interactions(X)

    def _rank(self, query, k, exclude, return_distance, items=None):
        weights = self.item_weights_ if items is None else self.item_weights_[:, items]

        def distances(start, stop):
            return -np.asarray(query[start:stop] @ weights)

        ranked, dist = topk_dense(distances, query.shape[0], weights.shape[1],
                                  min(k, weights.shape[1]), exclude)
        return (dist, ranked) if return_distance else ranked

    def _pair_distances(self, query, rows, items):
        # Only the (user, candidate) pairs: for 200 candidates out of thousands
        # of items, a small part of the full scoring's work.
        query = sp.csr_matrix(query)
        rows = np.asarray(rows, dtype=np.int64)
        runs = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1], True]) if len(rows) else [0]
        out = np.empty(len(rows), dtype=np.float32)
        run_parallel_kernel(_pair_scores, query.indptr, query.indices,
                            query.data.astype(np.float32), self.item_weights_, rows,
                            items.astype(np.int64), np.asarray(runs, dtype=np.int64), out)
        return -out.astype(np.float64)


@numba.njit(parallel=True, cache=True)
def _pair_scores(indptr, indices, values, weights, rows, items, runs, out):
    """``out[p] = x_rows[p] . B[:, items[p]]`` for pairs in runs of one row each.

    Pairs ``runs[s]:runs[s + 1]`` share their row ``r``: each stored entry
    ``t`` of ``x_r`` adds ``x_rt * B[t, items]`` to all of them, reading row
    ``t`` of ``B`` where it is contiguous (no transposed copy of the
    ``n_items x n_items`` weights, which a per-pair sum down a column would
    want). Each pair is summed in float32 in stored-entry order, as scipy's
    sparse-dense product does, so its score equals the full scoring's bit
    for bit.
    """
    for s in numba.prange(len(runs) - 1):
        lo, hi = runs[s], runs[s + 1]
        r = rows[lo]
        columns = items[lo:hi]
        total = np.zeros(hi - lo, dtype=np.float32)
        for t in range(indptr[r], indptr[r + 1]):
            weight_row = weights[indices[t]]
            value = values[t]
            for j in range(hi - lo):
                total[j] += value * weight_row[columns[j]]
        out[lo:hi] = total
