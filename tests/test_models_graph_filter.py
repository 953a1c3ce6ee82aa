"""GraphFilter (models/graph_filter.py) against GF-CF's formula written out densely."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_hashrec import CCSR, GraphFilter, RerankRecommender
from sklearn_hashrec.ranking import topk_dense


def gf_cf_scores(X, rank, weight, alpha=0.5):
    """GF-CF's scores from dense numpy and an exact SVD, apart from the package."""
    R = (np.asarray(X) != 0).astype(np.float64)
    du, di = R.sum(axis=1), R.sum(axis=0)
    with np.errstate(divide="ignore"):
        nu = np.where(du > 0, du ** -alpha, 0.0)
        ni = np.where(di > 0, di ** (alpha - 1.0), 0.0)
        ni_inv = np.where(di > 0, di ** (1.0 - alpha), 0.0)
    Rt = nu[:, None] * R * ni[None, :]
    linear = R @ Rt.T @ Rt
    if rank == 0:
        return linear
    V = np.linalg.svd(Rt)[2][:rank].T
    return linear + weight * (R * ni) @ V @ (V.T * ni_inv)


@pytest.mark.parametrize("rank, weight, alpha", [(0, 0.3, 0.5), (5, 0.3, 0.5), (8, 1.0, 0.7)])
def test_scores_are_gf_cf_formula(small_X, rank, weight, alpha):
    # Many power iterations: the randomized SVD's subspace equals the exact one.
    model = GraphFilter(n_components=rank, low_pass_weight=weight, alpha=alpha, n_iter=30,
                        random_state=0).fit(small_X)
    dist, ranked = model.recommend(np.arange(50), k=30, exclude_seen=False,
                                   return_distance=True)
    expected = gf_cf_scores(small_X.toarray(), rank, weight, alpha)
    np.testing.assert_allclose(-dist, np.take_along_axis(expected, ranked, axis=1),
                               rtol=1e-4, atol=1e-5)
    # and the order is by decreasing score, as a brute-force sort gives it
    assert np.all(np.diff(dist, axis=1) >= 0)
    top = np.argsort(-expected, axis=1, kind="stable")[:, :5]
    np.testing.assert_allclose(np.take_along_axis(expected, ranked[:, :5], axis=1),
                               np.take_along_axis(expected, top, axis=1), rtol=1e-4, atol=1e-5)


def test_pair_scores_equal_the_full_scores_in_any_order(small_X):
    model = GraphFilter(n_components=5, random_state=0).fit(small_X)
    full = -model._scores(model.seen_)
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 50, size=400)
    items = rng.integers(0, 30, size=400)
    np.testing.assert_allclose(model._pair_distances(model.seen_, rows, items),
                               full[rows, items], rtol=1e-5, atol=1e-6)
    # per-user candidates go through the pairs; all items as candidates rank as the full list
    every = sp.csr_matrix(np.ones((50, 30)))
    dist, ranked = model.recommend(np.arange(50), k=10, candidates=every, return_distance=True)
    full_dist, full_ranked = model.recommend(np.arange(50), k=10, return_distance=True)
    np.testing.assert_allclose(dist, full_dist, rtol=1e-5, atol=1e-6)
    assert (ranked == full_ranked).mean() > 0.99  # float sums in another order may swap a tie


def test_history_fold_in_equals_the_training_rows_and_ratings_count_as_one(small_X):
    model = GraphFilter(n_components=5, random_state=0).fit(small_X)
    np.testing.assert_array_equal(model.recommend_from_history(small_X[:7], k=8),
                                  model.recommend(np.arange(7), k=8))
    binary = small_X.copy()
    binary.data[:] = 1.0
    other = GraphFilter(n_components=5, random_state=0).fit(binary)
    np.testing.assert_array_equal(other.recommend(np.arange(50), k=8),
                                  model.recommend(np.arange(50), k=8))


def test_empty_items_and_histories_score_zero():
    X = np.zeros((6, 5))
    X[:5, :3] = np.eye(5, 3) + np.eye(5, 3, k=-1)
    X[:, 3] = [1, 1, 0, 0, 0, 0]
    # item 4 and users 4 and 5 have no interactions
    model = GraphFilter(n_components=2, random_state=0).fit(X)
    assert np.isfinite(model.query_factors_).all() and np.isfinite(model.item_factors_).all()
    dist, ranked = model.recommend(np.arange(6), k=5, exclude_seen=False, return_distance=True)
    np.testing.assert_array_equal(dist[ranked == 4], 0.0)  # no term reaches an empty item
    assert (dist[:4] < 0).any(axis=1).all()  # users with a history get positive scores
    dist, ranked = model.recommend([5], k=5, return_distance=True)
    np.testing.assert_array_equal(ranked[0], np.arange(5))  # all zero: index order
    np.testing.assert_array_equal(dist[0], np.zeros(5))


def test_a_rank_beyond_the_matrix_is_refused(small_X):
    with pytest.raises(ValueError, match=r"n_components=31 is larger than the matrix allows.*"
                                         r"n_components <= 30"):
        GraphFilter(n_components=31).fit(small_X)
    with pytest.raises(ValueError, match="alpha"):
        GraphFilter(alpha=1.5).fit(small_X)


def test_same_seed_same_model(small_X):
    a = GraphFilter(n_components=6, random_state=3).fit(small_X)
    b = GraphFilter(n_components=6, random_state=3).fit(small_X)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)


def test_reranks_hamming_candidates_and_teaches_ccsr(small_X):
    reranker = GraphFilter(n_components=5, n_iter=30, random_state=0).fit(small_X)
    codes = CCSR(n_bits=8, hidden_layer_sizes=(16,), max_epochs=2, random_state=0).fit(small_X)
    # Every item a candidate: the two-stage is the filter's own ranking.
    two = RerankRecommender(codes, reranker, n_candidates=30, prefit=True).fit(small_X)
    np.testing.assert_array_equal(two.recommend(np.arange(50), k=5),
                                  reranker.recommend(np.arange(50), k=5))
    # A shortlist: the result is the filter's order of the codes' top-10.
    two = RerankRecommender(codes, reranker, n_candidates=10, prefit=True).fit(small_X)
    shortlist = codes.recommend(np.arange(50), k=10)
    scores = gf_cf_scores(small_X.toarray(), 5, 0.3)
    ranked = two.recommend(np.arange(50), k=5)
    for user in range(50):
        assert set(ranked[user]) <= set(shortlist[user])
    best = np.sort(np.take_along_axis(-scores, shortlist, axis=1), axis=1)[:, :5]
    np.testing.assert_allclose(np.take_along_axis(-scores, ranked, axis=1), best,
                               rtol=1e-4, atol=1e-5)
    student = CCSR(n_bits=8, hidden_layer_sizes=(16,), max_epochs=2, random_state=0,
                   teacher=reranker).fit(small_X)
    assert student.user_codes_.shape == (50, 8)


def test_topk_dense_matches_a_brute_force_sort_with_ties_and_exclusions():
    rng = np.random.default_rng(1)
    dist = rng.integers(0, 6, size=(40, 70)).astype(np.float64)  # many ties
    dist[rng.random(dist.shape) < 0.05] = np.inf  # non-finite: never returned
    exclude = sp.csr_matrix(rng.random(dist.shape) < 0.2)
    for width in (1, 7, 70):
        items, dists = topk_dense(lambda a, b: dist[a:b], 40, 70, width, exclude)
        masked = np.where(exclude.toarray(), np.inf, dist)
        for row in range(40):
            finite = np.flatnonzero(np.isfinite(masked[row]))
            order = finite[np.lexsort((finite, masked[row, finite]))][:width]
            n = len(order)
            np.testing.assert_array_equal(items[row, :n], order)
            np.testing.assert_array_equal(dists[row, :n], masked[row, order])
            assert (items[row, n:] == -1).all() and np.isinf(dists[row, n:]).all()
