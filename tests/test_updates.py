"""Updates without a refit: new items (add_items) and new histories of users (update_users)."""

import io

import joblib
import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_hashrec.ranking import hamming_distances


@pytest.fixture(scope="module")
def interactions():
    rng = np.random.default_rng(3)
    groups = rng.integers(0, 3, 90)
    item_groups = np.arange(40) % 3
    p = np.where(groups[:, None] == item_groups[None, :], 0.35, 0.04)
    ratings = rng.integers(1, 6, (90, 40)).astype(np.float32)
    return sp.csr_matrix(np.where(rng.random((90, 40)) < p, ratings, 0))


def _brute_force(user_codes, item_codes, seen, k):
    """Top-k by all Hamming distances, seen items masked, ties to the lower index."""
    distances = hamming_distances(user_codes, item_codes).astype(np.float64)
    distances[seen.toarray() > 0] = np.inf
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(distances, order, axis=1), order


def test_add_items_folds_in_new_items_and_keeps_every_other_code(
        quick_model, torch_model_name, interactions):
    old, new = interactions[:, :30], interactions[:, 30:]
    model = quick_model(torch_model_name).fit(old)
    user_codes, item_codes = model.user_codes_.copy(), model.item_codes_.copy()
    folded = model.transform_items(new.T)
    assert model.add_items(new) is model
    np.testing.assert_array_equal(model.user_codes_, user_codes)
    np.testing.assert_array_equal(model.item_codes_[:30], item_codes)
    np.testing.assert_array_equal(model.item_codes_[30:], folded)
    # The engine over the grown catalogue, against every distance computed by hand.
    distances, items = model.recommend(np.arange(90), k=6, return_distance=True)
    expected_distances, expected_items = _brute_force(model.user_codes_, model.item_codes_,
                                                      interactions, 6)
    np.testing.assert_array_equal(distances, expected_distances)
    np.testing.assert_array_equal(items, expected_items)


def test_update_users_answers_as_fold_in_predicts(quick_model, torch_model_name, interactions):
    model = quick_model(torch_model_name).fit(interactions)
    users = np.array([10, 3])
    histories = interactions[users].toarray()
    histories[:, [0, 1, 2]] = 5  # new interactions, on top of the old ones
    expected = model.recommend_from_history(histories, k=5, return_distance=True)
    codes, seen = model.user_codes_.copy(), model.seen_.copy()
    items = model.item_codes_.copy()
    model.update_users(users, histories)
    answered = model.recommend(users, k=5, return_distance=True)
    np.testing.assert_array_equal(answered[0], expected[0])
    np.testing.assert_array_equal(answered[1], expected[1])
    np.testing.assert_array_equal(model.user_codes_[users], model.transform(histories))
    others = np.setdiff1d(np.arange(90), users)
    np.testing.assert_array_equal(model.user_codes_[others], codes[others])
    np.testing.assert_array_equal(model.item_codes_, items)
    assert (model.seen_[others] != seen[others]).nnz == 0
    np.testing.assert_array_equal(model.seen_[users].toarray(), histories > 0)
    assert model.seen_.dtype == seen.dtype and model.seen_.has_canonical_format
    assert not np.isin(answered[1], [0, 1, 2]).any()


@pytest.mark.parametrize("name", ["CCSR", "BinaryMF"])
def test_update_users_refreshes_the_features_of_asymmetric_scoring(
        quick_model, name, interactions):
    # One model per family that keeps features: encoder outputs, and factors.
    model = quick_model(name).fit(interactions)
    users = np.array([4, 50])
    histories = interactions[users].toarray()
    histories[:, [5, 6, 7, 8]] = 5
    expected = model.recommend_from_history(histories, k=5, query="features",
                                            return_distance=True)
    others = np.setdiff1d(np.arange(90), users)
    before = model.recommend(others, k=5, query="features", return_distance=True)
    model.update_users(users, histories)
    answered = model.recommend(users, k=5, query="features", return_distance=True)
    np.testing.assert_allclose(answered[0], expected[0], rtol=1e-6)
    np.testing.assert_array_equal(answered[1], expected[1])
    after = model.recommend(others, k=5, query="features", return_distance=True)
    np.testing.assert_array_equal(after[1], before[1])


def test_an_updated_model_reloads_to_the_same_answers(quick_model, interactions):
    model = quick_model("CCSR").fit(interactions[:, :32])
    model.add_items(interactions[:, 32:])
    history = interactions[[7]].toarray()
    history[0, [33, 5]] = 4
    model.update_users([7], history)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    users = np.arange(90)
    for a, b in zip(model.recommend(users, k=8, return_distance=True),
                    loaded.recommend(users, k=8, return_distance=True), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.seen_.toarray(), model.seen_.toarray())


def test_histories_over_the_grown_catalogue(quick_model, interactions):
    model = quick_model("BinaryMF").fit(interactions[:, :30])
    model.add_items(interactions[:, 30:])
    full = interactions[:5].toarray()
    # The encoder reads fit's items; the new columns only mark seen items.
    np.testing.assert_array_equal(model.transform(full), model.transform(full[:, :30]))
    narrow = model.recommend_from_history(full[:, :30], k=40)
    wide = model.recommend_from_history(full, k=40)
    for row in range(5):
        seen_new = np.flatnonzero(full[row, 30:]) + 30
        assert not np.isin(wide[row], seen_new).any()
        assert np.isin(seen_new, narrow[row]).all()  # not seen in a history over 30 items


def test_bad_updates_are_refused_and_change_nothing(quick_model, interactions):
    model = quick_model("CCSR").fit(interactions)
    state = {name: np.copy(getattr(model, name)) for name in ("user_codes_", "item_codes_")}
    with pytest.raises(ValueError, match="Y has 10 rows but CCSR was fitted on 90 users"):
        model.add_items(np.ones((10, 3)))
    with pytest.raises(ValueError, match="must not repeat"):
        model.update_users([1, 1], interactions[[1, 1]])
    with pytest.raises(ValueError, match="2 rows for 3 users"):
        model.update_users([1, 2, 4], interactions[[1, 2]])
    with pytest.raises(ValueError, match="user index 90"):
        model.update_users([90], interactions[[1]])
    with pytest.raises(ValueError, match="NaN"):
        model.update_users([1], np.full((1, 40), np.nan))
    for name, value in state.items():
        np.testing.assert_array_equal(getattr(model, name), value)
    assert model.seen_.shape == (90, 40)
