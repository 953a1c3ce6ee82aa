"""Ranking distillation: a full-precision teacher's top items as soft positives.

A teacher (any fitted recommender of the package, e.g. EASE) ranks the
unseen items of every training user; its top ``n_items`` become soft
positives weighted by rank, ``1 / log2(rank + 2)`` (the DCG discount), so a
student learns what the teacher would recommend, not only what the user had.
This is the idea of BiGeaR's ranking distillation (KDD 2022), on the block
pairs of the shared training loop, as soft labels of a pairwise cross-entropy
(:func:`soft_labels`). A separate term pulling the taught pairs up
(``sum w softplus(-z) / sum w``) measured worse and was dropped
(docs/quality.md).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ..ranking import ranking_to_csr

__all__ = ["fitted_teacher", "soft_labels", "teacher_ranking_weights"]


def fitted_teacher(teacher, X: sp.csr_matrix):
    """``teacher`` if it is fitted on a matrix of ``X``'s shape, else a clone fitted on ``X``."""
    try:
        check_is_fitted(teacher)
    except NotFittedError:
        return clone(teacher).fit(X)
    if getattr(teacher, "seen_", None) is None or teacher.seen_.shape != X.shape:
        shape = getattr(getattr(teacher, "seen_", None), "shape", None)
        raise ValueError(
            f"The teacher was fitted on a matrix of shape {shape}, but the model is fitted "
            f"on {X.shape}; pass an unfitted teacher to fit it on the same data."
        )
    return teacher


def teacher_ranking_weights(teacher, n_users: int, n_items_taught: int) -> sp.csr_matrix:
    """Users x items CSR: ``1 / log2(rank + 2)`` at each user's top items of the teacher."""
    ranked = teacher.recommend(np.arange(n_users), k=n_items_taught)
    discounts = (1.0 / np.log2(np.arange(ranked.shape[1]) + 2.0)).astype(np.float32)
    return ranking_to_csr(ranked, teacher.seen_.shape[1], discounts)


def soft_labels(labels: torch.Tensor, weights: torch.Tensor, strength: float) -> torch.Tensor:
    """``max(labels, strength * weights)``: taught pairs become soft positives in [0, 1]."""
    return torch.maximum(labels, (strength * weights).clamp(max=1.0))
