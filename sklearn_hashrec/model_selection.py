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

**A table of ids.** With an :class:`~sklearn_hashrec.preprocessing.InteractionEncoder`
first in a pipeline, ``GridSearchCV`` fits on rows of the table (one row per
interaction). :class:`PerUserKFold` splits the rows so that every user's
interactions fall on both sides; the scorers then read a test fold's rows as
held-out interactions of the users of the fit, ranked from their stored
codes::

    search = GridSearchCV(
        make_recommender_pipeline(InteractionEncoder("user", "item", "rating"), CCSR()),
        {"ccsr__dropout": [0.1, 0.3]},
        scoring=make_ndcg_scorer(10, relevance_threshold=3), cv=PerUserKFold(5),
    ).fit(table)

All three are run in ``tests/test_model_selection.py``.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["PerUserKFold", "train_test_split_interactions"]


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


class PerUserKFold(BaseCrossValidator):
    """K folds of an interaction table, each user's rows spread over every fold.

    A table has one row per interaction. Splitting its rows with ``KFold``
    puts a user's whole history in one fold when the table is sorted by
    user, and then the test fold holds users the model never saw. Here each
    user's rows are shuffled and dealt to the folds in turn, so a user with
    at least ``n_splits`` interactions has some in every test fold and the
    rest in its training part: the paper's same-users protocol, as folds.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    user_col : str or int, default=0
        The user column: a DataFrame column name or a position, as in
        :class:`~sklearn_hashrec.preprocessing.InteractionEncoder`.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle within each user's rows.

    Examples
    --------
    >>> from sklearn_hashrec.model_selection import PerUserKFold
    >>> table = [("ann", "x"), ("ann", "y"), ("bob", "x"), ("bob", "z"), ("ann", "z")]
    >>> for train, test in PerUserKFold(2, random_state=0).split(table):
    ...     print(train.tolist(), test.tolist())
    [0, 2] [1, 3, 4]
    [1, 3, 4] [0, 2]
    """

    @validate_params({"n_splits": [Interval(Integral, 2, None, closed="left")],
                      "user_col": [str, Integral], "random_state": ["random_state"]},
                     prefer_skip_nested_validation=True)
    def __init__(self, n_splits: int = 5, *, user_col=0, random_state=None):
        self.n_splits = n_splits
        self.user_col = user_col
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of folds."""
        return self.n_splits

    def _iter_test_indices(self, X, y=None, groups=None):
        from .preprocessing import table_columns

        users, = table_columns(X, [self.user_col])
        _, user_index = np.unique(users, return_inverse=True)
        keys = check_random_state(self.random_state).random_sample(len(user_index))
        order = np.lexsort((keys, user_index))  # by user, shuffled within a user
        starts = np.searchsorted(user_index[order], user_index[order], side="left")
        fold = np.empty(len(order), dtype=np.int64)
        fold[order] = (np.arange(len(order)) - starts) % self.n_splits
        for k in range(self.n_splits):
            yield np.flatnonzero(fold == k)
