"""The rule-based baselines (models/baselines.py): Random and Top."""

import numpy as np
import pytest

from sklearn_hashrec import PopularityRecommender, RandomRecommender
from sklearn_hashrec.model_selection import train_test_split_interactions


@pytest.fixture(scope="module")
def split(make_planted):
    X = make_planted(n_users=150, n_items=100, seed=3)[0]
    return train_test_split_interactions(X, 0.25, random_state=0)


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
