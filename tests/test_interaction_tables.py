"""Interaction tables in: InteractionEncoder, load_interactions, and fit's triples warning."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_hashrec import CCSR, PopularityRecommender
from sklearn_hashrec.datasets import load_interactions
from sklearn_hashrec.preprocessing import InteractionEncoder

pd = pytest.importorskip("pandas")

LOG = pd.DataFrame({
    "user": ["u9", "u1", "u1", "u5", "u9", "u1"],
    "item": ["b", "a", "c", "a", "b", "a"],
    "stars": [4.0, 5.0, 3.0, 2.0, 1.0, 2.0],
})


def dense_by_hand(log, duplicates):
    """The matrix built with dicts, apart from the encoder."""
    users, items = sorted(set(log.user)), sorted(set(log.item))
    out = np.zeros((len(users), len(items)))
    for u, i, r in zip(log.user, log.item, log.stars, strict=True):
        row, col = users.index(u), items.index(i)
        out[row, col] = out[row, col] + r if duplicates == "sum" else r
    return out, users, items


@pytest.mark.parametrize("duplicates", ["sum", "last"])
def test_encoder_builds_the_matrix_and_vocabularies(duplicates):
    encoder = InteractionEncoder("user", "item", "stars", duplicates=duplicates)
    matrix = encoder.fit_transform(LOG)
    expected, users, items = dense_by_hand(LOG, duplicates)
    assert sp.issparse(matrix) and matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix.toarray(), expected)
    assert encoder.user_ids_.tolist() == users and encoder.item_ids_.tolist() == items


def test_encoder_by_position_on_arrays_and_lists_and_implicit():
    triples = LOG.to_numpy()
    by_name = InteractionEncoder("user", "item", "stars").fit_transform(LOG)
    by_position = InteractionEncoder(0, 1, 2).fit_transform(triples)
    from_list = InteractionEncoder(0, 1, 2).fit_transform([tuple(r) for r in triples])
    for other in (by_position, from_list):
        np.testing.assert_array_equal(other.toarray(), by_name.toarray())
    counts = InteractionEncoder("user", "item").fit_transform(LOG).toarray()
    np.testing.assert_array_equal(counts, dense_by_hand(LOG.assign(stars=1.0), "sum")[0])


def test_unknown_ids_error_or_are_dropped():
    encoder = InteractionEncoder("user", "item", "stars").fit(LOG)
    new = pd.DataFrame({"user": ["u1", "zz", "u5"], "item": ["a", "a", "nope"],
                        "stars": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="unseen in fit.*handle_unknown") as error:
        encoder.transform(new)
    # the ids as a user wrote them, not numpy's reprs (np.str_('zz'))
    assert "['zz', 'nope']" in str(error.value) and "np." not in str(error.value)
    kept = encoder.set_params(handle_unknown="ignore").transform(new)
    assert kept.shape == (3, 3) and kept.nnz == 1 and kept[0, 0] == 1.0  # only (u1, a)


def test_history_of_new_users_over_the_fitted_items():
    encoder = InteractionEncoder("user", "item", "stars").fit(LOG)
    new = pd.DataFrame({"user": ["zed", "amy", "zed"], "item": ["c", "a", "nope"],
                        "stars": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="unseen in fit"):
        encoder.transform_history(new)
    users, rows = encoder.set_params(handle_unknown="ignore").transform_history(new)
    assert users.tolist() == ["amy", "zed"]
    np.testing.assert_array_equal(rows.toarray(), [[2, 0, 0], [0, 0, 1]])


def test_inverse_transform_and_id_helpers_round_trip():
    encoder = InteractionEncoder("user", "item", "stars", duplicates="last")
    matrix = encoder.fit_transform(LOG)
    table = encoder.inverse_transform(matrix)
    assert list(table.columns) == ["user", "item", "stars"]
    np.testing.assert_array_equal(encoder.transform(table).toarray(), matrix.toarray())
    assert encoder.encode_users(["u5", "u1"]).tolist() == [1, 0]
    assert encoder.encode_items("c").tolist() == [2]
    with pytest.raises(KeyError, match="zz"):
        encoder.encode_users(["zz"])
    # recommend pads with -1 when fewer than k items are left: never the last item's id.
    assert encoder.decode_items([[2, -1]]).tolist() == [["c", None]]
    with pytest.raises(ValueError, match="-1"):
        encoder.decode_items([5])


def test_encoder_in_front_of_a_recommender():
    matrix = InteractionEncoder("user", "item", "stars").fit_transform(LOG)
    model = PopularityRecommender().fit(matrix)
    encoder = InteractionEncoder("user", "item", "stars").fit(LOG)
    top = encoder.decode_items(model.recommend(encoder.encode_users(["u5"]), k=3))
    assert top.tolist() == [["b", "c", None]]  # u5 saw "a"; two items left


def test_encoder_refuses_bad_tables():
    with pytest.raises(ValueError, match="not in the table"):
        InteractionEncoder("user", "nope").fit(LOG)
    with pytest.raises(ValueError, match="need a DataFrame"):
        InteractionEncoder("user", "item").fit(LOG.to_numpy())
    with pytest.raises(ValueError, match="not numeric"):
        InteractionEncoder(0, 1, 2).fit([("a", "b", "five")])
    with pytest.raises(ValueError, match="missing"):
        InteractionEncoder(0, 1).fit(np.array([["a", None], ["b", "c"]], dtype=object))
    with pytest.raises(ValueError, match="no rows"):
        InteractionEncoder(0, 1).fit(np.empty((0, 2)))


def test_load_interactions_parses_real_csv(tmp_path):
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('userId,title,rating\n1,"Heat, 1995",4\n2,"Heat, 1995",5\n2,Up,3\n')
    bunch = load_interactions(quoted)
    assert bunch.item_ids.tolist() == ["Heat, 1995", "Up"] and bunch.user_ids.tolist() == [1, 2]
    np.testing.assert_array_equal(bunch.data.toarray(), [[4, 0], [5, 3]])
    two = tmp_path / "two.csv"
    two.write_text("user_id,item_id\n7,10\n7,11\n8,10\n")  # header, no ratings
    bunch = load_interactions(two)
    assert bunch.user_ids.tolist() == [7, 8] and bunch.item_ids.tolist() == [10, 11]
    np.testing.assert_array_equal(bunch.data.toarray(), [[1, 1], [1, 0]])
    bunch = load_interactions(two, columns=(0, 1))  # the header is still no user
    assert bunch.user_ids.tolist() == [7, 8]
    headerless = tmp_path / "plain.tsv"
    headerless.write_text("7\t10\t2.5\n8\t11\t4\n")
    np.testing.assert_array_equal(load_interactions(headerless).data.toarray(),
                                  [[2.5, 0], [0, 4]])
    frame = load_interactions(LOG, columns=("user", "item", "stars"))
    np.testing.assert_array_equal(frame.data.toarray(), dense_by_hand(LOG, "sum")[0])
    assert frame.encoder.decode_users([0]).tolist() == ["u1"]
    short = tmp_path / "short.csv"
    short.write_text("1,2,3\n4,5\n")
    with pytest.raises(ValueError, match="line 2 has fewer than 3 fields"):
        load_interactions(short, header=False)
    extra = tmp_path / "extra.csv"
    extra.write_text("user,item,rating\nalice,m1,5\ncarol,m3,4,extra\n")
    with pytest.raises(ValueError, match="line 3 has 4 fields, more than the 3 of line 1"):
        load_interactions(extra)


def test_fit_on_a_table_of_string_ids_names_the_encoder():
    table = pd.DataFrame({"user": ["u1", "u2", "u3"], "item": ["a", "b", "a"]})
    for model in (PopularityRecommender(), CCSR(n_bits=2, max_epochs=1)):
        with pytest.raises(ValueError, match="holds strings.*InteractionEncoder"):
            model.fit(table)


def test_fit_warns_on_a_table_of_triples():
    rng = np.random.default_rng(0)
    triples = np.c_[rng.integers(0, 400, 1000), rng.integers(0, 300, 1000),
                    rng.integers(1, 6, 1000)].astype(float)
    with pytest.warns(UserWarning, match="InteractionEncoder"):
        PopularityRecommender().fit(triples)
    with warnings.catch_warnings():  # a real 3-item rating matrix is left alone
        warnings.simplefilter("error")
        PopularityRecommender().fit(rng.integers(0, 6, (1000, 3)).astype(float))


def test_hashrec_fit_and_recommend_on_a_two_column_csv_with_string_ids(tmp_path):
    import csv

    from sklearn_hashrec.cli import main

    log = tmp_path / "log.csv"
    log.write_text("user,item\n" + "".join(
        f"{u},{i}\n" for u, i in [("ann", "x"), ("ann", "y"), ("bob", "x"), ("cy", "x"),
                                  ("cy", "z"), ("bob", "w")]))
    assert main(["fit", "--data", str(log), "--model", "Top", "--out",
                 str(tmp_path / "m.joblib")]) == 0
    assert main(["recommend", "--model", str(tmp_path / "m.joblib"), "--k", "5", "--users",
                 "ann", "--out", str(tmp_path / "rec.csv")]) == 0
    rows = list(csv.DictReader(open(tmp_path / "rec.csv")))
    # ann saw x and y; of the rest, popularity ranks w and z (one each) by id order.
    assert [row["item_id"] for row in rows] == ["w", "z"]
