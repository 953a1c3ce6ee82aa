"""Pipelines that recommend: preprocessing steps in front of a recommender."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import Pipeline, _name_estimators
from sklearn.utils.validation import check_is_fitted

from .interactions import canonical_csr, exclusion_mask, mask_structure
from .preprocessing import InteractionEncoder

__all__ = ["RecommenderPipeline", "make_recommender_pipeline"]


class RecommenderPipeline(Pipeline):
    """A :class:`~sklearn.pipeline.Pipeline` whose last step is a recommender, and that recommends.

    scikit-learn's ``Pipeline`` forwards ``predict`` and ``score`` to its last
    step, but not ``recommend``, and calling ``pipe[-1].recommend_from_history``
    would skip the preprocessing. This subclass (the way scikit-learn extends
    ``Pipeline`` for new final-step methods, as imbalanced-learn does) adds
    :meth:`recommend` and :meth:`recommend_from_history`, which run the
    history through the transformers first.

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
        model_input = raw
        for _, step in self._middle_steps():
            model_input = step.transform(model_input)
        model = self.steps[-1][1]
        raw = canonical_csr(raw)
        excluded = self._exclusions(raw.shape[0], raw if exclude_seen else None, exclude)
        return self._answer(model.recommend_from_history(
            model_input, k, exclude_seen=False, exclude=excluded,
            candidates=self._candidates(candidates), return_distance=return_distance),
            return_distance)

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
