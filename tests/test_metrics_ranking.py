"""Plain ranking metrics (metrics/_ranking.py): NDCG@k and Recall@k of ranked lists."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import ndcg_score

from sklearn_hashrec.metrics import ndcg_at_k, recall_at_k


def test_ndcg_hand_computed():
    y_true = sp.csr_matrix(np.array([[1, 0, 0, 1, 0], [0, 0, 0, 0, 0], [0, 1, 0, 0, 0]]))
    ranked = np.array([[3, 1, 0], [0, 1, 2], [0, 2, 4]])
    # user 0: hits at ranks 1 and 3 -> (1 + 1/2) / (1 + 1/log2(3)); user 1 skipped; user 2: 0
    expected = ((1 + 1 / 2) / (1 + 1 / np.log2(3)) + 0.0) / 2
    assert ndcg_at_k(y_true, ranked, 3) == pytest.approx(expected)
    # ideal DCG over min(k, |R_u|): with k=1 a hit at rank 1 is perfect
    assert ndcg_at_k(y_true[[0]], ranked[[0]], 1) == pytest.approx(1.0)


def test_recall_hand_computed():
    y_true = sp.csr_matrix(np.array([[1, 0, 0, 1, 1], [0, 1, 0, 0, 0]]))
    ranked = np.array([[3, 1, 0], [0, 2, 4]])
    assert recall_at_k(y_true, ranked, 3) == pytest.approx((2 / 3 + 0) / 2)
    assert recall_at_k(y_true, ranked, 1) == pytest.approx((1 / 3) / 2)


def test_graded_gain():
    y_true = sp.csr_matrix(np.array([[5.0, 0, 4.0, 1.0]]))
    ranked = np.array([[2, 0, 3]])
    dcg = 4 + 5 / np.log2(3) + 1 / 2
    idcg = 5 + 4 / np.log2(3) + 1 / 2
    assert ndcg_at_k(y_true, ranked, 3, gain="graded") == pytest.approx(dcg / idcg)


def test_empty_slots_count_as_misses():
    y_true = sp.csr_matrix(np.array([[1, 1, 0]]))
    assert ndcg_at_k(y_true, np.array([[-1, 0]]), 2) == pytest.approx(
        (1 / np.log2(3)) / (1 + 1 / np.log2(3)))


@pytest.mark.parametrize("gain", ["binary", "graded"])
def test_agrees_with_sklearn_ndcg_score(gain):
    rng = np.random.default_rng(0)
    n_users, n_items, k = 40, 25, 10
    relevance = (rng.random((n_users, n_items)) < 0.2) * rng.integers(1, 6, (n_users, n_items))
    if gain == "binary":
        relevance = (relevance > 0).astype(float)
    scores = rng.random((n_users, n_items))  # distinct: no ties
    ranked = np.argsort(-scores, axis=1)
    keep = relevance.sum(axis=1) > 0
    expected = ndcg_score(relevance[keep], scores[keep], k=k)
    assert ndcg_at_k(sp.csr_matrix(relevance), ranked, k, gain=gain) == pytest.approx(expected)


def test_no_relevant_user_warns():
    with pytest.warns(UndefinedMetricWarning):
        assert ndcg_at_k(sp.csr_matrix((2, 3)), np.zeros((2, 2), dtype=int), 2) == 0.0


@pytest.mark.parametrize("metric", [ndcg_at_k, recall_at_k])
def test_bad_inputs(metric):
    y_true = sp.csr_matrix(np.eye(3))
    with pytest.raises(ValueError):
        metric(y_true, np.zeros((3, 2), dtype=int), 0)
    with pytest.raises(ValueError, match="fewer than k"):
        metric(y_true, np.zeros((3, 2), dtype=int), 3)
    with pytest.raises(ValueError, match="rows"):
        metric(y_true, np.zeros((2, 2), dtype=int), 2)
    with pytest.raises(ValueError, match="outside"):
        metric(y_true, np.full((3, 2), 7), 2)


