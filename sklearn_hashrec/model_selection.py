"""Evaluation protocols: splitting an interaction matrix into history and truth.

Two ways to tune a model with ``GridSearchCV``:

**User-fold CV with fold-in** (strong generalisation). Rows are users, so a
plain ``cv=5`` splits users. Each candidate is fit on the training users; the
scorer hides a seeded 20% of each test user's interactions, folds the user in
from the rest and ranks::

    from sklearn.model_selection import GridSearchCV
    from sklearn_hashrec import CCSR
    from sklearn_hashrec.metrics import make_ndcg_scorer, make_recall_scorer

    search = GridSearchCV(
        CCSR(n_bits=40, binarize="sign"),
        {"lambda_ae": [0.01, 0.1], "dropout": [0.1, 0.3]},
        scoring={"ndcg": make_ndcg_scorer(10, relevance_threshold=3),
                 "recall": make_recall_scorer(10, relevance_threshold=3)},
        refit="ndcg", cv=5,
    ).fit(X)

**The paper's same-users protocol.** Split every user's interactions into a
training and a held-out part with :func:`train_test_split_interactions`, fit
on the training part and score on the held-out part of the same users. One
"fold" that uses all rows for both, with the held-out matrix passed as ``y``::

    import numpy as np
    train, test = train_test_split_interactions(X, test_size=0.2, random_state=0)
    all_rows = np.arange(X.shape[0])
    search = GridSearchCV(
        CCSR(n_bits=40), {"dropout": [0.1, 0.3]},
        scoring=make_ndcg_scorer(10, relevance_threshold=3),
        cv=[(all_rows, all_rows)],
    ).fit(train, test)

Both are run in ``tests/test_model_selection.py``.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array, check_random_state

__all__ = ["train_test_split_interactions"]


def train_test_split_interactions(X, test_size: float = 0.2, *, per_user: bool = True,
                                  random_state=None):
    """Split the stored interactions of ``X`` into a training and a held-out matrix.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        Interactions; every stored non-zero entry is one interaction.
    test_size : float, default=0.2
        Fraction of interactions held out, in (0, 1).
    per_user : bool, default=True
        ``True``: each user's interactions are split separately, holding out
        ``floor(test_size * n_u + 0.5)`` of the user's ``n_u`` interactions (the
        paper's MovieLens protocol; a user with a single interaction keeps it
        for training when ``test_size < 0.5``). ``False``: the held-out entries
        are drawn uniformly from all interactions (the paper's Amazon and Ichiba
        protocol), ``floor(test_size * nnz + 0.5)`` of them.
    random_state : int, RandomState instance or None, default=None
        Seed of the random selection.

    Returns
    -------
    train : csr_matrix of shape (n_users, n_items)
    test : csr_matrix of shape (n_users, n_items)
        Disjoint, with ``train + test == X``; dtype of ``X`` (floating).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec.model_selection import train_test_split_interactions
    >>> X = np.array([[5, 3, 0, 1, 4], [0, 2, 2, 0, 0]], dtype=float)
    >>> train, test = train_test_split_interactions(X, 0.25, random_state=0)
    >>> train.nnz, test.nnz, np.allclose((train + test).toarray(), X)
    (4, 2, True)
    """
    if isinstance(test_size, bool) or not isinstance(test_size, Real) or not 0 < test_size < 1:
        raise ValueError(f"test_size must be a float in (0, 1), got {test_size!r}.")
    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32],
                    ensure_all_finite=True, ensure_min_samples=1, ensure_min_features=1)
    X = sp.csr_matrix(X, copy=True)
    X.eliminate_zeros()
    X.sort_indices()
    rng = check_random_state(random_state)
    n_users = X.shape[0]
    rows = np.repeat(np.arange(n_users), np.diff(X.indptr))
    keys = rng.random_sample(X.nnz)
    if per_user:
        counts = np.diff(X.indptr)
        n_test = np.floor(test_size * counts + 0.5).astype(np.int64)
        order = np.lexsort((keys, rows))
        position = np.empty(X.nnz, dtype=np.int64)
        position[order] = np.arange(X.nnz) - X.indptr[rows[order]]
        held_out = position < n_test[rows]
    else:
        n_test = int(np.floor(test_size * X.nnz + 0.5))
        held_out = np.zeros(X.nnz, dtype=bool)
        held_out[np.argsort(keys, kind="stable")[:n_test]] = True
    return _subset(X, rows, ~held_out), _subset(X, rows, held_out)


def _subset(X, rows, mask):
    return sp.csr_matrix((X.data[mask], (rows[mask], X.indices[mask])), shape=X.shape,
                         dtype=X.dtype)
