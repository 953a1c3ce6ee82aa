"""The paper's rule-based baselines: Random and Top (popularity).

They learn no codes, so they are not transformers: ``transform`` does not
exist on them. They support ``recommend``, ``recommend_from_history``,
``score`` and the scorers, and so ``GridSearchCV``.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ..base import BaseRecommender
from ..ranking import topk_dense, topk_shared_order

__all__ = ["RandomRecommender", "PopularityRecommender"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """A well-mixed 64-bit hash of each value (vectorised; wraps on overflow)."""
    z = values.astype(np.uint64) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


class RandomRecommender(BaseRecommender):
    """Random items for each user (the paper's "Random").

    The order for a user is a seeded pseudo-random permutation of the items:
    the same user gets the same list from every call, whatever the batch it
    comes in. Rows of ``recommend_from_history`` are keyed by their position
    in the given matrix, offset past the training users. With
    ``return_distance=True`` the "distance" is the item's uniform key in
    [0, 1) that sets this order.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seed of the permutations; ``None`` draws a new seed at each ``fit``.

    Attributes
    ----------
    seed_ : int
        The seed drawn at ``fit``.
    seen_ : csr_matrix of shape (n_users, n_items)
        The training interactions.
    n_features_in_ : int
        Number of items.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec import RandomRecommender
    >>> X = (np.random.default_rng(0).random((5, 8)) < 0.3).astype(float)
    >>> RandomRecommender(random_state=0).fit(X).recommend([0, 1], k=3).shape
    (2, 3)
    """

    _parameter_constraints: dict = {"random_state": ["random_state"]}

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _fit(self, X):
        return {"seed_": int(check_random_state(self.random_state).randint(2**31 - 1))}

    def _users_query(self, users):
        return users

    def _history_query(self, X):
        return self.seen_.shape[0] + np.arange(X.shape[0])

    def _keys(self, users, items):
        """A uniform key in [0, 1) per (user, item): the "distance" of the random order."""
        n_items = self.seen_.shape[1]
        key_base = _splitmix64(np.array([self.seed_], dtype=np.uint64))[0]
        pairs = users.astype(np.uint64) * np.uint64(n_items) + items.astype(np.uint64)
        return _splitmix64(pairs ^ key_base).astype(np.float64) / 2.0**64

    def _rank(self, query, k, exclude, return_distance, items=None):
        items = np.arange(self.seen_.shape[1]) if items is None else items

        def distances(start, stop):
            return self._keys(query[start:stop, None], items[None, :])

        ranked, dist = topk_dense(distances, len(query), len(items), min(k, len(items)), exclude)
        return (dist, ranked) if return_distance else ranked

    def _pair_distances(self, query, rows, items):
        return self._keys(query[rows], items)


class PopularityRecommender(BaseRecommender):
    """The most popular items, the same list for everyone (the paper's "Top").

    Items are ranked by the number of training users who interacted with them
    (any stored entry counts), most first; ties by increasing item index. With
    ``return_distance=True`` the distance is how many fewer users an item has
    than the most popular one (0 for the most popular).

    Parameters
    ----------
    None.

    Attributes
    ----------
    item_popularity_ : ndarray of shape (n_items,)
        Training interaction count of each item.
    seen_ : csr_matrix of shape (n_users, n_items)
        The training interactions.
    n_features_in_ : int
        Number of items.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec import PopularityRecommender
    >>> X = np.array([[1, 1, 0], [0, 1, 0], [0, 1, 1.0]])
    >>> PopularityRecommender().fit(X).recommend([0], k=2)
    array([[ 2, -1]])
    """

    def _fit(self, X):
        return {"item_popularity_": np.bincount(X.indices, minlength=X.shape[1])}

    def _users_query(self, users):
        return users

    def _history_query(self, X):
        return np.arange(X.shape[0])

    def _rank(self, query, k, exclude, return_distance, items=None):
        popularity = self.item_popularity_ if items is None else self.item_popularity_[items]
        n_items = len(popularity)
        # One ranking for everyone (count, then index), filtered per user:
        # no users x items score matrix (Gowalla's 29,858 users took 8-9 s so).
        order = np.lexsort((np.arange(n_items), -popularity))
        ranked = topk_shared_order(order, len(query), min(k, n_items), exclude)
        if not return_distance:
            return ranked
        # As a distance: how many fewer users than the most popular item (0 for it).
        gap = (self.item_popularity_.max() - popularity).astype(np.float64)
        return np.where(ranked >= 0, gap[np.maximum(ranked, 0)], np.inf), ranked

    def _pair_distances(self, query, rows, items):
        return (self.item_popularity_.max() - self.item_popularity_[items]).astype(np.float64)
