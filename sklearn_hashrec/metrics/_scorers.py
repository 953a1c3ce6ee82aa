"""Scorers: the ranking metrics as ``scoring=`` for scikit-learn's model selection."""

from __future__ import annotations

import copy
from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..ranking import check_k
from ._evaluate import USERS_OPTIONS, evaluate
from ._ranking import GAIN_CONSTRAINT, K_CONSTRAINT, ndcg_at_k, recall_at_k

__all__ = ["RecommenderScorer", "make_ndcg_scorer", "make_recall_scorer"]

_SCORER_CONSTRAINTS = {
    "k": K_CONSTRAINT,
    "holdout": [Interval(Real, 0, 1, closed="neither")],
    "relevance_threshold": [Real],
    "random_state": ["random_state"],
    "users": [StrOptions({"auto", *USERS_OPTIONS})],
}


class RecommenderScorer:
    """A top-k ranking scorer usable as ``scoring=`` in ``GridSearchCV``.

    Build it with :func:`make_ndcg_scorer` or :func:`make_recall_scorer`.
    Calling ``scorer(estimator, X, y=None)`` works in two protocols:

    * ``y is None`` (user-fold CV, strong generalisation): for every row of
      ``X`` a seeded fraction ``holdout`` of its interactions is hidden; the
      estimator recommends from the rest, and the hidden entries above
      ``relevance_threshold`` are the truth. The rows are users the model
      has not seen, so they are ranked by fold-in.
    * ``y`` given (the paper's same-users protocol): ``X`` is the history and
      ``y`` (same shape) the held-out matrix of the users of the fit; row
      ``u`` is user ``u`` of the fit, ranked from its stored codes, as
      ``Protocol.evaluate`` and the tables do.
    * ``X`` a table of ids, the estimator a pipeline that starts with an
      :class:`~sklearn_hashrec.preprocessing.InteractionEncoder` (folds from
      :class:`~sklearn_hashrec.model_selection.PerUserKFold`): the rows are
      held-out interactions of the users of the fit, ranked from their
      stored codes with the fit's interactions excluded. Rows naming a user
      or item absent from the fit are left out; when they are most of the
      rows (a table split by user), the scorer raises an error instead.

    ``users="auto"`` picks the ranking each protocol needs; ``"fold_in"`` or
    ``"fitted"`` force one (see :func:`~sklearn_hashrec.metrics.evaluate`).

    Ranking and scoring are :func:`~sklearn_hashrec.metrics.evaluate`'s, the
    one evaluation of the package. The items of the history are excluded
    from the ranking. When the estimator is a
    :class:`~sklearn.pipeline.Pipeline`, its preprocessing steps transform
    the history before the final recommender sees it; exclusion and truth
    use the untransformed matrices.
    """

    def __init__(self, metric, k=10, *, holdout=0.2, relevance_threshold=0.0,
                 random_state=0, metric_kwargs=None, users="auto"):
        self.metric = metric
        self.k = k
        self.holdout = holdout
        self.relevance_threshold = relevance_threshold
        self.random_state = random_state
        self.metric_kwargs = metric_kwargs or {}
        self.users = users

    def __repr__(self):
        users = "" if self.users == "auto" else f", users={self.users!r}"
        return (f"RecommenderScorer({self.metric.__name__}, k={self.k}, "
                f"holdout={self.holdout}, relevance_threshold={self.relevance_threshold}"
                f"{users})")

    def __call__(self, estimator, X, y=None) -> float:
        from ..model_selection import train_test_split_interactions

        encoder = _table_encoder(estimator)
        if encoder is not None:
            return self._score_table(estimator, encoder, X, y)
        try:
            X = check_array(X, accept_sparse="csr", dtype=np.float64, ensure_all_finite=True,
                            ensure_min_samples=1, ensure_min_features=1)
        except ValueError as exc:
            if "could not convert string" not in str(exc):
                raise
            raise ValueError(
                "X holds strings: a table of (user, item[, rating]) ids. Score it with a "
                "pipeline that starts with an InteractionEncoder (make_recommender_pipeline("
                "InteractionEncoder(...), model)) and split it with "
                "sklearn_hashrec.model_selection.PerUserKFold."
            ) from None
        X = sp.csr_matrix(X)
        if y is None:
            if self.users == "fitted":
                raise ValueError(
                    "users='fitted' scores the users the model was fitted on, from the held-out "
                    "matrix y of those users; with y=None the rows of X are users the model "
                    "has not seen. Pass y, or use users='fold_in'."
                )
            history, truth = train_test_split_interactions(
                X, test_size=self.holdout, per_user=True, random_state=self.random_state
            )
        else:
            truth = check_array(y, accept_sparse="csr", dtype=np.float64,
                                ensure_all_finite=True, ensure_2d=False, input_name="y")
            if truth.ndim != 2 or truth.shape != X.shape:
                raise ValueError(
                    "y must be the held-out interaction matrix, with the same shape as X "
                    f"{X.shape}; got shape {truth.shape}."
                )
            history, truth = X, sp.csr_matrix(truth)
        users = self.users if self.users != "auto" else "fold_in" if y is None else "fitted"
        return self._score(estimator, history, truth, users)

    def _score(self, model, history, truth, users) -> float:
        ndcg = self.metric is ndcg_at_k
        scores = evaluate(model, history, truth, ndcg_at=(self.k,) if ndcg else (),
                          recall_at=() if ndcg else (self.k,), users=users,
                          relevance_threshold=self.relevance_threshold,
                          gain=self.metric_kwargs.get("gain", "binary"), tie_aware=False)
        return scores[f"{'NDCG' if ndcg else 'Recall'}@{self.k}"]

    def _score_table(self, pipeline, encoder, table, y) -> float:
        if y is not None:
            raise ValueError("With a table of ids, the held-out interactions are the rows of "
                             "the table passed to the scorer; y must be None.")
        if self.users == "fold_in":
            raise ValueError("The rows of a table are held-out interactions of the users of "
                             "the fit, ranked from their stored codes: users='fold_in' does "
                             "not apply; use 'auto' or 'fitted'.")
        final = pipeline.steps[-1][1]
        lenient = copy.copy(encoder).set_params(handle_unknown="ignore")
        user_ids, rows = lenient.transform_history(table)
        new_users = rows[~np.isin(user_ids, encoder.user_ids_)].nnz / max(rows.nnz, 1)
        if new_users > 0.5:
            # Split by user (KFold on a table sorted by user): scoring the few
            # users that straddle a fold boundary would be a silent wrong answer.
            raise ValueError(
                f"{new_users:.0%} of the table's rows name users absent from the fit, which "
                "has no codes for them: split the table so that each user's interactions "
                "fall on both sides (sklearn_hashrec.model_selection.PerUserKFold), not by "
                "user. For new users, score a matrix with users='fold_in'."
            )
        truth = lenient.transform(table)
        return self._score(final, final.seen_, truth, "fitted")


def _table_encoder(estimator):
    """The fitted InteractionEncoder that starts a pipeline, or None."""
    from ..preprocessing import InteractionEncoder

    if isinstance(estimator, Pipeline) and isinstance(estimator.steps[0][1], InteractionEncoder):
        return estimator.steps[0][1]
    return None


@validate_params({**_SCORER_CONSTRAINTS, "gain": GAIN_CONSTRAINT},
                 prefer_skip_nested_validation=True)
def make_ndcg_scorer(k: int = 10, *, holdout: float = 0.2, relevance_threshold: float = 0.0,
                     gain: str = "binary", random_state=0,
                     users: str = "auto") -> RecommenderScorer:
    """NDCG@k scorer for ``GridSearchCV`` and ``cross_validate``.

    Parameters
    ----------
    k : int, default=10
        Cut-off.
    holdout : float, default=0.2
        With ``y=None``, the fraction of each test user's interactions hidden
        and used as truth.
    relevance_threshold : float, default=0.0
        A held-out entry is relevant when its value is greater than this (use
        3 for MovieLens ratings, as the paper does).
    gain : {"binary", "graded"}, default="binary"
        See :func:`ndcg_at_k`.
    random_state : int, RandomState instance or None, default=0
        Seed of the hidden fraction. Fixed by default so every candidate of a
        grid search is scored on the same hidden entries.
    users : {"auto", "fold_in", "fitted"}, default="auto"
        How the rows of ``X`` are ranked: from their history by fold-in, or
        as the users the model was fitted on, from their stored codes (see
        :func:`~sklearn_hashrec.metrics.evaluate`). ``"auto"``: fold-in when
        ``y`` is None, the fitted users when ``y`` is given or ``X`` is a
        table of ids (see :class:`RecommenderScorer`).

    Returns
    -------
    scorer : RecommenderScorer
        Callable ``scorer(estimator, X, y=None) -> float``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_hashrec import CCSR
    >>> from sklearn_hashrec.metrics import make_ndcg_scorer, make_recall_scorer
    >>> X = (np.random.default_rng(0).random((60, 30)) < 0.3).astype(float)
    >>> search = GridSearchCV(
    ...     CCSR(n_bits=8, max_epochs=2, random_state=0),
    ...     {"n_bits": [4, 8]},
    ...     scoring={"ndcg": make_ndcg_scorer(k=5), "recall": make_recall_scorer(k=5)},
    ...     refit="ndcg", cv=3,
    ... ).fit(X)
    >>> search.best_params_["n_bits"] in (4, 8)
    True
    """
    check_k(k)
    return RecommenderScorer(ndcg_at_k, k, holdout=holdout,
                             relevance_threshold=relevance_threshold,
                             random_state=random_state, metric_kwargs={"gain": gain},
                             users=users)


@validate_params(_SCORER_CONSTRAINTS, prefer_skip_nested_validation=True)
def make_recall_scorer(k: int = 10, *, holdout: float = 0.2, relevance_threshold: float = 0.0,
                       random_state=0, users: str = "auto") -> RecommenderScorer:
    """Recall@k scorer for ``GridSearchCV`` and ``cross_validate``.

    Parameters
    ----------
    k : int, default=10
        Cut-off.
    holdout : float, default=0.2
        With ``y=None``, the fraction of each test user's interactions hidden
        and used as truth.
    relevance_threshold : float, default=0.0
        A held-out entry is relevant when its value is greater than this.
    random_state : int, RandomState instance or None, default=0
        Seed of the hidden fraction.
    users : {"auto", "fold_in", "fitted"}, default="auto"
        How the rows of ``X`` are ranked: from their history by fold-in, or
        as the users the model was fitted on, from their stored codes (see
        :func:`~sklearn_hashrec.metrics.evaluate`). ``"auto"``: fold-in when
        ``y`` is None, the fitted users when ``y`` is given or ``X`` is a
        table of ids (see :class:`RecommenderScorer`).

    Returns
    -------
    scorer : RecommenderScorer
        Callable ``scorer(estimator, X, y=None) -> float``.

    Examples
    --------
    >>> from sklearn_hashrec.metrics import make_recall_scorer
    >>> make_recall_scorer(k=20, relevance_threshold=3)
    RecommenderScorer(recall_at_k, k=20, holdout=0.2, relevance_threshold=3)
    """
    check_k(k)
    return RecommenderScorer(recall_at_k, k, holdout=holdout,
                             relevance_threshold=relevance_threshold,
                             random_state=random_state, users=users)
