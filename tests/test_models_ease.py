"""EASE (models/ease.py): the closed form against per-item ridge regressions."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_hashrec import EASE


def test_weights_solve_each_items_ridge_regression(small_X):
    # diag(B) = 0 decouples EASE into one ridge regression per item: column j of
    # B regresses x_j on the other items' columns.
    X = (small_X.toarray() != 0).astype(float)
    l2 = 3.0
    B = EASE(l2_reg=l2).fit(small_X).item_weights_
    for j in [0, 7, 29]:
        others = np.delete(np.arange(X.shape[1]), j)
        A = X[:, others]
        expected = np.linalg.solve(A.T @ A + l2 * np.eye(len(others)), A.T @ X[:, j])
        np.testing.assert_allclose(B[others, j], expected, rtol=1e-4, atol=1e-6)
        assert B[j, j] == 0


def test_scores_rank_unseen_items_by_x_times_b(small_X):
    model = EASE(l2_reg=5.0).fit(small_X)
    X = (small_X.toarray() != 0).astype(np.float32)
    scores = X @ model.item_weights_
    scores[X != 0] = -np.inf
    expected = np.lexsort((np.tile(np.arange(30), (50, 1)), -scores), axis=1)[:, :5]
    np.testing.assert_array_equal(model.recommend(np.arange(50), k=5), expected)
    dist, _ = model.recommend([3], k=5, return_distance=True)
    np.testing.assert_allclose(dist[0], np.sort(-scores[3])[:5], rtol=1e-6)


def test_ratings_count_as_interactions_and_history_folds_in(small_X):
    binary = small_X.copy()
    binary.data[:] = 1.0
    a, b = EASE().fit(small_X), EASE().fit(binary)
    np.testing.assert_array_equal(a.item_weights_, b.item_weights_)
    np.testing.assert_array_equal(a.recommend_from_history(small_X[:4], k=6),
                                  a.recommend(np.arange(4), k=6))
    assert not hasattr(a, "transform")


def test_candidate_pairs_score_like_the_full_ranking(small_X):
    model = EASE(l2_reg=2.0).fit(small_X)
    full_dist, full = model.recommend(np.arange(50), k=30, exclude_seen=False,
                                      return_distance=True)
    every = sp.csr_matrix(np.ones((50, 30)))
    dist, ranked = model.recommend(np.arange(50), k=30, exclude_seen=False, candidates=every,
                                   return_distance=True)
    np.testing.assert_array_equal(ranked, full)
    np.testing.assert_array_equal(dist, full_dist)


def test_pairs_in_any_order_score_like_the_full_product(small_X):
    # The pair kernel groups runs of one user; shuffled pairs are runs of one.
    model = EASE(l2_reg=2.0).fit(small_X)
    query = sp.csr_matrix(small_X[:20], dtype=np.float32)
    rng = np.random.default_rng(0)
    rows, items = rng.integers(0, 20, 300), rng.integers(0, small_X.shape[1], 300)
    full = -np.asarray(query @ model.item_weights_).astype(np.float64)
    np.testing.assert_array_equal(model._pair_distances(query, rows, items), full[rows, items])
    for order in (np.argsort(rows, kind="stable"), np.arange(0)):
        np.testing.assert_array_equal(
            model._pair_distances(query, rows[order], items[order]), full[rows, items][order])


@pytest.mark.parametrize("l2_reg", [0, -1.0, "a"])
def test_bad_l2_reg(l2_reg, small_X):
    with pytest.raises(ValueError, match="l2_reg"):
        EASE(l2_reg=l2_reg).fit(small_X)
