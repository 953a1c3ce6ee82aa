"""Splits of interaction matrices (model_selection.py) and the CV protocols they serve."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import GridSearchCV

from sklearn_hashrec.metrics import make_ndcg_scorer, make_recall_scorer, ndcg_at_k
from sklearn_hashrec.model_selection import PerUserKFold, train_test_split_interactions


@pytest.mark.parametrize("per_user", [True, False])
def test_split_is_disjoint_complete_and_seeded(per_user):
    X = sp.random(50, 40, density=0.3, random_state=0, format="csr") * 5
    train, test = train_test_split_interactions(X, 0.2, per_user=per_user, random_state=3)
    assert train.shape == test.shape == X.shape
    assert train.multiply(test).nnz == 0
    np.testing.assert_allclose((train + test).toarray(), X.toarray())
    assert test.nnz == pytest.approx(0.2 * X.nnz, abs=X.shape[0] if per_user else 1)
    again = train_test_split_interactions(X, 0.2, per_user=per_user, random_state=3)
    assert (again[1] != test).nnz == 0
    other = train_test_split_interactions(X, 0.2, per_user=per_user, random_state=4)
    assert (other[1] != test).nnz > 0


def test_per_user_split_holds_out_a_fifth_of_each_user():
    X = sp.random(30, 100, density=0.4, random_state=1, format="csr")
    _, test = train_test_split_interactions(X, 0.2, random_state=0)
    counts = np.diff(X.indptr)
    np.testing.assert_array_equal(np.diff(test.indptr), np.floor(0.2 * counts + 0.5))


@pytest.mark.parametrize("test_size", [0, 1, 1.5, -0.1, "a"])
def test_split_bad_test_size(test_size):
    with pytest.raises(ValueError, match="test_size"):
        train_test_split_interactions(np.eye(3), test_size)


def test_user_fold_cv_with_fold_in(planted, quick_model):
    X = planted[0]
    search = GridSearchCV(quick_model("CCSR"), {"n_bits": [4, 8]}, cv=5,
                          scoring={"ndcg": make_ndcg_scorer(5), "recall": make_recall_scorer(5)},
                          refit="ndcg").fit(X)
    assert np.isfinite(search.cv_results_["mean_test_ndcg"]).all()


def test_same_users_protocol_matches_direct_evaluation(planted, quick_model):
    X = planted[0]
    train, test = train_test_split_interactions(X, 0.2, random_state=0)
    all_rows = np.arange(X.shape[0])
    scorer = make_ndcg_scorer(5)
    search = GridSearchCV(quick_model("CCSR"), {"dropout": [0.0, 0.3]}, scoring=scorer,
                          cv=[(all_rows, all_rows)]).fit(train, test)
    # The fold's score is the held-out NDCG of a model fit on the training part.
    model = quick_model("CCSR", dropout=0.0).fit(train)
    direct = ndcg_at_k(test, model.recommend(all_rows, k=5), 5)
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(direct)


def _as_table(X):
    """Rows (user id, item id, value) with zero-padded string ids: sorted ids keep the order."""
    import pandas as pd

    X = sp.coo_matrix(X)
    return pd.DataFrame({"user": [f"u{r:04d}" for r in X.row],
                         "item": [f"i{c:04d}" for c in X.col], "rating": X.data})


def test_per_user_kfold_spreads_every_user_over_the_folds():
    rng = np.random.default_rng(0)
    users = rng.integers(0, 30, size=400)
    table = np.stack([users, rng.integers(0, 50, size=400)], axis=1)
    folds = list(PerUserKFold(4, random_state=0).split(table))
    assert np.array_equal(np.sort(np.concatenate([test for _, test in folds])), np.arange(400))
    for train, test in folds:
        assert not set(train) & set(test)
        for user in np.unique(users):
            n_user, in_test = (users == user).sum(), (users[test] == user).sum()
            # A user's rows are dealt in turn: floor or ceil of n_u / 4 in each fold.
            assert n_user // 4 <= in_test <= -(-n_user // 4)
    again = [test for _, test in PerUserKFold(4, random_state=0).split(table)]
    assert all(np.array_equal(a, b) for a, b in zip(again, [t for _, t in folds], strict=True))
    with pytest.raises(ValueError, match="n_splits"):
        PerUserKFold(1)


def test_grid_search_over_an_id_pipeline_matches_the_matrix_protocol(planted):
    from sklearn.model_selection import cross_val_score

    from sklearn_hashrec import GraphFilter
    from sklearn_hashrec.pipeline import make_recommender_pipeline
    from sklearn_hashrec.preprocessing import InteractionEncoder

    X = sp.csr_matrix(planted[0])
    table = _as_table(X)
    pipeline = make_recommender_pipeline(
        InteractionEncoder("user", "item", "rating"), GraphFilter(n_components=4, random_state=0))
    cv = PerUserKFold(3, user_col="user", random_state=0)
    scores = cross_val_score(pipeline, table, scoring=make_ndcg_scorer(5), cv=cv,
                             error_score="raise")
    # The same folds as matrices, fitted and ranked without the table path.
    for score, (train_rows, test_rows) in zip(scores, cv.split(table), strict=True):
        coo = sp.coo_matrix(X)
        train = sp.csr_matrix((coo.data[train_rows], (coo.row[train_rows], coo.col[train_rows])),
                              shape=X.shape)
        test = sp.csr_matrix((coo.data[test_rows], (coo.row[test_rows], coo.col[test_rows])),
                             shape=X.shape)
        assert (train.getnnz(axis=0) > 0).all() and (train.getnnz(axis=1) > 0).all()
        model = GraphFilter(n_components=4, random_state=0).fit(train)
        expected = ndcg_at_k(test, model.recommend(np.arange(X.shape[0]), k=5), 5)
        assert score == pytest.approx(expected)
    search = GridSearchCV(pipeline, {"graphfilter__n_components": [2, 4]}, cv=cv,
                          scoring=make_ndcg_scorer(5), error_score="raise").fit(table)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.recommend(["u0000"], k=3).shape == (1, 3)


def test_id_tables_without_their_encoder_or_split_by_user_are_clear_errors(planted):
    from sklearn.model_selection import KFold, cross_val_score

    from sklearn_hashrec import GraphFilter
    from sklearn_hashrec.pipeline import make_recommender_pipeline
    from sklearn_hashrec.preprocessing import InteractionEncoder

    table = _as_table(planted[0])
    pipeline = make_recommender_pipeline(
        InteractionEncoder("user", "item", "rating"), GraphFilter(n_components=4, random_state=0))
    # The table is sorted by user: plain KFold holds out whole users.
    with pytest.raises(ValueError, match="PerUserKFold"):
        cross_val_score(pipeline, table, scoring=make_ndcg_scorer(5), cv=KFold(3),
                        error_score="raise")
    fitted = pipeline.fit(table)
    with pytest.raises(ValueError, match="users='fold_in' does not apply"):
        make_ndcg_scorer(5, users="fold_in")(fitted, table)
    model = GraphFilter(n_components=4, random_state=0).fit(planted[0])
    with pytest.raises(ValueError, match="X holds strings.*InteractionEncoder.*PerUserKFold"):
        make_ndcg_scorer(5)(model, table[["user", "item"]].to_numpy())
