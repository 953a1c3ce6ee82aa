"""Asymmetric scoring: users' continuous features against the packed binary item codes."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_hashrec import PopularityRecommender

FEATURE_MODELS = ["AECF", "BinaryMF", "CCSR", "CFCodeReg", "DJSRH"]


@pytest.fixture(scope="module")
def interactions():
    rng = np.random.default_rng(8)
    groups = rng.integers(0, 3, 70)
    p = np.where(groups[:, None] == np.arange(30)[None, :] % 3, 0.35, 0.05)
    return sp.csr_matrix((rng.random((70, 30)) < p).astype(np.float32))


def _brute_force(features, item_codes, seen, k):
    """(n_bits - <f, b>) / 2 in float64 for every pair, seen masked, stable order."""
    n_bits = item_codes.shape[1]
    distances = 0.5 * (n_bits - features.astype(np.float64) @ item_codes.T.astype(np.float64))
    distances[seen.toarray() != 0] = np.inf
    return np.argsort(distances, axis=1, kind="stable")[:, :k], distances


@pytest.mark.parametrize("name", FEATURE_MODELS)
def test_features_rank_the_packed_items(quick_model, name, interactions):
    model = quick_model(name).fit(interactions)
    features = model._user_features(np.arange(70))
    assert features.dtype == np.float32 and features.shape == model.user_codes_.shape
    # The codes are the features' signs (eq. 8: h = 1 where f >= 0).
    if name in ("AECF", "CCSR", "DJSRH"):
        np.testing.assert_array_equal(np.where(features >= 0, 1, -1), model.user_codes_)
    distances, items = model.recommend(np.arange(70), k=6, query="features",
                                       return_distance=True)
    order, brute = _brute_force(features, model.item_codes_, interactions, 6)
    found = np.take_along_axis(brute, items, axis=1)
    # float32 sums against float64: the same items up to rounding-level ties.
    np.testing.assert_allclose(distances, found, rtol=0, atol=1e-4)
    np.testing.assert_allclose(found, np.take_along_axis(brute, order, axis=1), atol=1e-4)
    assert (items == order).mean() > 0.98


def test_history_features_fold_in(quick_model, interactions):
    # CCSR reads 0/1 rows: fold-in of a training row gives its stored features.
    model = quick_model("CCSR").fit(interactions)
    rows = interactions[:9]
    np.testing.assert_allclose(model._history_features(rows), model.user_features_[:9],
                               atol=1e-5)
    np.testing.assert_array_equal(
        model.recommend_from_history(rows, k=5, query="features"),
        model.recommend(np.arange(9), k=5, query="features"))


def test_query_is_validated(quick_model, interactions):
    with pytest.raises(ValueError, match="query must be one of"):
        quick_model("CCSR").fit(interactions).recommend([0], query="float")
    with pytest.raises(ValueError, match="no continuous user features"):
        PopularityRecommender().fit(interactions).recommend([0], query="features")
    with pytest.raises(ValueError, match="no continuous user features"):
        quick_model("GraphHash").fit(interactions).recommend_from_history(
            interactions[:2], query="features")
