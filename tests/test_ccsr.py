import hashlib

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import planted_interactions
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler

from sklearn_hashrec import CCSR
from sklearn_hashrec.metrics import make_ndcg_scorer, make_recall_scorer, ndcg_at_k
from sklearn_hashrec.preprocessing import BinarizeInteractions

FAST = dict(n_bits=16, hidden_layer_sizes=(32,), max_epochs=30, batch_size=64,
            learning_rate=1e-2, random_state=0)


@pytest.fixture(scope="module")
def fitted():
    X, user_group, item_group = planted_interactions()
    return CCSR(**FAST).fit(X), X, user_group, item_group


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


def test_seen_items_are_excluded(fitted):
    model, X, _, _ = fitted
    ranked = model.recommend(np.arange(X.shape[0]), k=20)
    assert not seen_at(X, ranked).any()
    with_seen = model.recommend(np.arange(X.shape[0]), k=20, exclude_seen=False)
    assert seen_at(X, with_seen).any()


def test_return_distance_is_hamming(fitted):
    model, _, _, _ = fitted
    dist, items = model.recommend([0, 3], k=6, return_distance=True)
    manual = (model.user_codes_[[0, 3]][:, None, :] != model.item_codes_[items]).sum(axis=2)
    np.testing.assert_array_equal(dist, manual)
    assert (np.diff(dist, axis=1) >= 0).all()


def test_k_larger_than_catalogue(fitted):
    model, X, _, _ = fitted
    ranked = model.recommend([0], k=10_000)
    n_left = X.shape[1] - X[0].nnz
    assert ranked.shape == (1, X.shape[1])
    assert (ranked[0, :n_left] >= 0).all() and (ranked[0, n_left:] == -1).all()
    assert len(set(ranked[0, :n_left])) == n_left


def test_fold_in_matches_training_users(fitted):
    model, X, _, _ = fitted
    np.testing.assert_array_equal(model.transform(X), model.user_codes_)
    np.testing.assert_array_equal(model.transform_items(X.T), model.item_codes_)
    np.testing.assert_array_equal(
        model.recommend_from_history(X[:7], k=5), model.recommend(np.arange(7), k=5)
    )


def test_fold_in_new_users():
    X, user_group, item_group = planted_interactions(n_users=150, seed=0)
    model = CCSR(**FAST).fit(X[:120])
    X_new, new_groups = X[120:], user_group[120:]  # never seen in fit
    codes = model.transform(X_new)
    assert codes.shape == (30, 16) and set(np.unique(codes)) <= {-1, 1}
    ranked = model.recommend_from_history(X_new, k=5)
    assert (new_groups[:, None] == item_group[ranked]).mean() > 0.8  # chance: 0.25
    assert not seen_at(X_new, ranked).any()


@pytest.mark.parametrize(
    "binarize, dtype", [("sign", np.int8), ("sign_tanh", np.int8), ("tanh", np.float32),
                        (None, np.float32)]
)
def test_binarize_output_types(planted, binarize, dtype):
    X = planted[0]
    model = CCSR(**{**FAST, "max_epochs": 3}, binarize=binarize).fit(X)
    codes = model.transform(X)
    assert codes.dtype == dtype and model.item_codes_.dtype == dtype
    if dtype == np.int8:
        assert set(np.unique(codes)) <= {-1, 1}
    if binarize == "tanh":
        assert np.abs(codes).max() <= 1
    assert model.alpha_ == pytest.approx(1.1 ** 2)


def test_same_random_state_same_codes(planted):
    X = planted[0]
    a = CCSR(**{**FAST, "max_epochs": 4}).fit(X)
    b = CCSR(**{**FAST, "max_epochs": 4}).fit(X)
    c = CCSR(**{**FAST, "max_epochs": 4, "random_state": 1}).fit(X)
    np.testing.assert_array_equal(a.user_codes_, b.user_codes_)
    np.testing.assert_array_equal(a.item_codes_, b.item_codes_)
    assert not np.array_equal(a.item_codes_, c.item_codes_)


def test_dense_and_sparse_input_agree(planted):
    X = planted[0]
    params = {**FAST, "max_epochs": 3}
    np.testing.assert_array_equal(
        CCSR(**params).fit(X).item_codes_, CCSR(**params).fit(X.toarray()).item_codes_
    )


def test_input_is_not_modified(planted):
    X = planted[0].astype(np.float64)
    dense = X.toarray()
    digests = [hashlib.sha256(a.tobytes()).hexdigest() for a in (X.data, X.indices, dense)]
    model = CCSR(**{**FAST, "max_epochs": 2}).fit(X)
    model.fit(dense)
    model.transform(X)
    model.recommend_from_history(dense, k=3)
    model.score(X)
    after = [hashlib.sha256(a.tobytes()).hexdigest() for a in (X.data, X.indices, dense)]
    assert digests == after


def test_early_stopping_keeps_best_epoch(planted):
    X = planted[0]
    model = CCSR(**{**FAST, "max_epochs": 30}, early_stopping=True, n_iter_no_change=2).fit(X)
    scores = model.validation_scores_
    assert 1 <= model.n_epochs_ <= len(scores) <= 30
    assert scores[model.n_epochs_ - 1] == max(scores)


def test_verbose_prints_progress(planted, capsys):
    CCSR(**{**FAST, "max_epochs": 2}, verbose=1).fit(planted[0])
    out = capsys.readouterr().out
    assert "epoch 1/2" in out and "epoch 2/2" in out
    CCSR(**{**FAST, "max_epochs": 2}).fit(planted[0])
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([[1.0, np.nan], [0, 1]]), "NaN"),
        (np.array([[1.0, np.inf], [0, 1]]), "infinity"),
        (np.zeros((0, 5)), "0 sample"),
        (np.zeros((5, 0)), "0 feature"),
        (np.array([1.0, 0.0, 2.0]), "2D array"),
        (np.array([["a", "b"], ["c", "d"]]), "convert|string"),
    ],
)
def test_bad_fit_input(bad, match):
    with pytest.raises(ValueError, match=match):
        CCSR(**FAST).fit(bad)


def test_bad_arguments_after_fit(fitted):
    model, X, _, _ = fitted
    with pytest.raises(ValueError, match="features"):
        model.transform(X[:, :10])
    with pytest.raises(ValueError, match="features"):
        model.recommend_from_history(X[:, :10])
    with pytest.raises(ValueError, match="out of range"):
        model.recommend([X.shape[0]])
    with pytest.raises(ValueError, match="out of range"):
        model.recommend([-1])
    with pytest.raises(TypeError, match="integer"):
        model.recommend([0.5])
    with pytest.raises(ValueError, match="k must be >= 1"):
        model.recommend([0], k=0)
    with pytest.raises(ValueError, match="columns"):
        model.transform_items(X)


@pytest.mark.parametrize("param, value", [("n_bits", 0), ("dropout", 1.0), ("binarize", "round"),
                                          ("learning_rate", -1.0), ("input", "counts")])
def test_bad_parameters_fail_at_fit(planted, param, value):
    with pytest.raises(ValueError, match=param):
        CCSR(**{**FAST, param: value}).fit(planted[0])


def test_unavailable_cuda_is_a_clear_error(planted):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        CCSR(**FAST, device="cuda").fit(planted[0])


GRID = {"n_bits": [8, 16], "lambda_ae": [0.1, 1.0], "dropout": [0.0, 0.2]}


def test_grid_search_multimetric_refit(planted):
    X = planted[0]
    scoring = {"ndcg": make_ndcg_scorer(5), "recall": make_recall_scorer(5)}
    search = GridSearchCV(CCSR(**{**FAST, "max_epochs": 3}), GRID, scoring=scoring,
                          refit="ndcg", cv=3).fit(X)
    results = search.cv_results_
    assert len(results["params"]) == 8
    assert np.all(np.isfinite(results["mean_test_ndcg"]))
    assert np.all((results["mean_test_recall"] >= 0) & (results["mean_test_recall"] <= 1))
    best = np.argmax(results["mean_test_ndcg"])
    assert search.best_params_ == results["params"][best]
    assert search.best_estimator_.n_bits == search.best_params_["n_bits"]
    assert search.best_estimator_.recommend([0], k=3).shape == (1, 3)


def test_grid_search_on_pipeline(planted):
    X = planted[0]
    pipe = make_pipeline(BinarizeInteractions(threshold=3), CCSR(**{**FAST, "max_epochs": 3}))
    grid = {f"ccsr__{name}": values for name, values in GRID.items()}
    scoring = {"ndcg": make_ndcg_scorer(5, relevance_threshold=3),
               "recall": make_recall_scorer(5, relevance_threshold=3)}
    search = GridSearchCV(pipe, grid, scoring=scoring, refit="recall", cv=3).fit(X)
    assert np.all(np.isfinite(search.cv_results_["mean_test_ndcg"]))
    assert search.best_estimator_[-1].n_bits in (8, 16)


def test_sklearn_scaler_in_front(fitted):
    model, X, _, _ = fitted
    pipe = make_pipeline(MaxAbsScaler(), CCSR(**FAST)).fit(X)
    # MaxAbsScaler keeps the sparsity pattern, and CCSR's default input is the
    # 0/1 pattern with relevance > 0, so the pipeline learns the same codes.
    np.testing.assert_array_equal(pipe.transform(X), model.user_codes_)
    assert make_ndcg_scorer(5)(pipe, X) == pytest.approx(make_ndcg_scorer(5)(model, X))


def test_pipeline_scorer_excludes_raw_history(planted):
    # BinarizeInteractions drops ratings <= 3 from the model's input; the scorer
    # must still exclude every item of the raw history.
    X = planted[0]
    pipe = make_pipeline(BinarizeInteractions(threshold=3), CCSR(**FAST)).fit(X)
    final, pre = pipe[-1], pipe[:-1]
    ranked = final.recommend_from_history(pre.transform(X), 10, exclude_seen=False, exclude=X)
    assert not seen_at(X, ranked).any()


def test_score_is_ndcg_at_10(fitted):
    model, X, _, _ = fitted
    assert model.score(X) == pytest.approx(make_ndcg_scorer(10)(model, X))
    assert 0 <= model.score(X) <= 1


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
