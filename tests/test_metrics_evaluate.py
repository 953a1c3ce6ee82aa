"""One evaluation (metrics.evaluate) behind the scorers, the protocols and early stopping."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import ndcg_score

from sklearn_hashrec import GraphFilter
from sklearn_hashrec.experiments import Protocol
from sklearn_hashrec.metrics import (
    CodeRanker,
    evaluate,
    make_ndcg_scorer,
    make_recall_scorer,
    tie_aware_ndcg_at_k,
)
from sklearn_hashrec.model_selection import train_test_split_interactions
from sklearn_hashrec.pipeline import make_recommender_pipeline
from sklearn_hashrec.preprocessing import BinarizeInteractions


@pytest.fixture(scope="module")
def split(make_planted):
    X = make_planted(n_users=90, n_items=60)[0]
    return train_test_split_interactions(X, 0.25, per_user=True, random_state=0)


def _brute_force_ndcg(truth, history, scores, k):
    """sklearn's ndcg_score over the unseen items of users with a relevant one."""
    truth, history = truth.toarray(), history.toarray()
    values = []
    for u in np.flatnonzero(truth.sum(axis=1) > 0):
        unseen = history[u] == 0
        values.append(ndcg_score(truth[u, unseen][None], scores[u, unseen][None], k=k))
    return float(np.mean(values))


def test_fitted_users_against_brute_force(split):
    train, test = split
    model = GraphFilter(n_components=4, random_state=0).fit(train)
    scores = evaluate(model, train, test, ndcg_at=(5, 10), recall_at=10)
    # The model's scores over all items, ranked independently by sklearn.
    n_items = train.shape[1]
    distances, items = model.recommend(np.arange(train.shape[0]), k=n_items,
                                       return_distance=True, exclude_seen=False)
    dense = np.empty_like(distances)
    np.put_along_axis(dense, items, -distances, axis=1)
    for k in (5, 10):
        assert scores[f"NDCG@{k}"] == pytest.approx(
            _brute_force_ndcg((test > 0).astype(float), train, dense, k), abs=1e-12)
    assert list(scores) == ["NDCG@5", "NDCG@10", "Recall@10"]


def test_tie_aware_and_fold_in_for_codes(split, learning_model):
    train, test = split
    relevant = (test > 0).astype(float)
    model = learning_model("CCSR").fit(train)
    fitted = evaluate(model, train, test, ndcg_at=10, recall_at=10)
    assert fitted["tie-aware NDCG@10"] == pytest.approx(tie_aware_ndcg_at_k(
        relevant, model.user_codes_, model.item_codes_, 10, exclude=train))
    folded = evaluate(model, train, test, ndcg_at=10, recall_at=10, users="fold_in")
    assert folded["tie-aware NDCG@10"] == pytest.approx(tie_aware_ndcg_at_k(
        relevant, model.transform(train), model.item_codes_, 10, exclude=train))
    # CCSR's user codes are its encoder's output, so fold-in of the training
    # rows gives the stored codes, and the two evaluations agree.
    assert folded == fitted
    no_ties = evaluate(model, train, test, tie_aware=False)
    assert set(no_ties) == {"NDCG@10", "Recall@10"}


def test_protocol_and_scorers_report_evaluate(split, learning_model):
    train, test = split
    model = learning_model("BinaryMF").fit(train)
    protocol = Protocol(ndcg_at=(2, 10), recall_at=(10,), per_user=True)
    assert protocol.evaluate(model, train, test) == evaluate(
        model, train, test, ndcg_at=(2, 10), recall_at=10)
    for users in ("fitted", "fold_in"):
        expected = evaluate(model, train, test, users=users, tie_aware=False)
        assert make_ndcg_scorer(10, users=users)(model, train, test) == expected["NDCG@10"]
        assert make_recall_scorer(10, users=users)(model, train, test) == expected["Recall@10"]
    # BinaryMF's fold-in codes are not its stored ones: the choice matters.
    assert evaluate(model, train, test, users="fold_in") != evaluate(model, train, test)
    graded = Protocol(per_user=True, candidates="test").evaluate(model, train, test)
    assert graded["NDCG@10"] == evaluate(model, train, test, candidates="test", gain="graded",
                                         recall_at=())["NDCG@10"]


def test_pipeline_transforms_the_history_only(split):
    train, test = split
    ratings = train * 5
    pipe = make_recommender_pipeline(BinarizeInteractions(threshold=0),
                                     GraphFilter(n_components=4, random_state=0)).fit(ratings)
    plain = GraphFilter(n_components=4, random_state=0).fit(train)
    assert evaluate(pipe, ratings, test, users="fold_in") == evaluate(
        plain, train, test, users="fold_in")


def test_code_ranker_is_a_model_for_evaluate(split):
    train, test = split
    rng = np.random.default_rng(0)
    users = np.where(rng.random((train.shape[0], 16)) < 0.5, -1, 1).astype(np.int8)
    items = np.where(rng.random((train.shape[1], 16)) < 0.5, -1, 1).astype(np.int8)
    scores = evaluate(CodeRanker(users, items), train, test)
    assert scores["tie-aware NDCG@10"] == pytest.approx(tie_aware_ndcg_at_k(
        (test > 0).astype(float), users, items, 10, exclude=train))
    with pytest.raises(ValueError, match="pass exclude"):
        CodeRanker(users, items).recommend([0], 5, exclude_seen=True)


def test_bad_input_is_refused(split):
    train, test = split
    model = GraphFilter(n_components=4, random_state=0).fit(train)
    with pytest.raises(ValueError, match="fitted on 90 users.*users='fold_in'"):
        evaluate(model, train[:10], test[:10])
    with pytest.raises(ValueError, match="truth has shape"):
        evaluate(model, train, test[:, :5])
    with pytest.raises(ValueError, match="at least one cut-off"):
        evaluate(model, train, test, ndcg_at=(), recall_at=())
    with pytest.raises(ValueError, match="positive integers"):
        evaluate(model, train, test, ndcg_at=(0,))
    with pytest.raises(ValueError, match="users"):
        evaluate(model, train, test, users="new")
    with pytest.raises(ValueError, match="with y=None the rows of X are users"):
        make_ndcg_scorer(users="fitted")(model, sp.csr_matrix(train))
