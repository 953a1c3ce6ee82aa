"""The plumbing every recommender shares (base.py): validation, ranking options, fit atomicity."""

import hashlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from sklearn_hashrec import CCSR, PopularityRecommender

BAD_FIT_INPUTS = [
    ("nan", lambda X: np.where(X.toarray() > 4, np.nan, X.toarray()), "NaN"),
    ("inf", lambda X: np.where(X.toarray() > 4, np.inf, X.toarray()), "infinity"),
    ("too large for float32", lambda X: X.toarray() * 1e300, "float32"),
    ("no users", lambda X: np.zeros((0, 30)), "0 sample"),
    ("no items", lambda X: np.zeros((5, 0)), "0 feature"),
    ("1-D", lambda X: X.toarray()[0], "2D array"),
    ("strings", lambda X: np.array([["a", "b"], ["c", "d"]]), "convert|string"),
    ("objects", lambda X: np.array([[{}, 1], [2, 3]], dtype=object), "float|dict"),
    ("all zeros", lambda X: np.zeros((5, 4)), "no interactions"),
]


def full_ranking(model, users):
    """Every item for ``users`` with no exclusion: the reference order."""
    return model.recommend(users, k=model.seen_.shape[1], exclude_seen=False)


def seen_at(X, ranked):
    dense = X.toarray() != 0
    filled = ranked >= 0
    return np.take_along_axis(dense, np.where(filled, ranked, 0), axis=1) & filled


@pytest.mark.parametrize("case, make_bad, match", BAD_FIT_INPUTS,
                         ids=[case[0] for case in BAD_FIT_INPUTS])
def test_bad_fit_input_is_a_clear_error(model_name, quick_model, case, make_bad, match, small_X):
    with pytest.raises((ValueError, TypeError), match=match) as error:
        quick_model(model_name).fit(make_bad(small_X))
    # scikit-learn's advice for NaN names classifiers, not what a recommender wants
    assert "HistGradientBoosting" not in str(error.value)


def test_bad_arguments_after_fit(model_name, quick_model, small_X):
    model = quick_model(model_name).fit(small_X)
    with pytest.raises(ValueError, match="features"):
        model.recommend_from_history(small_X[:, :10])
    if hasattr(model, "transform"):
        with pytest.raises(ValueError, match="features"):
            model.transform(small_X[:, :10])
    for users, error in [([50], ValueError), ([-1], ValueError), ([1.5], TypeError),
                         ([[0, 1]], ValueError), (["a"], TypeError), ([True], TypeError)]:
        with pytest.raises(error):
            model.recommend(users)
    for k, error in [(0, ValueError), (-3, ValueError), (2.0, TypeError), (None, TypeError)]:
        with pytest.raises(error):
            model.recommend([0], k=k)
    with pytest.raises(ValueError, match="exclude has shape"):
        model.recommend([0, 1], exclude=np.zeros((1, 30)))
    with pytest.raises(ValueError, match="candidates has shape"):
        model.recommend([0, 1], candidates=sp.csr_matrix((2, 29)))
    with pytest.raises(ValueError, match="out of range"):
        model.recommend([0], candidates=[3, 30])
    with pytest.raises(TypeError, match="integer item indices"):
        model.recommend([0], candidates=[0.5])


def test_seen_items_are_excluded_and_k_beyond_the_catalogue_pads(model_name, quick_model,
                                                                  small_X):
    model = quick_model(model_name).fit(small_X)
    users = np.arange(small_X.shape[0])
    ranked = model.recommend(users, k=10)
    assert not seen_at(small_X, ranked).any()
    dist, ranked = model.recommend(users, k=100, return_distance=True)
    assert ranked.shape == (50, 30)
    n_unseen = 30 - np.diff(small_X.indptr)
    np.testing.assert_array_equal((ranked >= 0).sum(axis=1), n_unseen)
    assert np.all(np.isinf(dist[ranked < 0]))
    assert np.all(np.diff(np.where(np.isinf(dist), 1e9, dist), axis=1) >= 0)


def test_exclude_adds_to_the_seen_items(model_name, quick_model, small_X):
    model = quick_model(model_name).fit(small_X)
    users = np.array([3, 0, 7])
    rng = np.random.default_rng(1)
    extra = sp.csr_matrix(rng.random((3, 30)) < 0.3)
    got = model.recommend(users, k=30, exclude=extra)
    reference = full_ranking(model, users)
    banned = (small_X[users] != 0).toarray() | extra.toarray()
    for row in range(3):
        expected = [i for i in reference[row] if not banned[row, i]]
        np.testing.assert_array_equal(got[row][got[row] >= 0], expected)
    # Without the seen items, exclude alone is what is left out.
    alone = model.recommend(users, k=30, exclude_seen=False, exclude=extra.toarray())
    for row in range(3):
        expected = [i for i in reference[row] if not extra[row, i]]
        np.testing.assert_array_equal(alone[row][alone[row] >= 0], expected)


def test_shared_candidates_rank_a_subset_of_items(model_name, quick_model, small_X):
    model = quick_model(model_name).fit(small_X)
    users = np.arange(10)
    candidates = np.array([25, 3, 9, 3, 17, 0])  # unsorted, with a repeat
    dist, got = model.recommend(users, k=4, exclude_seen=False, candidates=candidates,
                                return_distance=True)
    full_dist, reference = model.recommend(users, k=30, exclude_seen=False,
                                           return_distance=True)
    for row in range(10):
        keep = np.isin(reference[row], candidates)
        np.testing.assert_array_equal(got[row], reference[row][keep][:4])
        np.testing.assert_allclose(dist[row], full_dist[row][keep][:4])
    # Fewer candidates than k: padded to min(k, n_items) with -1 / inf.
    dist, few = model.recommend([0], k=5, exclude_seen=False, candidates=[4, 2],
                                return_distance=True)
    assert few.shape == (1, 5) and sorted(few[0, :2]) == [2, 4]
    assert np.all(few[0, 2:] == -1) and np.all(np.isinf(dist[0, 2:]))


def test_per_user_candidates_and_history_queries(model_name, quick_model, small_X):
    model = quick_model(model_name).fit(small_X)
    rng = np.random.default_rng(2)
    allowed = sp.csr_matrix(rng.random((6, 30)) < 0.4)
    history = small_X[10:16]
    got = model.recommend_from_history(history, k=30, candidates=allowed)
    reference = model.recommend_from_history(history, k=30, exclude_seen=False)
    seen = history.toarray() != 0
    for row in range(6):
        expected = [i for i in reference[row] if allowed[row, i] and not seen[row, i]]
        np.testing.assert_array_equal(got[row][got[row] >= 0], expected)


def test_hash_codes_rank_like_brute_force_hamming(quick_model, small_X):
    model = quick_model("CCSR").fit(small_X)
    users = np.arange(50)
    dist = (model.user_codes_[:, None, :] != model.item_codes_[None, :, :]).sum(axis=2)
    rng = np.random.default_rng(0)
    allowed = rng.random((50, 30)) < 0.5
    keys = np.where(allowed & (small_X.toarray() == 0), dist * 30 + np.arange(30), np.inf)
    expected = np.argsort(keys, axis=1, kind="stable")[:, :5]
    expected = np.where(np.isfinite(np.take_along_axis(keys, expected, axis=1)), expected, -1)
    got = model.recommend(users, k=5, candidates=sp.csr_matrix(allowed))
    np.testing.assert_array_equal(got, expected)


def test_negative_values_are_low_ratings(model_name, quick_model, small_X):
    signed = small_X.copy()
    signed.data = signed.data - 3.0  # ratings 1..5 -> -2..2, zeros from 3 removed below
    signed.eliminate_zeros()
    model = quick_model(model_name).fit(signed)
    assert not seen_at(signed, model.recommend(np.arange(50), k=5)).any()


def test_callers_matrices_are_never_modified(model_name, quick_model, small_X):
    X = small_X.astype(np.float64)
    dense = X.toarray()
    extra = sp.csr_matrix(np.eye(50, 30))

    def digest():
        return [hashlib.sha256(a.tobytes()).hexdigest()
                for a in (X.data, X.indices, X.indptr, dense, extra.data, extra.indices)]

    before = digest()
    model = quick_model(model_name).fit(X)
    model.fit(dense)
    model.recommend_from_history(X, k=3, exclude=extra, candidates=extra)
    model.recommend(np.arange(50), k=3, exclude=extra)
    model.score(X)
    if hasattr(model, "transform"):
        model.transform(dense)
        model.transform_items(X.T)
    assert digest() == before


def test_keyboard_interrupt_leaves_the_model_unfitted(quick_model, small_X, monkeypatch):
    model = quick_model("CCSR")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(CCSR, "_batch_loss", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.fit(small_X)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    assert not hasattr(model, "user_codes_") and not hasattr(model, "n_features_in_")


@pytest.mark.parametrize("name", ["CCSR", "BinaryMF", "Popularity"])
def test_recommend_from_several_threads(name, quick_model, small_X):
    model = quick_model(name).fit(small_X)
    batches = [np.arange(i, 50, 7) for i in range(7)]
    serial = [model.recommend(b, 5) for b in batches]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda b: model.recommend(b, 5), batches * 3))
    for i, result in enumerate(threaded):
        np.testing.assert_array_equal(result, serial[i % 7])


def test_popularity_order_with_candidates_by_hand():
    X = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0.0]])
    model = PopularityRecommender().fit(X)
    np.testing.assert_array_equal(model.recommend([0], k=2), [[1, 2]])
    np.testing.assert_array_equal(model.recommend([0], k=2, candidates=[3, 2]), [[2, 3]])
    np.testing.assert_array_equal(
        model.recommend([2], k=2, exclude_seen=False, candidates=np.array([[0, 0, 1, 1]])),
        [[2, 3]])
