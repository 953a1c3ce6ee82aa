"""One evaluation: rank, then score, the same way for scorers, protocols and early stopping."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..ranking import hamming_topk
from ._ranking import ndcg_at_k, recall_at_k
from ._tie_aware import tie_aware_ndcg_at_k, tie_aware_recall_at_k

__all__ = ["evaluate", "CodeRanker"]

USERS_OPTIONS = ("fitted", "fold_in")


def _cutoffs(value, name):
    values = (value,) if isinstance(value, Integral) else tuple(value)
    if any(isinstance(c, bool) or not isinstance(c, Integral) or c < 1 for c in values):
        raise ValueError(f"{name} must be positive integers, got {value!r}.")
    return tuple(int(c) for c in values)


def split_pipeline(estimator):
    """The final recommender and the transformers in front of it (None if none)."""
    if isinstance(estimator, Pipeline):
        return estimator.steps[-1][1], estimator[:-1]
    return estimator, None


@validate_params(
    {
        "model": [object],
        "history": ["array-like", "sparse matrix"],
        "truth": ["array-like", "sparse matrix"],
        "ndcg_at": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "recall_at": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "users": [StrOptions(set(USERS_OPTIONS))],
        "relevance_threshold": [Real],
        "candidates": [StrOptions({"all", "test"})],
        "gain": [StrOptions({"binary", "graded"})],
        "tie_aware": ["boolean"],
        "query": [StrOptions({"codes", "features"})],
    },
    prefer_skip_nested_validation=True,
)
def evaluate(model, history, truth, *, ndcg_at=10, recall_at=10, users: str = "fitted",
             relevance_threshold: float = 0.0, candidates: str = "all",
             gain: str = "binary", tie_aware: bool = True,
             query: str = "codes") -> dict[str, float]:
    """Rank items for users from their history, and score the ranking on held-out truth.

    The package's one evaluation: the scorers (:func:`make_ndcg_scorer`), the
    experiment protocols (``Protocol.evaluate``) and early stopping all call
    it, so a tuned quantity is the one the tables report.

    Parameters
    ----------
    model : fitted recommender or Pipeline
        Anything with ``recommend`` (``users="fitted"``) or
        ``recommend_from_history`` (``users="fold_in"``); in a
        :class:`~sklearn.pipeline.Pipeline`, the steps before the last
        transform ``history`` for the final recommender.
    history : {array-like, sparse matrix} of shape (n_users, n_items)
        The users' known interactions, excluded from the ranking.
    truth : {array-like, sparse matrix} of shape (n_users, n_items)
        Held-out interactions; entries above ``relevance_threshold`` are relevant.
    ndcg_at, recall_at : int or sequence of int, default=10
        Cut-offs of NDCG and Recall; ``()`` leaves a metric out.
    users : {"fitted", "fold_in"}, default="fitted"
        ``"fitted"``: row ``u`` of ``history`` is user ``u`` of the fit, ranked
        from what the model stored for it (``recommend``: stored codes);
        ``history`` must have one row per fitted user. ``"fold_in"``: the
        rows are (possibly new) users ranked from ``history`` alone
        (``recommend_from_history``: codes by ``transform``). The two differ
        for models whose fold-in codes of a training row differ from the
        stored ones (docs/models.md, "Fold-in").
    relevance_threshold : float, default=0.0
        A held-out entry is relevant when its value is greater than this.
    candidates : {"all", "test"}, default="all"
        Rank every item not in ``history``, or only each user's held-out
        items.
    gain : {"binary", "graded"}, default="binary"
        NDCG's gains: 1 per relevant item, or its held-out value (see
        :func:`ndcg_at_k`).
    tie_aware : bool, default=True
        Also report ``"tie-aware NDCG@k"`` and ``"tie-aware Recall@k"`` (at
        the largest cut-offs) when the model ranks by binary codes and
        ``candidates="all"``: the expectation over the order of items at
        equal Hamming distance, the headline metric for codes.
    query : {"codes", "features"}, default="codes"
        Rank by the users' codes, or by their continuous features against the
        binary item codes (asymmetric scoring; see the models' ``recommend``).
        Feature scores have no ties to average over: no tie-aware values.

    Returns
    -------
    scores : dict of str to float
        ``"NDCG@k"`` and ``"Recall@k"`` per cut-off, then the tie-aware values.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec import PopularityRecommender
    >>> from sklearn_hashrec.metrics import evaluate
    >>> history = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0.0]])
    >>> truth = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1.0]])
    >>> model = PopularityRecommender().fit(history)
    >>> evaluate(model, history, truth, ndcg_at=1, recall_at=(1, 2))
    {'NDCG@1': 0.6666666666666666, 'Recall@1': 0.6666666666666666, 'Recall@2': 1.0}
    """
    ndcg_at, recall_at = _cutoffs(ndcg_at, "ndcg_at"), _cutoffs(recall_at, "recall_at")
    if not ndcg_at + recall_at:
        raise ValueError("Give at least one cut-off in ndcg_at or recall_at.")
    history, truth = _as_csr(history, "history"), _as_csr(truth, "truth")
    if truth.shape != history.shape:
        raise ValueError(f"truth has shape {truth.shape} but history has {history.shape}; "
                         "both are users x items over the same users and items.")
    final, preprocessing = split_pipeline(model)
    k = max(ndcg_at + recall_at)
    relevant = (truth > relevance_threshold).astype(np.float64)
    options = {"k": k, "exclude_seen": False}
    if query != "codes":
        options["query"] = query
        tie_aware = False
    if candidates == "test":
        options["candidates"] = truth
    else:
        options["exclude"] = history
    if users == "fitted":
        n_fitted = _n_fitted_users(final)
        if n_fitted is not None and n_fitted != history.shape[0]:
            raise ValueError(
                f"users='fitted' reads row u of history as user u of the fit, but history has "
                f"{history.shape[0]} rows and the model was fitted on {n_fitted} users. For "
                "other users, use users='fold_in'."
            )
        ranked = final.recommend(np.arange(history.shape[0]), **options)
        query_codes = getattr(final, "user_codes_", None)
    else:
        model_input = preprocessing.transform(history) if preprocessing is not None else history
        ranked = final.recommend_from_history(model_input, **options)
        query_codes = None
        if tie_aware and candidates == "all" and _binary(getattr(final, "item_codes_", None)):
            query_codes = final.transform(model_input)
    gains = truth.multiply(relevant).tocsr() if gain == "graded" else relevant
    scores = {f"NDCG@{c}": ndcg_at_k(gains, ranked, c, gain=gain) for c in ndcg_at}
    scores.update({f"Recall@{c}": recall_at_k(relevant, ranked, c) for c in recall_at})
    item_codes = getattr(final, "item_codes_", None)
    if tie_aware and candidates == "all" and _binary(query_codes) and _binary(item_codes):
        if ndcg_at:
            scores[f"tie-aware NDCG@{max(ndcg_at)}"] = tie_aware_ndcg_at_k(
                relevant, query_codes, item_codes, max(ndcg_at), exclude=history)
        if recall_at:
            scores[f"tie-aware Recall@{max(recall_at)}"] = tie_aware_recall_at_k(
                relevant, query_codes, item_codes, max(recall_at), exclude=history)
    return scores


def _as_csr(matrix, name) -> sp.csr_matrix:
    return sp.csr_matrix(check_array(matrix, accept_sparse="csr", dtype=np.float64,
                                     ensure_all_finite=True, input_name=name,
                                     ensure_min_samples=1, ensure_min_features=1))


def _binary(codes) -> bool:
    return codes is not None and getattr(codes, "dtype", None) == np.int8


def _n_fitted_users(model):
    seen = getattr(model, "seen_", None)
    if seen is not None:
        return seen.shape[0]
    codes = getattr(model, "user_codes_", None)
    return None if codes is None else codes.shape[0]


class CodeRanker:
    """Codes in hand, ranked like a fitted model: what :func:`evaluate` reads mid-training.

    Early stopping scores the codes of networks still in training through
    :func:`evaluate`, the same path as a finished model.

    Parameters
    ----------
    user_codes : ndarray of shape (n_users, n_bits)
    item_codes : ndarray of shape (n_items, n_bits)
        -1/+1 (int8) or continuous codes, as :func:`~sklearn_hashrec.ranking.hamming_topk` takes.
    """

    def __init__(self, user_codes, item_codes):
        self.user_codes_ = user_codes
        self.item_codes_ = item_codes

    def recommend(self, users, k=10, *, exclude_seen=False, exclude=None, candidates=None):
        if exclude_seen or candidates is not None:
            raise ValueError("CodeRanker ranks every item, without a seen-item filter of its "
                             "own; pass exclude.")
        exclude = None if exclude is None else sp.csr_matrix(exclude)[users]
        return hamming_topk(self.user_codes_[users], self.item_codes_, k, exclude=exclude)
