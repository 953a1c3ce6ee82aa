"""Scorers (metrics/_scorers.py): the metrics as ``scoring=`` for model selection."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import ndcg_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler

from sklearn_hashrec.metrics import (
    make_ndcg_scorer,
    make_recall_scorer,
    tie_aware_ndcg_at_k,
    tie_aware_recall_at_k,
)
from sklearn_hashrec.model_selection import train_test_split_interactions
from sklearn_hashrec.preprocessing import BinarizeInteractions

FAST = dict(n_bits=16, max_epochs=3, batch_size=64, learning_rate=1e-2)


GRID = {"n_bits": [8, 16], "lambda_ae": [0.1, 1.0], "dropout": [0.0, 0.2]}


def test_grid_search_multimetric_refit(planted, quick_model):
    X = planted[0]
    scoring = {"ndcg": make_ndcg_scorer(5), "recall": make_recall_scorer(5)}
    search = GridSearchCV(quick_model("CCSR", **FAST), GRID, scoring=scoring,
                          refit="ndcg", cv=3).fit(X)
    results = search.cv_results_
    assert len(results["params"]) == 8
    assert np.all(np.isfinite(results["mean_test_ndcg"]))
    assert np.all((results["mean_test_recall"] >= 0) & (results["mean_test_recall"] <= 1))
    best = np.argmax(results["mean_test_ndcg"])
    assert search.best_params_ == results["params"][best]
    assert search.best_estimator_.n_bits == search.best_params_["n_bits"]
    assert search.best_estimator_.recommend([0], k=3).shape == (1, 3)


def test_grid_search_on_pipeline(planted, quick_model):
    X = planted[0]
    pipe = make_pipeline(BinarizeInteractions(threshold=3), quick_model("CCSR", **FAST))
    grid = {f"ccsr__{name}": values for name, values in GRID.items()}
    scoring = {"ndcg": make_ndcg_scorer(5, relevance_threshold=3),
               "recall": make_recall_scorer(5, relevance_threshold=3)}
    search = GridSearchCV(pipe, grid, scoring=scoring, refit="recall", cv=3).fit(X)
    assert np.all(np.isfinite(search.cv_results_["mean_test_ndcg"]))
    assert search.best_estimator_[-1].n_bits in (8, 16)


def test_sklearn_scaler_in_front(planted, quick_model):
    X = planted[0]
    model = quick_model("CCSR", **FAST).fit(X)
    pipe = make_pipeline(MaxAbsScaler(), quick_model("CCSR", **FAST)).fit(X)
    # MaxAbsScaler keeps the sparsity pattern, and CCSR's default input is the
    # 0/1 pattern with relevance > 0, so the pipeline learns the same codes.
    np.testing.assert_array_equal(pipe.transform(X), model.user_codes_)
    assert make_ndcg_scorer(5)(pipe, X) == pytest.approx(make_ndcg_scorer(5)(model, X))


def test_pipeline_scorer_excludes_the_raw_history(planted, quick_model):
    # BinarizeInteractions drops ratings <= 3 from the model's input; the scorer
    # must still exclude every item of the raw history. Independent: brute-force
    # Hamming ranking of the codes, raw history excluded, scored by sklearn.
    X = planted[0]
    history, held_out = train_test_split_interactions(X, 0.3, random_state=1)
    pipe = make_pipeline(BinarizeInteractions(threshold=3),
                         quick_model("CCSR", **FAST)).fit(history)
    final = pipe[-1]
    codes = final.transform(pipe[:-1].transform(history))
    dist = (codes[:, None, :] != final.item_codes_[None, :, :]).sum(axis=2).astype(float)
    # Distinct scores: distance first, then item index (the ranking's tie rule).
    scores = -(dist * X.shape[1] + np.arange(X.shape[1]))
    scores[history.toarray() != 0] = -np.inf
    truth = (held_out > 0).toarray().astype(float)
    keep = truth.sum(axis=1) > 0
    expected = ndcg_score(truth[keep], np.where(np.isinf(scores), -1e9, scores)[keep], k=10)
    assert make_ndcg_scorer(10)(pipe, history, held_out) == pytest.approx(expected)


def test_score_is_ndcg_at_10(planted, quick_model):
    X = planted[0]
    model = quick_model("CCSR", **FAST).fit(X)
    assert model.score(X) == pytest.approx(make_ndcg_scorer(10)(model, X))
    assert 0 <= model.score(X) <= 1


def test_k_is_checked_the_same_way_everywhere():
    """A non-integer k (a bool too) is a TypeError and k < 1 a ValueError, for every metric and
    scorer."""
    codes = np.array([[1, -1], [-1, 1]])
    y_true = sp.csr_matrix(np.eye(2))
    for call in [lambda k: tie_aware_ndcg_at_k(y_true, codes, codes, k),
                 lambda k: tie_aware_recall_at_k(y_true, codes, codes, k),
                 make_ndcg_scorer, make_recall_scorer]:
        with pytest.raises(TypeError, match="int"):
            call(2.5)
        with pytest.raises(TypeError, match="int"):
            call(True)
        with pytest.raises(ValueError, match=r"range \[1, inf\)"):
            call(0)
