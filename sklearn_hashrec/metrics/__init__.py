"""Top-k ranking metrics and the scorers that let ``GridSearchCV`` tune models.

* plain ranking metrics (:func:`ndcg_at_k`, :func:`recall_at_k`) score a
  ranked list of item indices;
* tie-aware metrics (:func:`tie_aware_ndcg_at_k`, :func:`tie_aware_recall_at_k`)
  score binary codes directly, averaging over the random order of items at
  equal Hamming distance;
* :func:`evaluate` ranks items for users from their history and scores the
  ranking: the one evaluation that the scorers, the experiment protocols and
  early stopping share;
* scorers (:func:`make_ndcg_scorer`, :func:`make_recall_scorer`) wrap it as
  ``scoring=`` for scikit-learn's model selection.

All take the held-out truth as a users x items matrix, and every public
function validates its parameters the same way (``validate_params``).
"""

from ._evaluate import CodeRanker, evaluate
from ._ranking import ndcg_at_k, recall_at_k
from ._scorers import RecommenderScorer, make_ndcg_scorer, make_recall_scorer
from ._tie_aware import tie_aware_ndcg_at_k, tie_aware_recall_at_k

__all__ = [
    "ndcg_at_k",
    "recall_at_k",
    "tie_aware_ndcg_at_k",
    "tie_aware_recall_at_k",
    "make_ndcg_scorer",
    "make_recall_scorer",
    "RecommenderScorer",
    "evaluate",
    "CodeRanker",
]
