"""ServingIndex: the model's answers from a torch-free file, ids in and out, fold-in in numpy."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from sklearn_hashrec import PopularityRecommender
from sklearn_hashrec.pipeline import make_recommender_pipeline
from sklearn_hashrec.preprocessing import InteractionEncoder
from sklearn_hashrec.serving import ServingIndex

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def interactions():
    rng = np.random.default_rng(5)
    groups = rng.integers(0, 3, 80)
    p = np.where(groups[:, None] == np.arange(35)[None, :] % 3, 0.35, 0.04)
    return sp.csr_matrix((rng.random((80, 35)) < p).astype(np.float32))


def _round_trip(model, tmp_path) -> ServingIndex:
    path = tmp_path / "index.npz"
    ServingIndex.from_model(model).save(path)
    return ServingIndex.load(path)


def test_answers_as_the_model(quick_model, torch_model_name, interactions, tmp_path):
    model = quick_model(torch_model_name).fit(interactions)
    index = _round_trip(model, tmp_path)
    users = np.arange(80)
    distances, items = index.recommend(users, k=7, return_distance=True)
    expected_distances, expected_items = model.recommend(users, k=7, return_distance=True)
    np.testing.assert_array_equal(items, expected_items)
    np.testing.assert_array_equal(distances, expected_distances)
    assert index.can_fold_in == (torch_model_name in ("CCSR", "AECF", "DJSRH"))


@pytest.mark.parametrize("name", ["CCSR", "AECF", "DJSRH"])
def test_posted_history_folds_in_as_the_model(quick_model, name, interactions, tmp_path):
    model = quick_model(name).fit(interactions)
    index = _round_trip(model, tmp_path)
    rng = np.random.default_rng(0)
    for _ in range(20):
        history = np.sort(rng.choice(35, rng.integers(0, 8), replace=False))
        row = np.zeros((1, 35), dtype=np.float32)
        row[0, history] = 1
        # The torch encoder's codes, and its ranking, from the model itself.
        expected = model.recommend_from_history(row, k=5, return_distance=True)
        found = index.recommend_history(rng.permutation(history), k=5, return_distance=True)
        np.testing.assert_array_equal(found[1], expected[1])
        np.testing.assert_array_equal(found[0], expected[0])


def test_ids_through_the_pipeline(quick_model, tmp_path):
    rng = np.random.default_rng(2)
    table = pd.DataFrame({"user": [f"u{u}" for u in rng.integers(0, 50, 600)],
                          "item": rng.integers(1000, 1030, 600)})
    pipe = make_recommender_pipeline(InteractionEncoder("user", "item"),
                                     quick_model("CCSR")).fit(table)
    index = _round_trip(pipe, tmp_path)
    users = ["u3", "u17", "u3"]
    expected = pipe.recommend(users, k=4)
    assert index.recommend(users, k=4).tolist() == expected.tolist()
    assert index.item_ids.dtype.kind == "i" and index.user_ids.dtype.kind == "U"
    # Integer ids arrive as text from a URL.
    assert index.recommend_history(["1003", "1007"], k=3).tolist() == \
        index.recommend_history([1003, 1007], k=3).tolist()
    for bad in (["nobody"], ["u3", "zz"]):
        with pytest.raises(KeyError, match="unknown user"):
            index.recommend(bad)
    for bad in ([999], ["1003.5"], [1003.5]):
        with pytest.raises(KeyError, match="unknown item"):
            index.recommend_history(bad)
    with pytest.raises(ValueError, match="more than once"):
        index.recommend_history([1003, 1003])


def test_k_beyond_the_catalogue_pads(quick_model, interactions, tmp_path):
    model = quick_model("CCSR").fit(interactions)
    index = _round_trip(model, tmp_path)
    distances, items = index.recommend([0], k=100, return_distance=True)
    n_unseen = 35 - interactions[0].nnz
    assert items.shape == (1, 35) and (items[0, n_unseen:] == -1).all()
    assert np.isinf(distances[0, n_unseen:]).all()


def test_models_without_binary_codes_or_encoder(quick_model, interactions, tmp_path):
    with pytest.raises(ValueError, match="no binary codes to serve"):
        ServingIndex.from_model(PopularityRecommender().fit(interactions))
    with pytest.raises(ValueError, match="no binary codes to serve"):
        ServingIndex.from_model(quick_model("CCSR", binarize="tanh").fit(interactions))
    index = _round_trip(quick_model("BinaryMF").fit(interactions), tmp_path)
    with pytest.raises(ValueError, match="cannot fold in"):
        index.recommend_history([1, 2])


def test_loads_without_torch_and_small(quick_model, interactions, tmp_path):
    model = quick_model("CCSR", n_bits=64).fit(interactions)
    path = tmp_path / "index.npz"
    ServingIndex.from_model(model).save(path)
    script = textwrap.dedent(f"""
        import sys
        from sklearn_hashrec.serving import ServingIndex
        index = ServingIndex.load({str(path)!r})
        print(index.recommend([0, 1], k=3).tolist(), index.recommend_history([2, 5], k=2).tolist())
        print("torch" in sys.modules)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)
    assert result.returncode == 0, result.stderr
    answers, torch_loaded = result.stdout.strip().splitlines()
    assert torch_loaded == "False"
    assert answers == (f"{model.recommend([0, 1], k=3).tolist()} "
                       f"{model.recommend_from_history(_row([2, 5]), k=2).tolist()}")


def _row(items, n_items=35):
    row = np.zeros((1, n_items), dtype=np.float32)
    row[0, items] = 1
    return row
