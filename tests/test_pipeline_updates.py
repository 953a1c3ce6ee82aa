"""Updates without a refit through a RecommenderPipeline: ids in, ids out, raw history seen."""

import io

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import FunctionTransformer

from sklearn_hashrec import CCSR, PopularityRecommender
from sklearn_hashrec.pipeline import make_recommender_pipeline
from sklearn_hashrec.preprocessing import BinarizeInteractions, InteractionEncoder
from sklearn_hashrec.ranking import hamming_distances
from sklearn_hashrec.serving import ServingIndex

pd = pytest.importorskip("pandas")

THRESHOLD = 3
# Item ids that sort before and among the fitted ones: the grown catalogue is unsorted.
NEW_ITEMS = ["aa-new", "item-07x", "zz-new"]


def ratings_log(seed=0):
    rng = np.random.default_rng(seed)
    users = [f"user-{u:02d}" for u in range(40)]
    items = [f"item-{i:02d}" for i in range(20)] + NEW_ITEMS
    rows = [(u, i, float(rng.integers(1, 6))) for u in users for i in items
            if rng.random() < 0.3]
    return pd.DataFrame(rows, columns=["user", "item", "stars"])


def ccsr():
    return CCSR(n_bits=16, hidden_layer_sizes=(16,), max_epochs=3, random_state=0)


@pytest.fixture
def split_log():
    log = ratings_log()
    is_new = log.item.isin(NEW_ITEMS)
    return log[~is_new], log[is_new]


def fitted(old, *middle, model=None):
    return make_recommender_pipeline(InteractionEncoder("user", "item", "stars"), *middle,
                                     model if model is not None else ccsr()).fit(old)


def by_hand(user_codes, item_codes, seen, item_ids, k):
    """Top-k ids by all Hamming distances, seen items masked, ties to the lower column."""
    distances = hamming_distances(user_codes, item_codes).astype(float)
    distances[seen] = np.inf
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return np.asarray(item_ids, dtype=object)[order]


def dense(log, users, items, threshold=None):
    """A users x items array of a log, by pandas alone (ratings, or 0/1 above a threshold)."""
    table = log.pivot_table(index="user", columns="item", values="stars", aggfunc="sum")
    table = table.reindex(index=users, columns=items).fillna(0.0).to_numpy()
    return (table > threshold).astype(float) if threshold is not None else table


def test_add_items_learns_the_ids_and_ranks_them_with_the_raw_history_seen(split_log):
    old, new = split_log
    pipe = fitted(old, BinarizeInteractions(THRESHOLD))
    encoder, model = pipe[0], pipe[-1]
    users, items = encoder.user_ids_.tolist(), encoder.item_ids_.tolist()
    codes = model.user_codes_.copy(), model.item_codes_.copy()
    assert pipe.add_items(new) is pipe
    assert encoder.item_ids_.tolist() == items + sorted(NEW_ITEMS)
    catalogue = encoder.item_ids_.tolist()
    np.testing.assert_array_equal(model.user_codes_, codes[0])
    np.testing.assert_array_equal(model.item_codes_[:len(items)], codes[1])
    # The new items' codes: fold-in of their binarized columns, built by pandas.
    columns = dense(new, users, sorted(NEW_ITEMS), THRESHOLD)
    np.testing.assert_array_equal(model.item_codes_[len(items):],
                                  model.transform_items(columns.T))
    # Every user against every item, a 1-2 star rating of a new item counting as seen.
    whole = pd.concat([old, new])
    seen = dense(whole, users, catalogue) > 0
    expected = by_hand(model.user_codes_, model.item_codes_, seen, catalogue, 6)
    assert pipe.recommend(users, k=6).tolist() == expected.tolist()
    assert encoder.encode_items(["zz-new", "aa-new", "item-03"]).tolist() == [
        catalogue.index("zz-new"), catalogue.index("aa-new"), catalogue.index("item-03")]


def test_histories_may_name_added_items(split_log):
    old, new = split_log
    pipe = fitted(old, BinarizeInteractions(THRESHOLD)).add_items(new)
    history = pd.DataFrame({"user": ["newcomer"] * 3, "item": ["aa-new", "item-02", "item-05"],
                            "stars": [1.0, 5.0, 4.0]})
    got = pipe.recommend_from_history(history, k=20)  # every unseen item
    model, catalogue = pipe[-1], pipe[0].item_ids_.tolist()
    row = dense(history, ["newcomer"], catalogue)
    expected = by_hand(model.transform(row > THRESHOLD), model.item_codes_, row > 0,
                       catalogue, 20)
    assert got.tolist() == expected.tolist()
    assert "aa-new" not in got[0]  # rated 1 star: not in the codes' input, still seen


def test_update_users_answers_as_their_histories_predict(split_log):
    old, new = split_log
    pipe = fitted(old, BinarizeInteractions(THRESHOLD)).add_items(new)
    encoder, model = pipe[0], pipe[-1]
    others = [u for u in encoder.user_ids_ if u not in ("user-30", "user-04")]
    before = pipe.recommend(others, k=5)
    codes = model.user_codes_.copy()
    # user-30's whole new history, and user-04 with none at all; given out of order.
    history = pd.DataFrame({"user": ["user-30", "user-30", "user-30"],
                            "item": ["zz-new", "item-01", "item-11"], "stars": [5.0, 4.0, 2.0]})
    expected = pipe.recommend_from_history(history, k=5)[0]
    pipe.update_users(["user-30", "user-04"], history)
    got = pipe.recommend(["user-30", "user-04"], k=5)
    assert got[0].tolist() == expected.tolist()
    rows = encoder.encode_users(["user-30", "user-04"])
    catalogue = encoder.item_ids_.tolist()
    histories = dense(history, ["user-30", "user-04"], catalogue)
    np.testing.assert_array_equal(model.user_codes_[rows],
                                  model.transform(histories > THRESHOLD))
    np.testing.assert_array_equal(pipe.raw_seen_[rows].toarray(), histories > 0)
    assert pipe.recommend(others, k=5).tolist() == before.tolist()
    others_rows = encoder.encode_users(others)
    np.testing.assert_array_equal(model.user_codes_[others_rows], codes[others_rows])


def test_a_grown_pipeline_reloads_and_serves_the_same_answers(split_log, tmp_path):
    old, new = split_log
    pipe = fitted(old).add_items(new)  # no step in between: the index folds in
    buffer = io.BytesIO()
    joblib.dump(pipe, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    users = pipe[0].user_ids_
    assert loaded.recommend(users, k=7).tolist() == pipe.recommend(users, k=7).tolist()
    ServingIndex.from_model(pipe).save(tmp_path / "index.npz")
    index = ServingIndex.load(tmp_path / "index.npz")
    assert index.recommend(users, k=7).tolist() == pipe.recommend(users, k=7).tolist()
    assert index.can_fold_in
    items, stars = ["zz-new", "item-03", "aa-new"], [5.0, 2.0, 4.0]
    history = pd.DataFrame({"user": ["x"] * 3, "item": items, "stars": stars})
    assert (index.recommend_history(items, k=7, values=stars).tolist()
            == pipe.recommend_from_history(history, k=7).tolist())


def test_matrix_pipeline_updates_as_the_model_does():
    rng = np.random.default_rng(1)
    X = sp.csr_matrix(np.where(rng.random((40, 24)) < 0.3, rng.integers(1, 6, (40, 24)), 0)
                      .astype(float))
    pipe = make_recommender_pipeline(BinarizeInteractions(THRESHOLD), ccsr()).fit(X[:, :20])
    model = ccsr().fit(BinarizeInteractions(THRESHOLD).fit_transform(X[:, :20]))
    pipe.add_items(X[:, 20:])
    model.add_items(BinarizeInteractions(THRESHOLD).fit_transform(X[:, 20:]))
    history = X[[3, 9]].toarray()
    history[:, [0, 21]] = [5, 1]
    pipe.update_users([3, 9], history)
    model.update_users([3, 9], BinarizeInteractions(THRESHOLD).fit_transform(history))
    raw = X.toarray()
    raw[[3, 9]] = history
    users = np.arange(40)
    np.testing.assert_array_equal(
        pipe.recommend(users, k=8),
        model.recommend(users, k=8, exclude_seen=False, exclude=sp.csr_matrix(raw)))
    # A history over fit's 20 items, as the model takes it: the new columns are empty.
    narrow = X[:5, :20].toarray()
    wide = np.hstack([narrow, np.zeros((5, 4))])
    np.testing.assert_array_equal(pipe.recommend_from_history(narrow, k=8),
                                  pipe.recommend_from_history(wide, k=8))


def test_refused_updates_change_nothing(split_log):
    old, new = split_log
    pipe = fitted(old, BinarizeInteractions(THRESHOLD))
    encoder, model = pipe[0], pipe[-1]
    state = (encoder.item_ids_.copy(), model.item_codes_.copy(), pipe.raw_seen_.shape)

    with pytest.raises(ValueError, match=r"already in the catalogue"):
        pipe.add_items(pd.concat([new, old.head(2)]))
    stranger = new.assign(user="nobody")
    with pytest.raises(ValueError, match="unseen in fit"):
        pipe.add_items(stranger)
    with pytest.raises(ValueError, match="are integers but the catalogue's are strings"):
        pipe.add_items(new.assign(item=7))
    with pytest.raises(ValueError, match="users not in users"):
        pipe.update_users(["user-01"], old[old.user.isin(["user-01", "user-02"])])
    with pytest.raises(KeyError, match="nobody"):
        pipe.update_users(["nobody"], stranger)
    with pytest.raises(ValueError, match="must not repeat"):
        pipe.update_users(["user-01", "user-01"], old[old.user == "user-01"])
    assert encoder.item_ids_.tolist() == state[0].tolist()
    np.testing.assert_array_equal(model.item_codes_, state[1])
    assert pipe.raw_seen_.shape == state[2]


def test_steps_that_may_mix_entries_and_models_without_updates_are_refused(split_log):
    old, new = split_log
    mixing = fitted(old, FunctionTransformer(lambda X: X, accept_sparse=True))
    with pytest.raises(TypeError, match="act on each entry alone.*'functiontransformer'"):
        mixing.add_items(new)
    assert len(mixing[0].item_ids_) == 20 and mixing[-1].item_codes_.shape[0] == 20
    popular = fitted(old, model=PopularityRecommender())
    with pytest.raises(TypeError, match="PopularityRecommender cannot add_items"):
        popular.add_items(new)
    with pytest.raises(TypeError, match="cannot update_users"):
        popular.update_users(["user-01"], old[old.user == "user-01"])
