"""Every model of the paper behind the same API (issue: all models)."""

import numpy as np
import pytest
from conftest import planted_interactions
from sklearn.model_selection import GridSearchCV

from sklearn_hashrec import (
    AECF,
    CCSR,
    DJSRH,
    BinaryMF,
    CFCodeReg,
    PopularityRecommender,
    RandomRecommender,
)
from sklearn_hashrec.metrics import make_ndcg_scorer, make_recall_scorer, ndcg_at_k
from sklearn_hashrec.model_selection import train_test_split_interactions

SMALL = dict(n_bits=16, batch_size=64, random_state=0)
SETTINGS = {
    CCSR: dict(hidden_layer_sizes=(32,), learning_rate=1e-2, max_epochs=30),
    AECF: dict(hidden_layer_sizes=(64, 32), dropout=0.0, learning_rate=1e-2, max_epochs=30,
               unobserved_weight=0.1),
    DJSRH: dict(hidden_layer_sizes=(64,), learning_rate=1e-2, max_epochs=30),
    BinaryMF: dict(learning_rate=5e-2, max_epochs=60, unobserved_weight=0.1),
    CFCodeReg: dict(learning_rate=5e-2, max_epochs=60, unobserved_weight=0.1, l2_reg=0.01),
}
LEARNED = {cls.__name__: cls for cls in SETTINGS}


def make(name, **overrides):
    cls = LEARNED[name]
    return cls(**{**SMALL, **SETTINGS[cls], **overrides})


@pytest.fixture(scope="module")
def split():
    X = planted_interactions(n_users=150, n_items=100, seed=3)[0]
    train, test = train_test_split_interactions(X, 0.25, random_state=0)
    return train, test


@pytest.fixture(scope="module")
def random_ndcg(split):
    train, test = split
    ranked = RandomRecommender(random_state=0).fit(train).recommend(range(train.shape[0]), 5)
    return ndcg_at_k(test, ranked, 5)


@pytest.mark.parametrize("name", sorted(LEARNED))
def test_learns_planted_structure_and_beats_random(name, split, random_ndcg):
    train, test = split
    model = make(name).fit(train)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    ranked = model.recommend(np.arange(train.shape[0]), k=5)
    assert ndcg_at_k(test, ranked, 5) > random_ndcg + 0.1


@pytest.mark.parametrize("name", sorted(LEARNED))
@pytest.mark.parametrize("binarize, dtype", [("sign", np.int8), ("sign_tanh", np.int8),
                                             ("tanh", np.float32), (None, np.float32)])
def test_binarize_output_types(name, binarize, dtype, split):
    train, _ = split
    model = make(name, binarize=binarize, max_epochs=2).fit(train)
    for codes in (model.user_codes_, model.item_codes_, model.transform(train[:5]),
                  model.transform_items(train.T[:5])):
        assert codes.dtype == dtype
        if dtype == np.int8:
            assert set(np.unique(codes)) <= {-1, 1}
        if binarize == "tanh":
            assert np.abs(codes).max() <= 1


@pytest.mark.parametrize("name", ["BinaryMF", "CFCodeReg"])
def test_mf_fold_in_recovers_training_codes(name, split):
    train, _ = split
    model = make(name).fit(train)
    agreement = (model.transform(train) == model.user_codes_).mean()
    assert agreement > 0.8
    assert (model.transform_items(train.T) == model.item_codes_).mean() > 0.8


def test_mf_fold_in_solves_the_ridge_problem(split):
    train, _ = split
    model = BinaryMF(n_bits=6, max_epochs=2, l2_reg=0.4, binarize=None,
                     unobserved_weight=0.2, random_state=0).fit(train)
    row = train[7]
    # Independent: minimise the user's loss with a generic least-squares solver.
    Q = model.item_factors_.astype(np.float64)
    observed = row.toarray().ravel() != 0
    y = row.toarray().ravel()
    weights = np.where(observed, 1.0, 0.2)
    design = np.vstack([Q * np.sqrt(weights)[:, None],
                        np.sqrt(0.4) * np.eye(6)])
    target = np.concatenate([y * np.sqrt(weights), np.zeros(6)])
    expected = np.linalg.lstsq(design, target, rcond=None)[0]
    np.testing.assert_allclose(model.transform(row)[0], expected, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("rotation", [False, True])
def test_cfcodereg_codes_are_balanced_per_user(rotation, split):
    train, _ = split
    model = CFCodeReg(n_bits=16, max_epochs=5, rotation=rotation, random_state=0).fit(train)
    for codes in (model.user_codes_, model.item_codes_, model.transform(train[:10])):
        np.testing.assert_array_equal((codes == 1).sum(axis=1), 8)
    if rotation:
        R = model.rotation_
        np.testing.assert_allclose(R @ R.T, np.eye(16), atol=1e-4)


def test_djsrh_sqrt_schedule_is_default(split):
    model = make("DJSRH", max_epochs=4).fit(split[0])
    assert model.alpha_ == pytest.approx(2.0)  # sqrt(3 + 1)


def test_random_is_seeded_and_batch_independent(split):
    train, _ = split
    a = RandomRecommender(random_state=1).fit(train)
    b = RandomRecommender(random_state=1).fit(train)
    users = np.arange(train.shape[0])
    np.testing.assert_array_equal(a.recommend(users, 10), b.recommend(users, 10))
    np.testing.assert_array_equal(a.recommend(users, 10)[5:9], a.recommend(users[5:9], 10))
    c = RandomRecommender(random_state=2).fit(train)
    assert not np.array_equal(a.recommend(users, 10), c.recommend(users, 10))
    ranked = a.recommend(users, 10)
    assert not np.take_along_axis(train.toarray() != 0, ranked, axis=1).any()
    assert not hasattr(a, "transform")


def test_popularity_matches_counts(split):
    train, _ = split
    model = PopularityRecommender().fit(train)
    counts = (train.toarray() != 0).sum(axis=0)
    np.testing.assert_array_equal(model.item_popularity_, counts)
    order = sorted(range(len(counts)), key=lambda i: (-counts[i], i))
    seen = set(train[0].indices)
    expected = [i for i in order if i not in seen][:10]
    assert model.recommend([0], 10)[0].tolist() == expected
    assert model.recommend([0], 10, exclude_seen=False)[0].tolist() == order[:10]


ALL = {**{name: (lambda name=name: make(name, max_epochs=2)) for name in LEARNED},
       "Random": lambda: RandomRecommender(random_state=0),
       "Popularity": PopularityRecommender}
GRIDS = {"Random": {"random_state": [0, 1]}, "Popularity": [{}]}


@pytest.mark.parametrize("name", sorted(ALL))
def test_grid_search_runs(name, split):
    train, _ = split
    scoring = {"ndcg": make_ndcg_scorer(5), "recall": make_recall_scorer(5)}
    search = GridSearchCV(ALL[name](), GRIDS.get(name, {"n_bits": [8, 16]}), scoring=scoring,
                          refit="ndcg", cv=3).fit(train)
    assert np.isfinite(search.cv_results_["mean_test_ndcg"]).all()
    assert search.best_estimator_.recommend([0], k=3).shape == (1, 3)


@pytest.mark.parametrize("model", [PopularityRecommender(), RandomRecommender(random_state=0)],
                         ids=["Popularity", "Random"])
def test_baseline_distances_follow_the_ranking_contract(model):
    X = np.array([[1, 0, 1, 0, 0], [0, 1, 0, 0, 0], [1, 1, 1, 0, 1]], dtype=float)
    dist, items = model.fit(X).recommend([0, 1, 2], k=5, return_distance=True)
    for row in dist:  # best first
        assert np.all(np.diff(row[np.isfinite(row)]) >= 0)
    assert np.array_equal(np.isinf(dist), items < 0)  # padding: -1 with inf
    assert (items[2] == -1).sum() == 4  # user 2 has seen all but item 3
    if isinstance(model, PopularityRecommender):
        # Popularity counts 2, 2, 2, 0, 1: item 3 is 2 users behind the top.
        np.testing.assert_array_equal(dist[2, :1], [2.0])
        np.testing.assert_array_equal(dist[1, :3], [0.0, 0.0, 1.0])
