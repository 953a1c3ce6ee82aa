"""The base class every recommender of the package derives from.

It holds the plumbing that is the same for all models: input validation,
code storage, Hamming ranking through :mod:`sklearn_hashrec.ranking`,
seen-item filtering, fold-in entry points and scoring. A model implements
``_fit`` (returning its fitted attributes), ``_encode_users`` and
``_encode_items``.
"""

from __future__ import annotations

import contextlib

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from ._version import __version__
from .interactions import (
    canonical_csr,
    check_candidate_items,
    check_item_mask,
    exclusion_mask,
    mask_structure,
    replace_seen_rows,
    warn_if_triples,
)
from .ranking import check_k, hamming_topk, pack_codes, topk_per_segment

# Version of what a pickled estimator holds. Raise it when fitted attributes
# change meaning; __setstate__ refuses newer formats with a clear error and is
# where older ones are migrated.
PERSISTENCE_FORMAT = 2
_VALIDATION_ATTRIBUTES = ("n_features_in_", "feature_names_in_")

__all__ = ["BaseRecommender", "BaseHashRecommender"]


_QUERIES = ("codes", "features")
# What an interaction matrix (X, or an item-side Y) must be, wherever one is validated.
_MATRIX_OPTIONS = dict(accept_sparse=("csr", "csc", "coo"), dtype=[np.float32, np.float64],
                       ensure_all_finite=True, ensure_min_samples=1, ensure_min_features=1)


def _check_query(query) -> bool:
    """Whether ``query`` asks for codes (True) or continuous features (False)."""
    if query not in _QUERIES:
        raise ValueError(f"query must be one of {_QUERIES}, got {query!r}.")
    return query == "codes"


class BaseRecommender(BaseEstimator):
    """Plumbing shared by every recommender, with or without codes.

    Subclasses implement:

    * ``_fit(X) -> dict``: train on the validated CSR matrix ``X`` (float32,
      users x items) and return the fitted attributes. The base class sets
      them only once training has finished, so an interrupted ``fit`` leaves
      no half-fitted model behind.
    * ``_users_query(users)`` and ``_history_query(X)``: what ranks items for
      users seen in ``fit`` and for rows of a history matrix.
    * ``_rank(query, k, exclude, return_distance, items=None)``: the top-k
      among all items, or among the item indices ``items`` (then ``exclude``
      has one column per entry of ``items`` and the result holds positions
      in ``items``);
    * ``_pair_distances(query, rows, items)``: the distance of query row
      ``rows[p]`` to item ``items[p]`` for each pair ``p``, the same quantity
      ``_rank`` orders by (per-user ``candidates`` score only their pairs).
    """

    _parameter_constraints: dict = {}

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the model from an interaction matrix.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Ratings or 0/1 interactions; zero means "no interaction". Any
            non-zero entry, negative ones included, is an interaction and a
            seen item for ``exclude_seen``; a negative value is a low rating
            (never above a non-negative ``relevance_threshold``). NaN, infinity,
            values beyond float32's range, strings and an all-zero matrix are
            refused with a ``ValueError``.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # validate_data records n_features_in_ at once; keep the previous
        # values so that a failed or interrupted fit leaves the estimator as it was.
        previous = {name: self.__dict__[name] for name in _VALIDATION_ATTRIBUTES
                    if name in self.__dict__}
        try:
            warn_if_triples(X)
            X = self._validate_interactions(X, reset=True)
            if X.nnz == 0:
                raise ValueError(
                    f"X has no interactions: all {X.shape[0]} x {X.shape[1]} entries are "
                    f"zero, so {type(self).__name__} has nothing to learn from."
                )
            with self._fit_resources():
                fitted = self._fit(X)
        except BaseException:
            for name in _VALIDATION_ATTRIBUTES:
                self.__dict__.pop(name, None)
            self.__dict__.update(previous)
            raise
        seen = X.copy()
        seen.data = np.ones_like(seen.data, dtype=np.int8)
        fitted["seen_"] = seen
        fitted.update(self._derived_attributes(fitted))
        for name, value in fitted.items():
            setattr(self, name, value)
        return self

    def _derived_attributes(self, fitted: dict) -> dict:
        return {}

    def _fit_resources(self):
        """A context manager around ``_fit``: what the fit may use (threads)."""
        return contextlib.nullcontext()

    def _validate_interactions(self, X, *, reset: bool) -> sp.csr_matrix:
        try:
            if not reset and self._catalogue_grown() and np.shape(X)[-1] == self.seen_.shape[1]:
                # Rows over the catalogue that add_items grew: wider than fit's X.
                X = check_array(X, **_MATRIX_OPTIONS)
            else:
                X = validate_data(self, X, reset=reset, **_MATRIX_OPTIONS)
        except ValueError as exc:
            if "could not convert string" in str(exc):
                # A table of (user, item) ids, most likely: say what to do with it.
                raise ValueError(
                    f"X holds strings ({exc}), but {type(self).__name__} takes a users x "
                    "items matrix of numbers. For a table of (user, item[, rating]) ids, "
                    "build the matrix with sklearn_hashrec.preprocessing.InteractionEncoder, "
                    "or put the encoder first in make_recommender_pipeline."
                ) from None
            if "contains NaN" not in str(exc) and "contains infinity" not in str(exc):
                raise
            # scikit-learn's text goes on to advise classifiers that accept NaN.
            raise ValueError(
                f"X contains NaN or infinity. {type(self).__name__} reads every entry as an "
                "interaction strength, 0 meaning no interaction: replace missing entries "
                "by 0 (or leave them out of a sparse matrix)."
            ) from None
        values = X.data if sp.issparse(X) else X
        if values.size and np.abs(values).max() > np.finfo(np.float32).max:
            raise ValueError(
                f"X has values beyond float32's range (|x| > {np.finfo(np.float32).max:.3g}); "
                "rescale the ratings."
            )
        return canonical_csr(X)

    # --------------------------------------------------------- persistence
    def __getstate__(self):
        # A copy: object.__getstate__ hands back the live __dict__ itself.
        state = dict(super().__getstate__())
        state["_hashrec_format"] = PERSISTENCE_FORMAT
        state["_hashrec_version"] = __version__
        return state

    def __setstate__(self, state):
        saved_format = state.pop("_hashrec_format", None)
        saved_version = state.pop("_hashrec_version", "unknown")
        if saved_format is not None and saved_format > PERSISTENCE_FORMAT:
            raise ValueError(
                f"This {type(self).__name__} was saved by sklearn-hashrec {saved_version} "
                f"(storage format {saved_format}); this is sklearn-hashrec {__version__}, "
                f"which reads formats up to {PERSISTENCE_FORMAT}. Upgrade sklearn-hashrec "
                "to load it, or refit."
            )
        packed = state.get("item_codes_packed_")
        if packed is not None and not packed.T.flags.c_contiguous:
            # Saved row-major by an earlier build: the kernel scans word-major.
            state["item_codes_packed_"] = np.asfortranarray(packed)
        super().__setstate__(state)

    # ------------------------------------------------------------- ranking
    def recommend(self, users, k: int = 10, *, exclude_seen: bool = True, exclude=None,
                  candidates=None, return_distance: bool = False, query: str = "codes"):
        """Top-k items for users seen in ``fit``.

        Parameters
        ----------
        users : int or array-like of int
            Row indices of the training matrix.
        k : int, default=10
            Number of items per user.
        exclude_seen : bool, default=True
            Skip the items each user had in the training matrix.
        exclude : {array-like, sparse matrix} of shape (n_users, n_items), default=None
            More items to skip, row ``j`` for ``users[j]``: every stored entry
            of a sparse matrix (whatever its value), every non-zero of an
            array. Added to the seen items when ``exclude_seen``.
        candidates : array-like of int or {array-like, sparse matrix}, default=None
            Rank only these items. A 1-D array of item indices is one
            candidate set for every user (as implicit's ``items=``); a matrix
            of shape (n_users, n_items) gives each user its own: the stored
            entries (sparse) or non-zeros (array) of row ``j``, for instance
            the held-out items of a "rank the test items" protocol.
            Exclusions still apply within the candidates.
        return_distance : bool, default=False
            Also return the distances: Hamming distances for binary codes,
            ``(n_bits - <u, i>) / 2`` for continuous ones, and for the
            baselines the quantity documented on each class.
        query : {"codes", "features"}, default="codes"
            What stands for the users: their codes, or (asymmetric scoring)
            their continuous features, the encoder's output before the sign
            (CCSR, AECF, DJSRH) or the factors (BinaryMF, CFCodeReg), ranked
            against the packed binary item codes by ``(n_bits - <f, b>) / 2``.
            Items keep their ``n_bits / 8`` bytes; the users' features take
            ``4 * n_bits`` bytes each.

        Returns
        -------
        distances : ndarray of shape (n_users, min(k, n_items)), dtype float64
            Only with ``return_distance=True``. Non-decreasing along each row.
        items : ndarray of shape (n_users, min(k, n_items)), dtype int64
            Item indices, best first; items at equal distance come in
            increasing item index order. When fewer than ``k`` items remain
            for a user, the missing positions hold ``-1`` (distance ``inf``).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_hashrec import PopularityRecommender
        >>> X = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0.0]])
        >>> model = PopularityRecommender().fit(X)
        >>> model.recommend([0], k=2)
        array([[1, 2]])
        >>> model.recommend([0], k=2, candidates=[2, 3])
        array([[2, 3]])
        >>> model.recommend([0], k=2, exclude=np.array([[0, 1, 0, 0]]))
        array([[2, 3]])
        """
        check_is_fitted(self)
        users = self._check_users(users)
        k = check_k(k)
        seen = self.seen_[users] if exclude_seen else None
        by_codes = _check_query(query)
        return self._rank_with_options(
            self._users_query(users) if by_codes else self._user_features(users), len(users),
            k, seen, exclude, candidates, return_distance)

    def recommend_from_history(self, X, k: int = 10, *, exclude_seen: bool = True,
                               exclude=None, candidates=None, return_distance: bool = False,
                               query: str = "codes"):
        """Top-k items for new users, given their interaction rows (fold-in).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users_new, n_items)
            Interaction rows over the items of ``fit``.
        k : int, default=10
            Number of items per user.
        exclude_seen : bool, default=True
            Skip the items each row of ``X`` has.
        exclude : {array-like, sparse matrix} of shape (n_users_new, n_items), default=None
            More items to skip, as in :meth:`recommend`. With
            ``exclude_seen=False`` it replaces the rows of ``X`` as the items
            to skip: the scorers pass the raw history there when a
            ``Pipeline`` transforms ``X`` first.
        candidates : array-like of int or {array-like, sparse matrix}, default=None
            Rank only these items, as in :meth:`recommend`.
        return_distance : bool, default=False
            Also return the distances.
        query : {"codes", "features"}, default="codes"
            Rank by the fold-in codes, or by the fold-in features
            (asymmetric scoring), as in :meth:`recommend`.

        Returns
        -------
        distances : ndarray of shape (n_users_new, min(k, n_items))
            Only with ``return_distance=True``.
        items : ndarray of shape (n_users_new, min(k, n_items)), dtype int64
            As in :meth:`recommend`.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_hashrec import PopularityRecommender
        >>> X = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0.0]])
        >>> model = PopularityRecommender().fit(X)
        >>> model.recommend_from_history(np.array([[0, 1, 0, 0.0]]), k=2)
        array([[0, 2]])
        """
        check_is_fitted(self)
        k = check_k(k)
        by_codes = _check_query(query)
        X = self._validate_interactions(X, reset=False)
        seen = X if exclude_seen else None
        return self._rank_with_options(
            self._history_query(X) if by_codes else self._history_features(X), X.shape[0], k,
            seen, exclude, candidates, return_distance)

    #: The fitted attribute of users' continuous features (``query="features"``), if any.
    _user_features_attribute: str | None = None

    def _user_features(self, users):
        """Continuous features of fitted users, for ``query="features"``."""
        raise self._no_features()

    def _history_features(self, X):
        """Continuous features of users from their rows, for ``query="features"``."""
        raise self._no_features()

    def _no_features(self) -> ValueError:
        return ValueError(f"{type(self).__name__} has no continuous user features; "
                          "query='features' is for CCSR, AECF, DJSRH, BinaryMF and CFCodeReg.")

    def _exclusions(self, n_queries, seen, exclude):
        """The seen items (or None) and ``exclude``, validated, as one CSR mask (or None)."""
        return exclusion_mask(seen, exclude, n_queries, self.seen_.shape[1])

    def _catalogue_grown(self) -> bool:
        """Whether ``add_items`` added items since ``fit``."""
        seen = self.__dict__.get("seen_")
        return seen is not None and seen.shape[1] != self.n_features_in_

    def _rank_with_options(self, query, n_queries, k, seen, exclude, candidates,
                           return_distance):
        """``_rank`` with the union of exclusions, restricted to the candidates."""
        n_items = self.seen_.shape[1]
        excluded = self._exclusions(n_queries, seen, exclude)
        if candidates is None:
            return self._rank(query, k, excluded, return_distance)
        if sp.issparse(candidates) or np.ndim(candidates) == 2:
            allowed = check_item_mask(candidates, n_queries, n_items, "candidates")
            return self._rank_per_user_candidates(query, n_queries, k, excluded, allowed,
                                                  return_distance)
        items = check_candidate_items(candidates, n_items)
        excluded = excluded[:, items] if excluded is not None else None
        result = self._rank(query, k, excluded, return_distance, items=items)
        dist, ranked = result if return_distance else (None, result)
        # Back from positions in the candidate list to item indices; -1 stays.
        ranked = np.where(ranked >= 0, items[np.maximum(ranked, 0)], -1)
        width = min(k, n_items)
        if ranked.shape[1] < width:  # fewer candidates than k: pad to the usual width
            pad = width - ranked.shape[1]
            ranked = np.pad(ranked, ((0, 0), (0, pad)), constant_values=-1)
            if dist is not None:
                dist = np.pad(dist, ((0, 0), (0, pad)), constant_values=np.inf)
        return (dist, ranked) if return_distance else ranked

    def _rank_per_user_candidates(self, query, n_queries, k, excluded, allowed,
                                  return_distance):
        # Only the (user, candidate) pairs are scored, then sorted within each
        # user by (distance, item): the tie rule of the full ranking.
        allowed = mask_structure(allowed)
        if excluded is not None:
            allowed = allowed - allowed.multiply(mask_structure(excluded))
            allowed.eliminate_zeros()
        rows = np.repeat(np.arange(n_queries), np.diff(allowed.indptr))
        items = allowed.indices.astype(np.int64)
        dist = np.asarray(self._pair_distances(query, rows, items), dtype=np.float64)
        out_items, out_dist = topk_per_segment(allowed.indptr, dist, items,
                                               min(k, self.seen_.shape[1]))
        return (out_dist, out_items) if return_distance else out_items

    def _check_users(self, users) -> np.ndarray:
        n_users = self.seen_.shape[0]
        users = np.asarray(users)
        if users.ndim == 0:
            users = users.reshape(1)
        if users.ndim != 1:
            raise ValueError(
                f"users must be an int or a 1-D array of ints, got shape {users.shape}."
            )
        if users.dtype.kind not in "iu":
            if users.size == 0:
                users = users.astype(np.int64)
            else:
                raise TypeError(
                    f"users must be integer row indices, got dtype {users.dtype}. "
                    "For new users, use recommend_from_history."
                )
        if users.size and (users.min() < 0 or users.max() >= n_users):
            bad = users[(users < 0) | (users >= n_users)][0]
            raise ValueError(
                f"user index {bad} is out of range: {type(self).__name__} was fitted on "
                f"{n_users} users (valid indices 0..{n_users - 1}). "
                "For new users, use recommend_from_history."
            )
        return users.astype(np.int64)

    # ------------------------------------------------------------- scoring
    def score(self, X, y=None) -> float:
        """NDCG@10 of the recommendations, as :func:`~sklearn_hashrec.metrics.make_ndcg_scorer`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            With ``y=None``: users' interactions, of which a seeded 20% per user
            is hidden and predicted from the rest. With ``y``: the history.
        y : {array-like, sparse matrix} of shape (n_users, n_items), default=None
            Held-out interactions of the same users.

        Returns
        -------
        score : float
            NDCG@10; relevance is ``value > relevance_threshold`` (the model's
            parameter when it has one, else 0).
        """
        from .metrics import make_ndcg_scorer

        check_is_fitted(self)
        self._validate_interactions(X, reset=False)
        return make_ndcg_scorer(10, relevance_threshold=self._relevance_threshold())(self, X, y)

    def _relevance_threshold(self) -> float:
        """Held-out values above this are relevant (in ``score`` and early stopping)."""
        return 0.0

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = False
        tags.non_deterministic = False
        return tags



class BaseHashRecommender(TransformerMixin, BaseRecommender):
    """Plumbing of the recommenders that learn user and item codes.

    Besides ``_fit`` (whose result includes ``user_codes_`` and
    ``item_codes_``), subclasses implement:

    * ``_encode_users(X) -> codes``: codes of (possibly new) users from their
      rows;
    * ``_encode_items(Y) -> codes``: codes of (possibly new) items from their
      columns, given as rows of ``Y`` (n_items x n_users).

    Ranking. Binary (-1/+1) codes are ranked by exact Hamming distance, on
    packed words (``item_codes_packed_``, stored word-major: its transpose
    is C-contiguous, so no call copies the items); continuous codes (``binarize="tanh"``
    or ``None``) by the relaxed distance ``(n_bits - <u, i>) / 2``, which orders
    items by decreasing inner product.
    """

    def _derived_attributes(self, fitted):
        item_codes = fitted["item_codes_"]
        if item_codes.dtype == np.int8:
            # The engine ranks on packed words; the int8 form stays for users.
            # Word-major storage (Fortran order) is the layout the kernel
            # scans. A row-major copy was transposed on every call: 1.75 ms
            # against 0.28 ms a query at 1M items x 128 bits
            # (benchmarks/bench_single_query.py).
            return {"item_codes_packed_": np.asfortranarray(pack_codes(item_codes))}
        return {}

    def _users_query(self, users):
        return self.user_codes_[users]

    def _history_query(self, X):
        return self._encode_users(self._fit_items(X))

    def _history_features(self, X):
        return self._encode_user_features(self._fit_items(X))

    def _encode_user_features(self, X):
        raise self._no_features()

    def _fit_items(self, X: sp.csr_matrix) -> sp.csr_matrix:
        """The columns of ``fit``'s items: what the user encoder reads, after add_items too."""
        return X[:, :self.n_features_in_] if X.shape[1] != self.n_features_in_ else X

    def _rank(self, query_codes, k, exclude, return_distance, items=None):
        packed_items = getattr(self, "item_codes_packed_", None)
        if packed_items is not None:
            # Codes are packed for the engine; continuous features (query="features")
            # are scored against the packed items as they are (asymmetric).
            packed_items = packed_items if items is None else packed_items[items]
            query = pack_codes(query_codes) if query_codes.dtype == np.int8 else query_codes
            return hamming_topk(query, packed_items, k, exclude=exclude,
                                return_distance=return_distance,
                                n_bits=self.item_codes_.shape[1])
        item_codes = self.item_codes_ if items is None else self.item_codes_[items]
        return hamming_topk(query_codes, item_codes, k, exclude=exclude,
                            return_distance=return_distance)

    def _pair_distances(self, query_codes, rows, items):
        out = np.empty(len(rows), dtype=np.float64)
        n_bits = self.item_codes_.shape[1]
        binary = query_codes.dtype == np.int8 and self.item_codes_.dtype == np.int8
        chunk = max(1, 2**22 // n_bits)  # pairs per step: bounded memory
        for start in range(0, len(rows), chunk):
            q = query_codes[rows[start:start + chunk]]
            i = self.item_codes_[items[start:start + chunk]]
            if binary:
                out[start:start + chunk] = (q != i).sum(axis=1)
            else:
                dot = np.einsum("ij,ij->i", q.astype(np.float64), i.astype(np.float64))
                out[start:start + chunk] = 0.5 * (n_bits - dot)
        return out

    # ------------------------------------------------------------ encoding
    def fit_transform(self, X, y=None):
        """Fit, and return the stored codes of the training users.

        These are the codes :meth:`recommend` ranks with (``user_codes_``),
        not ``fit(X).transform(X)``: a model whose user codes are free
        parameters (``BinaryMF``, ``CFCodeReg``) folds its training rows in
        to other codes (docs/models.md, "Fold-in codes of training users").

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            As in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        codes : ndarray of shape (n_users, n_bits)
            A copy of ``user_codes_``.
        """
        return self.fit(X, y).user_codes_.copy()

    def transform(self, X):
        """Codes of users, from their interaction rows (fold-in for new users).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users_new, n_items)
            Interaction rows, with the items of ``fit``.

        Returns
        -------
        codes : ndarray of shape (n_users_new, n_bits)
            int8 in {-1, +1} for binary codes, float32 for continuous ones.
        """
        check_is_fitted(self)
        X = self._validate_interactions(X, reset=False)
        return self._encode_users(self._fit_items(X))

    def transform_items(self, Y):
        """Codes of items, from their interaction columns (fold-in for new items).

        Parameters
        ----------
        Y : {array-like, sparse matrix} of shape (n_items_new, n_users)
            One row per item: its column of the interaction matrix, over the
            users of ``fit`` (that is, ``X_new_items.T``).

        Returns
        -------
        codes : ndarray of shape (n_items_new, n_bits)
            Same dtype as ``item_codes_``.
        """
        check_is_fitted(self)
        n_users = self.seen_.shape[0]
        Y = self._validate_columns(Y, n_users)
        return self._encode_items(Y)

    def _validate_columns(self, Y, n_users):
        Y = check_array(Y, input_name="Y", **_MATRIX_OPTIONS)
        if Y.shape[1] != n_users:
            raise ValueError(
                f"Y has {Y.shape[1]} columns but {type(self).__name__} was fitted on "
                f"{n_users} users; each row of Y must be an item's column over those users."
            )
        return canonical_csr(Y)

    # ------------------------------------------------------------- updates
    def add_items(self, Y):
        """Add items to the fitted model from their interaction columns, without a refit.

        The new items get fold-in codes (:meth:`transform_items`) and are
        appended after the others: item ``n_items + j`` is column ``j`` of
        ``Y``. Their interactions join the seen-item filter. The codes of
        every user and of every other item stay as they are.

        Parameters
        ----------
        Y : {array-like, sparse matrix} of shape (n_users, n_new_items)
            The new items' columns of the interaction matrix, over the users
            of ``fit`` (the same values as ``X``: ratings or 0/1).

        Returns
        -------
        self : object
            The updated estimator.

        Notes
        -----
        User fold-in (:meth:`transform`, :meth:`recommend_from_history`,
        :meth:`update_users`) reads the columns of ``fit``'s items: rows may
        be given over those or over the grown catalogue, where the new
        items' columns only mark seen items.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_hashrec import BinaryMF
        >>> X = (np.random.default_rng(0).random((40, 12)) < 0.3).astype(float)
        >>> model = BinaryMF(n_bits=8, max_epochs=2, random_state=0).fit(X[:, :10])
        >>> model.add_items(X[:, 10:]).item_codes_.shape
        (12, 8)
        """
        check_is_fitted(self)
        n_users = self.seen_.shape[0]
        Y = canonical_csr(check_array(Y, input_name="Y", **_MATRIX_OPTIONS))
        if Y.shape[0] != n_users:
            raise ValueError(
                f"Y has {Y.shape[0]} rows but {type(self).__name__} was fitted on {n_users} "
                "users; Y holds the new items' columns over those users, (n_users, n_new_items)."
            )
        codes = np.asarray(self._encode_items(canonical_csr(Y.T)), dtype=self.item_codes_.dtype)
        item_codes = np.vstack([self.item_codes_, codes])
        seen = sp.hstack([self.seen_, mask_structure(Y).astype(self.seen_.dtype)], format="csr")
        updates = {"item_codes_": item_codes, "seen_": seen}
        if "item_codes_packed_" in self.__dict__:
            updates["item_codes_packed_"] = np.asfortranarray(
                np.vstack([self.item_codes_packed_, pack_codes(codes)]))
        # Assigned together at the end: a failure above leaves the model as it was.
        self.__dict__.update(updates)
        return self

    def update_users(self, users, X):
        """Give fitted users new histories without a refit: new codes and seen items.

        Each user's code becomes the fold-in code of its row of ``X``
        (:meth:`transform`), its continuous features (``query="features"``)
        the fold-in features of that row, and its seen items the items of
        that row. To
        add interactions, pass each user's whole history with them. The
        codes of every other user and of every item stay as they are, so
        :meth:`recommend` then answers for these users as
        :meth:`recommend_from_history` does for ``X``.

        Parameters
        ----------
        users : array-like of int
            Row indices of users of ``fit``, each at most once.
        X : {array-like, sparse matrix} of shape (len(users), n_items)
            Their whole histories, over the items of ``fit`` or the whole
            catalogue (after :meth:`add_items`).

        Returns
        -------
        self : object
            The updated estimator.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_hashrec import BinaryMF
        >>> X = (np.random.default_rng(0).random((40, 12)) < 0.3).astype(float)
        >>> model = BinaryMF(n_bits=8, max_epochs=2, random_state=0).fit(X)
        >>> history = X[[3]].copy()
        >>> history[0, [0, 1]] = 1
        >>> model.update_users([3], history).seen_[3].indices[:2].tolist()
        [0, 1]
        """
        check_is_fitted(self)
        users = self._check_users(users)
        if len(np.unique(users)) != len(users):
            raise ValueError("users must not repeat: each user gets one new history.")
        X = self._validate_interactions(X, reset=False)
        if X.shape[0] != len(users):
            raise ValueError(f"X has {X.shape[0]} rows for {len(users)} users; give one row "
                             "(the user's whole history) per user.")
        fit_items = self._fit_items(X)
        codes = np.asarray(self._encode_users(fit_items), dtype=self.user_codes_.dtype)
        updates = {}
        features = self._user_features_attribute
        if features is not None and features in self.__dict__:
            # query="features" must rank these users by their new histories too.
            values = getattr(self, features).copy()
            values[users] = self._encode_user_features(fit_items)
            updates[features] = values
        history = self._exclusions(len(users), X, None)
        seen = replace_seen_rows(self.seen_, users, history)
        user_codes = self.user_codes_.copy()
        user_codes[users] = codes
        updates.update({"user_codes_": user_codes, "seen_": seen})
        self.__dict__.update(updates)
        return self

    def to_faiss_index(self, kind: str = "flat", **options):
        """Export the binary item codes to a FAISS binary index.

        For serving at a scale where an exact scan of every item is too slow.
        Needs the optional ``faiss`` extra (``pip install faiss-cpu``). The
        index's dimension is ``64 * ceil(n_bits / 64)``: the packed words'
        padding bits are 0 on both sides, so distances are unchanged. Query it
        with ``pack_codes(model.transform(X)).view(np.uint8)``. FAISS does not
        filter seen items; :meth:`recommend` does.

        Parameters
        ----------
        kind : {"flat", "ivf", "multihash"}, default="flat"
            ``"flat"``: ``IndexBinaryFlat`` (exact); ``"ivf"``:
            ``IndexBinaryIVF`` (inverted lists, approximate); ``"multihash"``:
            ``IndexBinaryMultiHash`` (multi-index hashing, exact within a
            radius). See :func:`sklearn_hashrec.serving.faiss_binary_index`.
        **options
            ``n_lists``, ``n_probe``, ``n_hash``, ``n_flip``,
            ``max_training_points``, ``random_state`` of
            :func:`~sklearn_hashrec.serving.faiss_binary_index`.

        Returns
        -------
        index : faiss.IndexBinary
            Item ``i`` of the model is vector ``i`` of the index.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_hashrec import CCSR
        >>> from sklearn_hashrec.ranking import pack_codes
        >>> X = (np.random.default_rng(0).random((40, 25)) < 0.3).astype(float)
        >>> model = CCSR(n_bits=16, max_epochs=2, random_state=0).fit(X)
        >>> index = model.to_faiss_index("ivf", n_lists=4)  # doctest: +SKIP
        >>> distances, items = index.search(pack_codes(model.user_codes_).view(np.uint8), 5)
        ... # doctest: +SKIP
        """
        from .serving import faiss_binary_index

        check_is_fitted(self)
        packed = getattr(self, "item_codes_packed_", None)
        if packed is None:
            raise ValueError(
                f"{type(self).__name__} has no binary item codes (binarize="
                f"{getattr(self, 'binarize', None)!r}); FAISS binary indexes need -1/+1 codes."
            )
        return faiss_binary_index(packed, self.item_codes_.shape[1], kind, **options)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Codes are int8 (binary) or float32 (continuous), whatever the input dtype.
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = []
        return tags
