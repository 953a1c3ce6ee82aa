"""Splits of interaction matrices (model_selection.py) and the CV protocols they serve."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import GridSearchCV

from sklearn_hashrec.metrics import make_ndcg_scorer, make_recall_scorer, ndcg_at_k
from sklearn_hashrec.model_selection import train_test_split_interactions


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
