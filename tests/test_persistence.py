"""Fitted models round-trip through pickle, joblib and (where possible) skops."""

import pickle
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
import torch

from sklearn_hashrec import PopularityRecommender

VARIANTS = [("CCSR", {}), ("CCSR", {"binarize": "tanh"}), ("AECF", {}), ("DJSRH", {}),
            ("BinaryMF", {}), ("CFCodeReg", {"rotation": True}), ("Random", {}),
            ("Popularity", {}), ("EASE", {})]
IDS = [f"{name}-{'-'.join(map(str, overrides.values()))}" for name, overrides in VARIANTS]


def same_behaviour(a, b, X):
    users = np.arange(X.shape[0])
    np.testing.assert_array_equal(a.recommend(users, 7), b.recommend(users, 7))
    np.testing.assert_array_equal(a.recommend_from_history(X[:9], 5),
                                  b.recommend_from_history(X[:9], 5))
    if hasattr(a, "transform"):
        np.testing.assert_array_equal(a.user_codes_, b.user_codes_)
        np.testing.assert_array_equal(a.item_codes_, b.item_codes_)
        np.testing.assert_array_equal(a.transform(X[:9]), b.transform(X[:9]))


@pytest.fixture(scope="module")
def X(make_planted):
    return make_planted(n_users=60, n_items=40)[0]


@pytest.mark.parametrize("name, overrides", VARIANTS, ids=IDS)
def test_pickle_and_joblib_round_trip(name, overrides, quick_model, X, tmp_path):
    model = quick_model(name, **overrides).fit(X)
    same_behaviour(model, pickle.loads(pickle.dumps(model)), X)
    joblib.dump(model, tmp_path / "model.joblib")
    same_behaviour(model, joblib.load(tmp_path / "model.joblib"), X)


def test_item_words_keep_the_kernel_layout_through_storage(quick_model, X, tmp_path):
    # The kernel scans item words word-major; a row-major array would be
    # transposed (copied) on every recommend call.
    model = quick_model("CCSR", n_bits=130).fit(X)
    joblib.dump(model, tmp_path / "model.joblib")
    for copy in (model, pickle.loads(pickle.dumps(model)), joblib.load(tmp_path / "model.joblib")):
        assert copy.item_codes_packed_.shape == (X.shape[1], 3)
        assert copy.item_codes_packed_.T.flags.c_contiguous
    # A model saved by an earlier build (row-major words) is converted on load.
    state = model.__getstate__()
    state["item_codes_packed_"] = np.ascontiguousarray(state["item_codes_packed_"])
    old = type(model).__new__(type(model))
    old.__setstate__(state)
    assert old.item_codes_packed_.T.flags.c_contiguous
    same_behaviour(model, old, X)


def test_newer_storage_format_is_a_clear_error(X):
    model = PopularityRecommender().fit(X)
    state = model.__getstate__()
    state["_hashrec_format"] = 99
    state["_hashrec_version"] = "9.0"
    clone = PopularityRecommender.__new__(PopularityRecommender)
    with pytest.raises(ValueError, match="saved by sklearn-hashrec 9.0.*Upgrade"):
        clone.__setstate__(state)


@pytest.mark.parametrize("name, overrides", VARIANTS, ids=IDS)
def test_skops_round_trip(name, overrides, quick_model, X, tmp_path):
    sio = pytest.importorskip("skops.io")
    model = quick_model(name, **overrides).fit(X)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    # Only the estimator's own class and scipy's CSR matrix need trusting: no
    # torch object and no arbitrary callable is in the file.
    assert set(untrusted) <= {f"{type(model).__module__}.{type(model).__name__}",
                              "scipy.sparse._csr.csr_matrix"}
    same_behaviour(model, sio.load(path, trusted=untrusted), X)


def test_round_trip_in_a_fresh_process(quick_model, X, tmp_path):
    model = quick_model("CCSR").fit(X)
    joblib.dump(model, tmp_path / "model.joblib")
    np.save(tmp_path / "history.npy", X[:9].toarray())
    script = textwrap.dedent(f"""
        import joblib, numpy as np
        model = joblib.load({str(tmp_path / "model.joblib")!r})
        history = np.load({str(tmp_path / "history.npy")!r})
        np.save({str(tmp_path / "out.npy")!r}, np.hstack([
            model.recommend(np.arange({X.shape[0]}), 7),
            np.vstack([model.recommend_from_history(history, 7),
                       np.zeros(({X.shape[0]} - 9, 7), dtype=np.int64)])]))
    """)
    subprocess.run([sys.executable, "-c", script], check=True)
    out = np.load(tmp_path / "out.npy")
    np.testing.assert_array_equal(out[:, :7], model.recommend(np.arange(X.shape[0]), 7))
    np.testing.assert_array_equal(out[:9, 7:], model.recommend_from_history(X[:9], 7))


def test_stored_encoders_are_plain_data(quick_model, X):
    # What makes a CUDA-trained model load on a CPU-only machine: the stored
    # state holds numpy weights, not device tensors.
    model = quick_model("CCSR").fit(X)
    state = model.__getstate__()
    assert isinstance(state["user_encoder_"], dict)
    weights = state["user_encoder_"]["layers"][1]["layers"][0]["weight"]
    assert isinstance(weights, np.ndarray) and weights.dtype == np.float32
    assert isinstance(model.user_encoder_, torch.nn.Module)  # the live model is untouched


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_model_trained_on_cuda_is_stored_on_cpu(quick_model, X):
    model = quick_model("CCSR", device="cuda").fit(X)
    params = list(model.user_encoder_.parameters())
    assert all(p.device.type == "cpu" for p in params)
    same_behaviour(model, pickle.loads(pickle.dumps(model)), X)
