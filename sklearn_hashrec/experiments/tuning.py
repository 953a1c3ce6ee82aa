"""Equal-budget tuning: a grid search on a validation split carved out of the training data."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from ..metrics import make_ndcg_scorer
from ..model_selection import train_test_split_interactions
from .protocols import Protocol

__all__ = ["tune_estimator"]


def tune_estimator(estimator, grid: dict, train, protocol: Protocol, seed: int, *,
                   k: int = 10) -> tuple[dict, float | None]:
    """The best point of ``grid`` for ``estimator``, judged on validation data only.

    ``train`` is split again under ``protocol`` (its held-out fraction, per
    user or global), the candidates are fitted on the first part and scored
    by NDCG@``k`` on the second, with the package's scorer through
    ``GridSearchCV`` (the same-users protocol of
    :mod:`sklearn_hashrec.model_selection`). The test split is never seen.

    Parameters
    ----------
    estimator : estimator
        Unfitted; not modified (the search clones it).
    grid : dict
        A ``GridSearchCV`` parameter grid; empty for models without
        hyperparameters.
    train : sparse matrix of shape (n_users, n_items)
        The training part of the protocol's split.
    protocol : Protocol
        Gives the held-out fraction, the split kind and the relevance threshold.
    seed : int
        Seed of the validation split.
    k : int, default=10
        Cut-off of the NDCG that decides.

    Returns
    -------
    best_params : dict
        Empty when ``grid`` is.
    validation_score : float or None
        The best point's validation NDCG@``k``; ``None`` when nothing was searched.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec import EASE
    >>> from sklearn_hashrec.experiments import Protocol, tune_estimator
    >>> X = (np.random.default_rng(0).random((60, 30)) < 0.3).astype(float)
    >>> train, test = Protocol().split(X, seed=0)
    >>> best, score = tune_estimator(EASE(), {"l2_reg": [1.0, 100.0]}, train, Protocol(), 0)
    >>> sorted(best)
    ['l2_reg']
    """
    if not grid:
        return {}, None
    fit_part, validation = train_test_split_interactions(
        train, protocol.test_size, per_user=protocol.per_user, random_state=seed)
    # One "fold" that keeps every user on both sides: the history is fit_part,
    # the truth the validation entries of the same users.
    rows = np.arange(train.shape[0])
    search = GridSearchCV(
        clone(estimator), grid, cv=[(rows, rows)], refit=False, error_score="raise",
        scoring=make_ndcg_scorer(k, relevance_threshold=protocol.relevance_threshold),
    ).fit(fit_part, validation)
    return dict(search.best_params_), float(search.best_score_)
