"""Tie-aware metrics (metrics/_tie_aware.py), against sklearn and enumeration of orders."""

from itertools import permutations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import ndcg_score

from sklearn_hashrec.metrics import tie_aware_ndcg_at_k, tie_aware_recall_at_k


@pytest.mark.parametrize("n_bits", [3, 5])
@pytest.mark.parametrize("gain", ["binary", "graded"])
def test_tie_aware_ndcg_matches_sklearn_on_random_ties(n_bits, gain):
    rng = np.random.default_rng(n_bits)
    users = np.where(rng.random((30, n_bits)) < 0.5, 1, -1)
    items = np.where(rng.random((40, n_bits)) < 0.5, 1, -1)
    relevance = (rng.random((30, 40)) < 0.2) * rng.integers(1, 6, (30, 40))
    if gain == "binary":
        relevance = (relevance > 0).astype(float)
    keep = relevance.sum(axis=1) > 0
    scores = users @ items.T  # -2 x distance + n_bits: ties exactly where distances tie
    expected = ndcg_score(relevance[keep], scores[keep], k=7, ignore_ties=False)
    got = tie_aware_ndcg_at_k(sp.csr_matrix(relevance), users, items, 7, gain=gain)
    assert got == pytest.approx(expected)


def test_tie_aware_recall_by_enumeration():
    users = np.array([[1, 1]])
    items = np.array([[1, 1], [1, -1], [-1, 1], [-1, 1], [-1, -1]])
    y_true = sp.csr_matrix(np.array([[0, 0, 1, 0, 1]]))
    exclude = sp.csr_matrix(np.array([[1, 0, 0, 0, 0]]))
    # Items 1, 2, 3 tie at distance 1; k = 2 takes two of them at random.
    outcomes = [int(2 in order[:2]) for order in permutations([1, 2, 3])]
    expected = np.mean(outcomes) / 2
    got = tie_aware_recall_at_k(y_true, users, items, 2, exclude=exclude)
    assert got == pytest.approx(expected)


def test_tie_aware_metrics_refuse_continuous_codes_and_bad_shapes():
    y_true = sp.csr_matrix(np.eye(2))
    codes = np.array([[1, -1], [-1, 1]])
    with pytest.raises(ValueError, match="binary"):
        tie_aware_ndcg_at_k(y_true, codes * 0.5, codes, 1)
    with pytest.raises(ValueError, match="same number of bits"):
        tie_aware_recall_at_k(y_true, codes, np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match="exclude has shape"):
        tie_aware_recall_at_k(y_true, codes, codes, 1, exclude=sp.csr_matrix((2, 3)))
    with pytest.raises(ValueError, match="gain"):
        tie_aware_ndcg_at_k(y_true, codes, codes, 1, gain="cubic")


def test_tie_aware_with_distinct_distances_is_the_plain_metric():
    from sklearn_hashrec.metrics import ndcg_at_k, recall_at_k

    # One user, 4 bits, items at distances 0..4: no ties, so the order is fixed.
    users = np.ones((1, 4), dtype=int)
    items = np.array([[1, 1, 1, 1], [1, 1, 1, -1], [1, 1, -1, -1], [1, -1, -1, -1],
                      [-1, -1, -1, -1]])
    y_true = sp.csr_matrix(np.array([[0, 1, 0, 1, 0]]))
    ranked = np.array([[0, 1, 2, 3, 4]])
    assert tie_aware_ndcg_at_k(y_true, users, items, 3) == pytest.approx(
        ndcg_at_k(y_true, ranked, 3))
    assert tie_aware_recall_at_k(y_true, users, items, 3) == pytest.approx(
        recall_at_k(y_true, ranked, 3))

