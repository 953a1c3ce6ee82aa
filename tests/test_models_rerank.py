"""RerankRecommender (models/rerank.py): two stages through the public ranking API."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sklearn_hashrec import CCSR, EASE, PopularityRecommender, RerankRecommender
from sklearn_hashrec.metrics import make_ndcg_scorer


@pytest.fixture(scope="module")
def stages(small_X, quick_model):
    return quick_model("CCSR").fit(small_X), EASE(l2_reg=5.0).fit(small_X)


def two_stages_by_hand(codes, item_codes, X, weights, n_candidates, k):
    """Brute-force Hamming shortlist, then x.B scores, both with the package's tie rule."""
    seen = X.toarray() != 0
    n_items = X.shape[1]
    dist = (codes[:, None, :] != item_codes[None, :, :]).sum(axis=2).astype(float)
    dist[seen] = np.inf
    shortlist = np.argsort(dist * n_items + np.arange(n_items), axis=1, kind="stable")
    shortlist = shortlist[:, :n_candidates]
    scores = seen.astype(np.float32) @ weights
    out = []
    for user, items in enumerate(shortlist):
        items = items[np.isfinite(dist[user, items])]
        order = np.lexsort((items, -scores[user, items]))
        out.append(items[order][:k])
    return out


def test_ranks_like_the_two_stages_by_hand(stages, small_X):
    ccsr, ease = stages
    model = RerankRecommender(ccsr, ease, n_candidates=8, prefit=True).fit(small_X)
    got = model.recommend(np.arange(50), k=5)
    expected = two_stages_by_hand(ccsr.user_codes_, ccsr.item_codes_, small_X,
                                  ease.item_weights_, 8, 5)
    for row, items in enumerate(expected):
        np.testing.assert_array_equal(got[row, :len(items)], items)
    history = model.recommend_from_history(small_X[:6], k=5)
    np.testing.assert_array_equal(history, got[:6])


def test_fits_clones_unless_prefit(small_X, quick_model):
    first, second = quick_model("CCSR"), EASE()
    model = RerankRecommender(first, second, n_candidates=10).fit(small_X)
    assert model.candidates_ is not first and not hasattr(first, "seen_")
    np.testing.assert_array_equal(model.candidates_.user_codes_,
                                  clone(first).fit(small_X).user_codes_)
    prefit = RerankRecommender(model.candidates_, model.reranker_, prefit=True).fit(small_X)
    assert prefit.candidates_ is model.candidates_
    with pytest.raises(ValueError, match="prefit=True"):
        RerankRecommender(model.candidates_, model.reranker_, prefit=True).fit(small_X[:20])


def test_exclusions_and_short_lists(stages, small_X):
    ccsr, ease = stages
    model = RerankRecommender(ccsr, ease, n_candidates=3, prefit=True).fit(small_X)
    extra = sp.csr_matrix(np.eye(50, 30))
    dist, ranked = model.recommend(np.arange(50), k=6, exclude=extra, return_distance=True)
    assert ranked.shape == (50, 6)
    assert np.all(ranked[:, 3:] == -1) and np.all(np.isinf(dist[:, 3:]))
    banned = (small_X.toarray() != 0) | (extra.toarray() != 0)
    filled = ranked >= 0
    assert not np.take_along_axis(banned, np.where(filled, ranked, 0), axis=1)[filled].any()
    only = model.recommend([0, 1], k=2, exclude_seen=False, candidates=[4, 9, 11])
    assert set(only.ravel()) <= {4, 9, 11}


def test_grid_search_tunes_nested_parameters(small_X, quick_model):
    search = GridSearchCV(
        RerankRecommender(quick_model("CCSR"), PopularityRecommender(), n_candidates=10),
        {"candidates__n_bits": [4, 8], "n_candidates": [5, 10]},
        scoring=make_ndcg_scorer(5), cv=3).fit(small_X)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.candidates_.n_bits == search.best_params_["candidates__n_bits"]


def test_bad_parameters(small_X):
    with pytest.raises(ValueError, match="candidates"):
        RerankRecommender("CCSR", EASE()).fit(small_X)
    with pytest.raises(ValueError, match="n_candidates"):
        RerankRecommender(CCSR(), EASE(), n_candidates=0).fit(small_X)


def test_pickles_with_both_stages(stages, small_X):
    import pickle

    model = RerankRecommender(*stages, n_candidates=8, prefit=True).fit(small_X)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.recommend(np.arange(50), 5),
                                  model.recommend(np.arange(50), 5))


def test_score_reads_the_first_stage_relevance_threshold(quick_model):
    rng = np.random.default_rng(3)
    X = sp.csr_matrix(np.where(rng.random((60, 30)) < 0.3, rng.integers(1, 6, (60, 30)), 0)
                      .astype(np.float32))
    model = RerankRecommender(quick_model("CCSR", relevance_threshold=3), EASE(l2_reg=10.0),
                              n_candidates=20).fit(X)
    assert model.score(X) == make_ndcg_scorer(10, relevance_threshold=3)(model, X)
    assert model.score(X) != make_ndcg_scorer(10)(model, X)
