"""Two-stage recommendation: Hamming candidates, re-ranked by a second model."""

from __future__ import annotations

from numbers import Integral

from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from ..base import BaseRecommender
from ..ranking import ranking_to_csr

__all__ = ["RerankRecommender"]


class RerankRecommender(BaseRecommender):
    """Top-``n_candidates`` items of a first recommender, re-ranked by a second.

    The usual way to serve binary codes (CIGAR, CIKM 2019): the Hamming engine
    ranks the whole catalogue cheaply and keeps ``n_candidates`` items per
    user, then a full-precision model (for instance :class:`~sklearn_hashrec.EASE`
    or a continuous CCSR) scores only those. Both stages go through the public
    ranking API (``recommend(..., candidates=)``), so any recommender of the
    package can serve in either.

    It is a meta-estimator in the spirit of :class:`~sklearn.pipeline.Pipeline`:
    ``fit`` fits clones of both (or, with ``prefit=True``, uses the fitted
    estimators as given), and nested parameters such as ``candidates__n_bits``
    work in ``GridSearchCV``.

    Parameters
    ----------
    candidates : estimator
        The first stage: a recommender of the package (e.g. ``CCSR()``).
    reranker : estimator
        The second stage, which orders the candidates (e.g. ``EASE()``).
    n_candidates : int, default=200
        Items the first stage passes on per user.
    prefit : bool, default=False
        Use ``candidates`` and ``reranker`` as they are, already fitted on the
        matrix given to ``fit``, instead of fitting clones.

    Attributes
    ----------
    candidates_ : estimator
        The fitted first stage.
    reranker_ : estimator
        The fitted second stage.
    seen_ : csr_matrix of shape (n_users, n_items)
        The training interactions.
    n_features_in_ : int
        Number of items.

    Notes
    -----
    ``recommend(..., return_distance=True)`` returns the reranker's distances.
    Exclusions (``exclude_seen``, ``exclude``) and ``candidates=`` apply to the
    first stage, so the re-ranked list never holds an excluded item. When fewer
    than ``k`` items survive the first stage, the rest of the row is ``-1``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec import CCSR, EASE, RerankRecommender
    >>> X = (np.random.default_rng(0).random((60, 40)) < 0.2).astype(float)
    >>> model = RerankRecommender(CCSR(n_bits=8, max_epochs=2, random_state=0),
    ...                           EASE(l2_reg=10.0), n_candidates=15).fit(X)
    >>> model.recommend([0, 1], k=5).shape
    (2, 5)
    >>> sorted(model.get_params())[:3]
    ['candidates', 'candidates__alpha_growth', 'candidates__alpha_schedule']
    """

    _parameter_constraints: dict = {
        "candidates": [HasMethods(["fit", "recommend", "recommend_from_history"])],
        "reranker": [HasMethods(["fit", "recommend", "recommend_from_history"])],
        "n_candidates": [Interval(Integral, 1, None, closed="left")],
        "prefit": ["boolean"],
    }

    def __init__(self, candidates, reranker, n_candidates: int = 200, *, prefit: bool = False):
        self.candidates = candidates
        self.reranker = reranker
        self.n_candidates = n_candidates
        self.prefit = prefit

    def _fit(self, X):
        if not self.prefit:
            return {"candidates_": clone(self.candidates).fit(X),
                    "reranker_": clone(self.reranker).fit(X)}
        for name, stage in (("candidates", self.candidates), ("reranker", self.reranker)):
            check_is_fitted(stage)
            if stage.seen_.shape != X.shape:
                raise ValueError(
                    f"prefit=True: {name} was fitted on a {stage.seen_.shape[0]} x "
                    f"{stage.seen_.shape[1]} matrix, but fit got {X.shape[0]} x {X.shape[1]}; "
                    "pass the matrix both stages were fitted on."
                )
        return {"candidates_": self.candidates, "reranker_": self.reranker}

    def _relevance_threshold(self) -> float:
        # The first stage's parameter, read through its public name (0: any value counts).
        return float(getattr(self.candidates_, "relevance_threshold", 0.0))

    def _users_query(self, users):
        return ("users", users)

    def _history_query(self, X):
        return ("history", X)

    def _rank_with_options(self, query, n_queries, k, seen, exclude, candidates,
                           return_distance):
        # Replaces the base class's single-model ranking: both stages rank
        # through their own public recommend, so no _rank of its own.
        kind, value = query
        excluded = self._exclusions(n_queries, seen, exclude)
        first = self._stage(self.candidates_, kind, value, self.n_candidates,
                            exclude=excluded, candidates=candidates)
        shortlist = ranking_to_csr(first, self.seen_.shape[1])
        return self._stage(self.reranker_, kind, value, k, candidates=shortlist,
                           return_distance=return_distance)

    @staticmethod
    def _stage(model, kind, value, k, **options):
        if kind == "users":
            return model.recommend(value, k=k, exclude_seen=False, **options)
        return model.recommend_from_history(value, k=k, exclude_seen=False, **options)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = (self.candidates.__sklearn_tags__().non_deterministic
                                  or self.reranker.__sklearn_tags__().non_deterministic)
        return tags
