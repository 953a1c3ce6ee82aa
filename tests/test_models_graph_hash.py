"""GraphHash (models/graph_hash.py) against computations written apart from it."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sklearn_hashrec import EASE, GraphFilter, GraphHash
from sklearn_hashrec.metrics import tie_aware_recall_at_k
from sklearn_hashrec.ranking import ranking_to_csr
from sklearn_hashrec.training import make_batch

QUICK = dict(n_bits=8, max_epochs=3, batch_size=16, random_state=0)


def test_the_start_is_the_rank_n_bits_svd_of_the_normalised_graph(small_X):
    model = GraphHash(n_bits=6, n_iter=30, random_state=0)
    X = (small_X != 0).astype(np.float32).tocsr()
    codes = model._build_networks(X)["codes"]
    rows = torch.from_numpy(X.toarray()).to_sparse()
    with torch.no_grad():
        start = (codes.user_features(rows) @ codes.item_features.T).numpy()
    # The best rank-6 approximation of D_u^-1/2 R D_i^-1/2, from numpy's exact SVD.
    R = X.toarray().astype(np.float64)
    du, di = R.sum(axis=1), R.sum(axis=0)
    graph = R / np.sqrt(np.outer(np.maximum(du, 1), np.maximum(di, 1)))
    u, s, vt = np.linalg.svd(graph)
    expected = (u[:, :6] * s[:6]) @ vt[:6]
    # The same matrix up to one positive scale (the start has unit spread).
    scale = (start * expected).sum() / (expected * expected).sum()
    assert scale > 0
    np.testing.assert_allclose(start, scale * expected, atol=1e-4 * np.abs(start).max())


def test_loss_is_listwise_distillation_over_the_unseen_items(small_X):
    model = GraphHash(n_bits=8, distill_items=5, random_state=0)
    X = (small_X != 0).astype(np.float32).tocsr()
    networks = model._build_networks(X)
    users = np.arange(0, 50, 3)
    batch = make_batch(X, X.T.tocsr(), users, np.arange(30), 1.0, torch.device("cpu"),
                       "users", with_block=False)
    loss = float(model._batch_loss(networks, batch).detach())
    # Written out densely: log-softmax of 10/8 <b_u, b_i> over each user's unseen items,
    # the teacher's top 5 weighted 1/log2(rank + 2), normalised.
    codes = networks["codes"]
    with torch.no_grad():
        projection = codes.projection().numpy()
        item_bits = np.where(codes.item_features.numpy() >= 0, 1.0, -1.0)
    R = X.toarray()
    user_bits = np.where(R[users] @ projection >= 0, 1.0, -1.0)
    logits = 10 / 8 * user_bits @ item_bits.T
    logits[R[users] > 0] = -np.inf
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    ranked = codes.teacher.recommend(users, k=5)
    weights = 1 / np.log2(np.arange(5) + 2)
    expected = -(np.take_along_axis(log_softmax, ranked, axis=1) * weights).sum(axis=1)
    np.testing.assert_allclose(loss, (expected / weights.sum()).mean(), rtol=1e-5)


def test_training_moves_the_codes_towards_the_teachers_ranking(make_planted):
    X = make_planted(n_users=200, n_items=120)[0]
    teacher = EASE(l2_reg=10.0).fit(X)
    taught = ranking_to_csr(teacher.recommend(np.arange(200), k=10), 120)

    def agreement(model):
        return tie_aware_recall_at_k(taught, model.user_codes_, model.item_codes_, 10,
                                     exclude=X)

    # Ten taught items: each planted group has about 15 unseen items per user.
    start = GraphHash(n_bits=16, teacher=teacher, distill_items=10, max_epochs=1,
                      learning_rate=1e-6, random_state=0).fit(X)
    trained = GraphHash(n_bits=16, teacher=teacher, distill_items=10, max_epochs=30,
                        batch_size=64, random_state=0).fit(X)
    assert trained.loss_curve_[-1] < trained.loss_curve_[0]
    assert agreement(trained) > agreement(start) + 0.1
    assert trained.teacher_ is teacher  # a fitted teacher of the right shape is used as is


def test_fold_in_gives_the_stored_codes_and_ratings_count_as_one(small_X):
    model = GraphHash(**QUICK).fit(small_X)
    np.testing.assert_array_equal(model.transform(small_X), model.user_codes_)
    ones = small_X.copy()
    ones.data[:] = 1.0
    np.testing.assert_array_equal(model.transform(ones), model.user_codes_)
    np.testing.assert_array_equal(model.recommend_from_history(small_X[:7], k=5),
                                  model.recommend(np.arange(7), k=5))
    # a new user's code: sign of its 0/1 row times the projection, computed densely
    new = (np.random.default_rng(3).random((4, 30)) < 0.3).astype(float)
    expected = np.where(new @ model.user_projection_ >= 0, 1, -1)
    np.testing.assert_array_equal(model.transform(new), expected)


def test_new_items_get_the_majority_of_their_users_codes(small_X):
    model = GraphHash(**QUICK).fit(small_X)
    columns = (np.random.default_rng(4).random((6, 50)) < 0.2).astype(float)
    columns[0] = 0  # no users: every vote is a tie, +1
    got = model.transform_items(columns)
    for item, column in enumerate(columns):
        votes = model.user_codes_[column > 0].astype(int).sum(axis=0)
        np.testing.assert_array_equal(got[item], np.where(votes >= 0, 1, -1))


def test_random_state_reproduces_and_changes_the_codes(small_X):
    a = GraphHash(**QUICK).fit(small_X)
    b = GraphHash(**QUICK).fit(small_X)
    c = GraphHash(**{**QUICK, "random_state": 1}).fit(small_X)
    np.testing.assert_array_equal(a.user_codes_, b.user_codes_)
    np.testing.assert_array_equal(a.item_codes_, b.item_codes_)
    assert not np.array_equal(a.item_codes_, c.item_codes_)


def test_users_with_fewer_unseen_items_than_taught(small_X):
    X = small_X.toarray()
    X[0] = 1.0  # user 0 has seen every item: nothing is taught, nothing breaks
    X[1, :-2] = 1.0  # user 1 has 2 unseen items, fewer than distill_items
    model = GraphHash(**QUICK, distill_items=10).fit(X)
    assert np.isfinite(model.loss_curve_).all()
    ranked = model.recommend([0, 1], k=3)
    np.testing.assert_array_equal(ranked[0], [-1, -1, -1])
    assert sorted(ranked[1, :2]) == [28, 29] and ranked[1, 2] == -1


def test_bad_input_is_refused_clearly(small_X):
    with pytest.raises(ValueError, match="n_bits=40 is larger than the matrix allows"):
        GraphHash(n_bits=40).fit(small_X)
    wrong = GraphFilter(n_components=2).fit(small_X[:20])
    with pytest.raises(ValueError, match="teacher was fitted on a matrix of shape"):
        GraphHash(**QUICK, teacher=wrong).fit(small_X)
    with pytest.raises(ValueError, match="distill_items"):
        GraphHash(distill_items=0).fit(small_X)
    with pytest.raises(ValueError, match="sign_surrogate"):
        GraphHash(sign_surrogate="relu").fit(small_X)


def test_the_caller_matrix_is_left_as_it_was(small_X):
    before = small_X.copy()
    GraphHash(**QUICK).fit(small_X)
    assert (small_X != before).nnz == 0 and small_X.dtype == before.dtype


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_gives_codes_of_the_same_quality(small_X):
    cpu = GraphHash(**QUICK).fit(small_X)
    gpu = GraphHash(**QUICK, device="cuda").fit(small_X)
    assert (cpu.item_codes_ == gpu.item_codes_).mean() > 0.9


def test_sparse_and_dense_input_agree(small_X):
    a = GraphHash(**QUICK).fit(small_X)
    b = GraphHash(**QUICK).fit(sp.csr_matrix(small_X).toarray())
    np.testing.assert_array_equal(a.user_codes_, b.user_codes_)


def test_verbose_reports_the_start_and_every_epoch(small_X, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="sklearn_hashrec"):
        GraphHash(**QUICK, verbose=1).fit(small_X)
    messages = [r.getMessage() for r in caplog.records if r.name == "sklearn_hashrec"]
    assert messages[0].startswith("[GraphHash] spectral start, teacher fitted")
    assert sum("epoch" in m for m in messages) == QUICK["max_epochs"]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="sklearn_hashrec"):
        GraphHash(**QUICK).fit(small_X)
    assert not caplog.records
