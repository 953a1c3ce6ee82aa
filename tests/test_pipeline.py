"""RecommenderPipeline: preprocessing steps in front of a recommender, ids in and out."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_hashrec import CCSR, PopularityRecommender
from sklearn_hashrec.pipeline import RecommenderPipeline, make_recommender_pipeline
from sklearn_hashrec.preprocessing import BinarizeInteractions, InteractionEncoder

pd = pytest.importorskip("pandas")


def ratings_log(seed=0, n_users=40, n_items=25, n_rows=400):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "user": [f"user-{u:02d}" for u in rng.integers(0, n_users, n_rows)],
        "item": [f"item-{i:02d}" for i in rng.integers(0, n_items, n_rows)],
        "stars": rng.integers(1, 6, n_rows).astype(float),
    }).drop_duplicates(["user", "item"])


def popularity_by_hand(log, user, k, threshold=3):
    """Items by count of ratings above the threshold, ties by id, minus all the user rated."""
    counts = log[log.stars > threshold].groupby("item").size()
    counts = counts.reindex(sorted(set(log.item)), fill_value=0)
    seen = set(log[log.user == user].item)
    ranked = sorted((item for item in counts.index if item not in seen),
                    key=lambda item: (-counts[item], item))
    return ranked[:k]


def test_string_ids_in_string_ids_out_with_the_raw_history_excluded():
    log = ratings_log()
    pipe = make_recommender_pipeline(InteractionEncoder("user", "item", "stars"),
                                     BinarizeInteractions(threshold=3),
                                     PopularityRecommender()).fit(log)
    users = ["user-03", "user-17"]
    got = pipe.recommend(users, k=5)
    for user, row in zip(users, got, strict=True):
        assert row.tolist() == popularity_by_hand(log, user, 5)
    distances, items = pipe.recommend(users, k=5, return_distance=True)
    assert items.tolist() == got.tolist() and distances.shape == (2, 5)


def test_new_users_from_a_table_through_every_step():
    log = ratings_log()
    pipe = make_recommender_pipeline(InteractionEncoder("user", "item", "stars"),
                                     BinarizeInteractions(threshold=3),
                                     PopularityRecommender()).fit(log)
    new = pd.DataFrame({"user": ["zed", "amy", "zed"], "item": ["item-01", "item-02", "item-05"],
                        "stars": [1.0, 5.0, 2.0]})
    got = pipe.recommend_from_history(new, k=4)
    # Rows follow the sorted new user ids; a 1-2 star rating still counts as seen.
    both = pd.concat([log, new])
    for row, user in zip(got, ["amy", "zed"], strict=True):
        expected = [i for i in popularity_by_hand(log, "nobody", 30)
                    if i not in set(both[both.user == user].item)][:4]
        assert row.tolist() == expected


def test_ccsr_pipeline_from_a_dataframe_of_string_ids():
    log = ratings_log(seed=1)
    pipe = RecommenderPipeline([
        ("encode", InteractionEncoder("user", "item", "stars")),
        ("binarize", BinarizeInteractions(threshold=3)),
        ("ccsr", CCSR(n_bits=8, hidden_layer_sizes=(16,), max_epochs=3, random_state=0)),
    ]).fit(log)
    users = ["user-00", "user-05", "user-31"]
    got = pipe.recommend(users, k=6)
    encoder, ccsr = pipe["encode"], pipe["ccsr"]
    for user, row in zip(users, got, strict=True):
        assert set(row) <= set(encoder.item_ids_) | {None}
        assert not set(row) & set(log[log.user == user].item)  # nothing the user rated
    # The same as composing the steps by hand, with the raw history excluded.
    rows = encoder.encode_users(users)
    raw = encoder.transform(log)
    by_hand = ccsr.recommend(rows, k=6, exclude_seen=False, exclude=raw[rows])
    assert got.tolist() == encoder.decode_items(by_hand).tolist()
    assert pipe.get_params()["ccsr__n_bits"] == 8  # nested parameters, as any Pipeline


def test_matrix_pipeline_speaks_indices():
    rng = np.random.default_rng(0)
    X = sp.random(30, 12, density=0.3, random_state=0, format="csr") * 5
    X.data = np.ceil(X.data)
    pipe = make_recommender_pipeline(BinarizeInteractions(3), PopularityRecommender()).fit(X)
    model = PopularityRecommender().fit(BinarizeInteractions(3).fit_transform(X))
    np.testing.assert_array_equal(
        pipe.recommend([0, 4], k=3),
        model.recommend([0, 4], k=3, exclude_seen=False, exclude=X[[0, 4]]))
    also = np.zeros((2, 12))
    also[:, 5] = 1  # exclude= adds to the raw history, as for the model itself
    np.testing.assert_array_equal(
        pipe.recommend([0, 4], k=3, exclude=also),
        model.recommend([0, 4], k=3, exclude_seen=False, exclude=X[[0, 4]] + sp.csr_matrix(also)))
    history = sp.csr_matrix(rng.integers(0, 6, (2, 12)).astype(float))
    np.testing.assert_array_equal(
        pipe.recommend_from_history(history, k=3),
        model.recommend_from_history(BinarizeInteractions(3).fit_transform(history), k=3,
                                     exclude_seen=False, exclude=history))
    with pytest.raises(Exception, match="not fitted"):
        make_recommender_pipeline(PopularityRecommender()).recommend([0])
