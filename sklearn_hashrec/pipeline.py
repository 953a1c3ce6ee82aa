"""Pipelines that recommend: preprocessing steps in front of a recommender."""

from __future__ import annotations

import copy

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import Pipeline, _name_estimators
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from .interactions import canonical_csr, exclusion_mask, mask_structure, replace_seen_rows
from .preprocessing import BinarizeInteractions, InteractionEncoder, _ids, _lookup

__all__ = ["RecommenderPipeline", "make_recommender_pipeline"]


class RecommenderPipeline(Pipeline):
    """A :class:`~sklearn.pipeline.Pipeline` whose last step is a recommender, and that recommends.

    scikit-learn's ``Pipeline`` forwards ``predict`` and ``score`` to its last
    step, but not ``recommend``, and calling ``pipe[-1].recommend_from_history``
    would skip the preprocessing. This subclass (the way scikit-learn extends
    ``Pipeline`` for new final-step methods, as imbalanced-learn does) adds
    :meth:`recommend` and :meth:`recommend_from_history`, which run the
    history through the transformers first, and the updates without a refit
    :meth:`add_items` and :meth:`update_users`.

    Two rules:

    * **Ids in and out.** When the first step is an
      :class:`~sklearn_hashrec.preprocessing.InteractionEncoder`, the pipeline
      speaks its ids: ``fit`` and ``recommend_from_history`` take tables of
      ``(user, item[, rating])`` rows, ``recommend`` takes user ids, and both
      return item ids (``None`` where fewer than ``k`` items were left).
      Otherwise they take and return row and column indices, as the
      recommenders do.
    * **Seen items are the raw history's.** A step such as
      :class:`~sklearn_hashrec.preprocessing.BinarizeInteractions` drops the
      low ratings from what the model sees, but a user who rated an item 1
      has still seen it: the items excluded are those of the history before
      any step but the encoder.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        Transformers, then a recommender of this package.
    memory, verbose
        As in :class:`~sklearn.pipeline.Pipeline`.

    Attributes
    ----------
    raw_seen_ : csr_matrix of shape (n_users, n_items)
        The training history's interactions (1 per stored entry), before the
        steps after the encoder.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_hashrec import PopularityRecommender
    >>> from sklearn_hashrec.pipeline import make_recommender_pipeline
    >>> from sklearn_hashrec.preprocessing import BinarizeInteractions, InteractionEncoder
    >>> log = pd.DataFrame({"user": ["ann", "ann", "bob", "cy", "cy"],
    ...                     "item": ["x", "y", "x", "x", "z"], "stars": [5, 1, 4, 5, 4]})
    >>> pipe = make_recommender_pipeline(
    ...     InteractionEncoder("user", "item", "stars"), BinarizeInteractions(threshold=3),
    ...     PopularityRecommender()).fit(log)
    >>> pipe.recommend(["ann"], k=2).tolist()  # ann's 1-star "y" counts as seen
    [['z', None]]
    """

    def fit(self, X, y=None, **params):
        super().fit(X, y, **params)
        self.raw_seen_ = mask_structure(canonical_csr(self._raw_matrix(X)))
        return self

    def recommend(self, users, k: int = 10, *, exclude_seen: bool = True, exclude=None,
                  candidates=None, return_distance: bool = False):
        """Top-k items for users of ``fit``.

        Parameters
        ----------
        users : array-like
            User ids when the first step is an ``InteractionEncoder``, else
            row indices of the training matrix.
        k : int, default=10
        exclude_seen : bool, default=True
            Skip the items each user had in the raw training history.
        exclude, candidates, return_distance
            As in the recommender's ``recommend``; 1-D ``candidates`` are item
            ids when the first step is an encoder.

        Returns
        -------
        distances : ndarray of shape (n_users, k)
            Only with ``return_distance=True``.
        items : ndarray of shape (n_users, k)
            Item ids (object array, ``None`` for padding) with an encoder,
            else item indices (``-1`` for padding).
        """
        check_is_fitted(self, "raw_seen_")
        encoder = self._encoder()
        rows = encoder.encode_users(users) if encoder is not None else np.atleast_1d(users)
        model = self.steps[-1][1]
        # The raw history stands for the seen items.
        excluded = self._exclusions(len(rows), self.raw_seen_[rows] if exclude_seen else None,
                                    exclude)
        return self._answer(model.recommend(
            rows, k, exclude_seen=False, exclude=excluded,
            candidates=self._candidates(candidates), return_distance=return_distance),
            return_distance)

    def recommend_from_history(self, X, k: int = 10, *, exclude_seen: bool = True,
                               exclude=None, candidates=None, return_distance: bool = False):
        """Top-k items for users given their histories, through the preprocessing steps.

        Parameters
        ----------
        X : table or {array-like, sparse matrix}
            With an encoder first, a table of ``(user, item[, rating])`` rows
            of any users, new ones included; the answer's rows follow the
            sorted user ids (``InteractionEncoder.transform_history(X)[0]``).
            Otherwise a users x items matrix.
        k : int, default=10
        exclude_seen : bool, default=True
            Skip the items of each user's raw history.
        exclude, candidates, return_distance
            As in :meth:`recommend`.

        Returns
        -------
        distances, items
            As in :meth:`recommend`.
        """
        check_is_fitted(self, "raw_seen_")
        encoder = self._encoder()
        raw = encoder.transform_history(X)[1] if encoder is not None else X
        model_input = self._model_input(raw)
        model = self.steps[-1][1]
        raw = canonical_csr(raw)
        excluded = self._exclusions(raw.shape[0], raw if exclude_seen else None, exclude)
        return self._answer(model.recommend_from_history(
            model_input, k, exclude_seen=False, exclude=excluded,
            candidates=self._candidates(candidates), return_distance=return_distance),
            return_distance)

    # ---------------------------------------------------------- updates
    def add_items(self, X):
        """Add items to the fitted pipeline without a refit, as the model's ``add_items``.

        The new items get fold-in codes from their interactions with the users
        of ``fit``, after the preprocessing steps; the codes of every other
        user and item stay as they are. Their interactions join the seen
        items. With an encoder, its catalogue learns the new ids, so
        :meth:`recommend` returns them and histories may name them.

        Parameters
        ----------
        X : table or {array-like, sparse matrix}
            With an encoder first, a table of ``(user, item[, rating])`` rows
            in the columns of ``fit``: interactions of users of ``fit`` with
            items not in the catalogue. The new items follow the others,
            sorted by id. Otherwise the new items' columns, of shape
            ``(n_users, n_new_items)``.

        Returns
        -------
        self : RecommenderPipeline
            The updated pipeline.

        Notes
        -----
        Only the steps that act on each entry alone
        (:class:`~sklearn_hashrec.preprocessing.BinarizeInteractions`) can
        take the new columns; with another step between the encoder and the
        model, refit the pipeline.

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn_hashrec import BinaryMF
        >>> from sklearn_hashrec.pipeline import make_recommender_pipeline
        >>> from sklearn_hashrec.preprocessing import InteractionEncoder
        >>> log = pd.DataFrame({"user": ["ann", "ann", "bob", "bob", "cy"],
        ...                     "item": ["x", "y", "x", "z", "y"]})
        >>> pipe = make_recommender_pipeline(
        ...     InteractionEncoder("user", "item"),
        ...     BinaryMF(n_bits=8, max_epochs=2, random_state=0)).fit(log)
        >>> new = pd.DataFrame({"user": ["bob", "cy"], "item": ["w", "w"]})
        >>> pipe.add_items(new)[0].item_ids_.tolist()
        ['x', 'y', 'z', 'w']
        """
        check_is_fitted(self, "raw_seen_")
        model = self._updatable("add_items")
        encoder = self._encoder()
        grown = None
        if encoder is not None:
            users, items, values = encoder._fields(X, reset=False)
            # A copy learns the ids first: a refusal below leaves the encoder as it was.
            grown = copy.copy(encoder)
            grown._add_items(items)
            raw = grown._matrix(grown.user_ids_, users, items,
                                values)[:, self.raw_seen_.shape[1]:]
        else:
            raw = canonical_csr(check_array(X, accept_sparse="csr", input_name="X",
                                            dtype=[np.float64, np.float32]))
        # The model checks that the columns run over the users of fit.
        model.add_items(self._entrywise(raw, "add_items"))
        if grown is not None:
            encoder.item_ids_, encoder._item_order = grown.item_ids_, grown._item_order
        self.raw_seen_ = sp.hstack([self.raw_seen_, mask_structure(raw)], format="csr")
        return self

    def update_users(self, users, X):
        """Give users of ``fit`` new histories without a refit, as the model's ``update_users``.

        Each user's code becomes the fold-in code of its whole new history,
        after the preprocessing steps, and its seen items that history's
        items; every other code stays as it is.

        Parameters
        ----------
        users : array-like
            User ids of ``fit`` with an encoder first (each at most once),
            else row indices.
        X : table or {array-like, sparse matrix}
            The users' whole histories. With an encoder, a table of
            ``(user, item[, rating])`` rows of these users (a user without
            rows gets an empty history); otherwise one row per user, over
            the items of ``fit`` or the grown catalogue.

        Returns
        -------
        self : RecommenderPipeline
            The updated pipeline.

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn_hashrec import BinaryMF
        >>> from sklearn_hashrec.pipeline import make_recommender_pipeline
        >>> from sklearn_hashrec.preprocessing import InteractionEncoder
        >>> log = pd.DataFrame({"user": ["ann", "ann", "bob", "bob", "cy"],
        ...                     "item": ["x", "y", "x", "z", "y"]})
        >>> pipe = make_recommender_pipeline(
        ...     InteractionEncoder("user", "item"),
        ...     BinaryMF(n_bits=8, max_epochs=2, random_state=0)).fit(log)
        >>> history = pd.DataFrame({"user": ["cy", "cy"], "item": ["y", "z"]})
        >>> pipe.update_users(["cy"], history).recommend(["cy"], k=1).tolist()
        [['x']]
        """
        check_is_fitted(self, "raw_seen_")
        model = self._updatable("update_users")
        encoder = self._encoder()
        if encoder is not None:
            rows = encoder.encode_users(users)
            table_users, table = encoder.transform_history(X)
            wanted = _ids(np.atleast_1d(np.asarray(users, dtype=object)))
            listed = np.isin(table_users, wanted)
            if not listed.all():
                raise ValueError(f"X has rows of users not in users (e.g. "
                                 f"{table_users[~listed][:3].tolist()}).")
            # The table's rows follow the sorted ids; put them in the order of users.
            row_of, found = _lookup(table_users, wanted)
            select = sp.csr_matrix((np.ones(int(found.sum())), (np.flatnonzero(found),
                                                                 row_of[found])),
                                   shape=(len(wanted), len(table_users)))
            raw = canonical_csr(select @ table)
        else:
            rows = np.atleast_1d(users)
            raw = canonical_csr(check_array(X, accept_sparse="csr", input_name="X",
                                            dtype=[np.float64, np.float32]))
        model.update_users(rows, self._model_input(raw))
        self.raw_seen_ = replace_seen_rows(self.raw_seen_, rows,
                                           self._exclusions(len(rows), raw, None))
        return self

    def _updatable(self, action):
        """The final step, if it takes updates without a refit."""
        model = self.steps[-1][1]
        if not hasattr(model, action):
            raise TypeError(f"{type(model).__name__} cannot {action} without a refit: "
                            "updates are for the hashing models; refit the pipeline.")
        return model

    def _model_input(self, raw):
        """A raw history through the steps between the encoder and the model."""
        model = self.steps[-1][1]
        if getattr(model, "_catalogue_grown", lambda: False)():
            # Fitted steps check fit's width; after add_items each acts entry by entry.
            return self._entrywise(raw, "recommend")
        for _, step in self._middle_steps():
            raw = step.transform(raw)
        return raw

    def _entrywise(self, raw, action):
        """``raw`` through the middle steps, each of which must act on each entry alone."""
        middle = self._middle_steps()
        if not middle:
            return raw
        raw = check_array(raw, accept_sparse="csr", dtype=[np.float64, np.float32])
        for name, step in middle:
            if not isinstance(step, BinarizeInteractions):
                raise TypeError(f"{action} on a grown catalogue needs every step between the "
                                "encoder and the model to act on each entry alone "
                                f"(BinarizeInteractions); step {name!r} "
                                f"({type(step).__name__}) may not, so refit the pipeline.")
            raw = step._binarize(raw)
        return raw

    # ---------------------------------------------------------- helpers
    def _exclusions(self, n_queries, seen, exclude):
        """The raw seen items (or None) and ``exclude``, validated, as one CSR mask (or None)."""
        return exclusion_mask(seen, exclude, n_queries, self.raw_seen_.shape[1])

    def _encoder(self) -> InteractionEncoder | None:
        first = self.steps[0][1]
        return first if isinstance(first, InteractionEncoder) else None

    def _middle_steps(self):
        start = 1 if self._encoder() is not None else 0
        return [(name, step) for name, step in self.steps[start:-1]
                if step is not None and step != "passthrough"]

    def _raw_matrix(self, X):
        encoder = self._encoder()
        return encoder.transform(X) if encoder is not None else X

    def _candidates(self, candidates):
        encoder = self._encoder()
        if encoder is None or candidates is None or sp.issparse(candidates):
            return candidates
        array = np.asarray(candidates, dtype=object)
        return encoder.encode_items(array) if array.ndim == 1 else candidates

    def _answer(self, result, return_distance):
        encoder = self._encoder()
        if encoder is None:
            return result
        if return_distance:
            distances, items = result
            return distances, encoder.decode_items(items)
        return encoder.decode_items(result)


def make_recommender_pipeline(*steps, memory=None, verbose: bool = False) -> RecommenderPipeline:
    """A :class:`RecommenderPipeline` with step names from the classes, as ``make_pipeline``.

    Examples
    --------
    >>> from sklearn_hashrec import PopularityRecommender
    >>> from sklearn_hashrec.pipeline import make_recommender_pipeline
    >>> from sklearn_hashrec.preprocessing import BinarizeInteractions
    >>> pipe = make_recommender_pipeline(BinarizeInteractions(3), PopularityRecommender())
    >>> [name for name, _ in pipe.steps]
    ['binarizeinteractions', 'popularityrecommender']
    """
    return RecommenderPipeline(_name_estimators(steps), memory=memory, verbose=verbose)
