
import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_hashrec.metrics import ndcg_at_k


@pytest.fixture(scope="module")
def fitted(make_planted, learning_model):
    X, user_group, item_group = make_planted()
    return learning_model("CCSR").fit(X), X, user_group, item_group


def brute_force_rank(user_codes, item_codes, seen, k):
    dist = (user_codes[:, None, :] != item_codes[None, :, :]).sum(axis=2).astype(float)
    dist[seen.toarray() != 0] = np.inf
    keys = dist * item_codes.shape[0] + np.arange(item_codes.shape[0])
    return np.argsort(keys, axis=1, kind="stable")[:, :k]


def test_codes_are_binary_and_recommend_matches_brute_force(fitted):
    model, X, _, _ = fitted
    assert model.user_codes_.dtype == np.int8 and model.item_codes_.dtype == np.int8
    assert set(np.unique(model.user_codes_)) <= {-1, 1}
    assert model.user_codes_.shape == (X.shape[0], 16)
    assert model.item_codes_.shape == (X.shape[1], 16)
    users = np.arange(X.shape[0])
    expected = brute_force_rank(model.user_codes_, model.item_codes_, X, 10)
    np.testing.assert_array_equal(model.recommend(users, k=10), expected)


def test_learns_planted_structure(fitted):
    model, X, user_group, item_group = fitted
    same_group = sp.csr_matrix(user_group[:, None] == item_group[None, :]).astype(float)
    unseen_same_group = same_group - same_group.multiply(X != 0)
    ranked = model.recommend(np.arange(X.shape[0]), k=5)
    hit_rate = (user_group[:, None] == item_group[ranked]).mean()
    assert hit_rate > 0.8  # chance is about 0.25
    assert ndcg_at_k(unseen_same_group, ranked, 5) > 0.8
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def seen_at(X, ranked):
    """Whether each recommended item was in the user's row of X."""
    return np.take_along_axis(X.toarray() != 0, ranked, axis=1)


def test_return_distance_is_hamming(fitted):
    model, _, _, _ = fitted
    dist, items = model.recommend([0, 3], k=6, return_distance=True)
    manual = (model.user_codes_[[0, 3]][:, None, :] != model.item_codes_[items]).sum(axis=2)
    np.testing.assert_array_equal(dist, manual)
    assert (np.diff(dist, axis=1) >= 0).all()


def test_fold_in_matches_training_users(fitted):
    model, X, _, _ = fitted
    np.testing.assert_array_equal(model.transform(X), model.user_codes_)
    np.testing.assert_array_equal(model.transform_items(X.T), model.item_codes_)
    np.testing.assert_array_equal(
        model.recommend_from_history(X[:7], k=5), model.recommend(np.arange(7), k=5)
    )


def test_fold_in_new_users(make_planted, learning_model):
    X, user_group, item_group = make_planted(n_users=150, seed=0)
    model = learning_model("CCSR").fit(X[:120])
    X_new, new_groups = X[120:], user_group[120:]  # never seen in fit
    codes = model.transform(X_new)
    assert codes.shape == (30, 16) and set(np.unique(codes)) <= {-1, 1}
    ranked = model.recommend_from_history(X_new, k=5)
    assert (new_groups[:, None] == item_group[ranked]).mean() > 0.8  # chance: 0.25
    assert not seen_at(X_new, ranked).any()


def test_dense_and_sparse_input_agree(planted, quick_model):
    X = planted[0]
    np.testing.assert_array_equal(quick_model("CCSR").fit(X).item_codes_,
                                  quick_model("CCSR").fit(X.toarray()).item_codes_)


def test_error_messages_name_the_problem(fitted):
    model, X, _, _ = fitted
    with pytest.raises(ValueError, match="out of range"):
        model.recommend([X.shape[0]])
    with pytest.raises(TypeError, match="integer"):
        model.recommend([0.5])
    with pytest.raises(ValueError, match="k must be >= 1"):
        model.recommend([0], k=0)
    with pytest.raises(ValueError, match="columns"):
        model.transform_items(X)


@pytest.mark.parametrize("param, value", [("n_bits", 0), ("dropout", 1.0), ("binarize", "round"),
                                          ("learning_rate", -1.0), ("input", "counts"),
                                          ("sign_surrogate", "cosine"),
                                          ("surrogate_width", 0.0)])
def test_bad_parameters_fail_at_fit(planted, quick_model, param, value):
    with pytest.raises(ValueError, match=param):
        quick_model("CCSR", **{param: value}).fit(planted[0])


def test_to_faiss_index_matches_recommend(fitted):
    faiss = pytest.importorskip("faiss")
    from sklearn_hashrec.ranking import pack_codes

    model, X, _, _ = fitted
    index = model.to_faiss_index()
    assert isinstance(index, faiss.IndexBinaryFlat) and index.ntotal == X.shape[1]
    distances, _ = index.search(pack_codes(model.user_codes_).view(np.uint8), 10)
    ours, _ = model.recommend(np.arange(X.shape[0]), k=10, exclude_seen=False,
                              return_distance=True)
    np.testing.assert_array_equal(distances, ours)


def test_packed_item_codes_match_int8(fitted):
    from sklearn_hashrec.ranking import unpack_codes

    model, _, _, _ = fitted
    np.testing.assert_array_equal(unpack_codes(model.item_codes_packed_, 16), model.item_codes_)


@pytest.mark.parametrize("name", ["CCSR", "AECF"])
def test_smooth_sign_surrogates_learn_and_tend_to_the_identity(name, make_planted,
                                                               learning_model):
    # A Gaussian surrogate as wide as the features' range is the identity
    # gradient; a narrow one still learns the planted groups. AECF shares
    # CCSR's straight-through step and its surrogates.
    X, user_group, item_group = make_planted()
    identity = learning_model(name, sign_surrogate="identity").fit(X)
    wide = learning_model(name, sign_surrogate="gaussian", surrogate_width=1e4).fit(X)
    np.testing.assert_array_equal(wide.item_codes_, identity.item_codes_)
    for surrogate in ("tanh", "gaussian"):
        model = learning_model(name, sign_surrogate=surrogate).fit(X)
        ranked = model.recommend(np.arange(X.shape[0]), k=5)
        assert (user_group[:, None] == item_group[ranked]).mean() > 0.8  # chance: 0.25
