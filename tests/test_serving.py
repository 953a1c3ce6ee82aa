"""FAISS binary indexes against a brute-force Hamming computation in numpy."""

import numpy as np
import pytest

from sklearn_hashrec.ranking import pack_codes
from sklearn_hashrec.serving import faiss_binary_index

pytest.importorskip("faiss")


def brute_force(queries, items):
    """Every query-item Hamming distance, by counting differing signs."""
    return (queries[:, None, :] != items[None, :, :]).sum(-1)


@pytest.fixture(scope="module")
def clustered():
    """Items around 30 centres (a few flipped bits each), queries near them."""
    rng = np.random.default_rng(0)
    centres = np.where(rng.random((30, 40)) < 0.5, -1, 1)

    def around(n, flip):
        base = centres[rng.integers(0, 30, n)]
        return (base * np.where(rng.random(base.shape) < flip, -1, 1)).astype(np.int8)

    return around(4000, 0.08), around(60, 0.08)


def _search(index, queries, k):
    return index.search(pack_codes(queries).view(np.uint8), k)


@pytest.mark.parametrize("n_bits", [40, 64, 100])
def test_flat_and_fully_probed_ivf_are_exact(clustered, n_bits):
    rng = np.random.default_rng(n_bits)
    items, queries = clustered
    # Other code lengths: resample columns (with repeats beyond 40).
    columns = rng.integers(0, 40, n_bits)
    items, queries = items[:, columns], queries[:, columns]
    exact = np.sort(brute_force(queries, items), axis=1)[:, :10]
    for kind, options in [("flat", {}), ("ivf", {"n_lists": 20, "n_probe": 20})]:
        distances, ids = _search(faiss_binary_index(pack_codes(items), n_bits, kind, **options),
                                 queries, 10)
        np.testing.assert_array_equal(distances, exact)
        np.testing.assert_array_equal(
            np.take_along_axis(brute_force(queries, items), ids, axis=1), distances)


def test_ivf_with_few_probes_finds_most_neighbours(clustered):
    items, queries = clustered
    index = faiss_binary_index(pack_codes(items), 40, "ivf", n_lists=64, n_probe=8)
    distances, ids = _search(index, queries, 10)
    truth = brute_force(queries, items)
    np.testing.assert_array_equal(np.take_along_axis(truth, ids, axis=1), distances)
    exact_kth = np.sort(truth, axis=1)[:, 9:10]
    recall = (distances <= exact_kth).mean()
    assert 0.7 < recall <= 1.0


@pytest.mark.parametrize("n_hash, n_flip", [(4, 0), (4, 1), (8, 1), (2, 2)])
def test_multihash_is_exact_within_its_radius(clustered, n_hash, n_flip):
    items, queries = clustered
    index = faiss_binary_index(pack_codes(items), 40, "multihash", n_hash=n_hash, n_flip=n_flip)
    k = 10
    distances, ids = _search(index, queries, k)
    truth = brute_force(queries, items)
    found = ids >= 0
    # Every returned distance is the true one ...
    np.testing.assert_array_equal(np.take_along_axis(truth, np.where(found, ids, 0), axis=1)[found],
                                  distances[found])
    # ... and every item within the guaranteed radius is returned, nearest first.
    radius = n_hash * (n_flip + 1) - 1
    exact = np.sort(truth, axis=1)[:, :k]
    within = exact <= radius
    assert within.any()
    np.testing.assert_array_equal(distances[within], exact[within])


def test_bad_options_are_clear_errors(clustered):
    items, _ = clustered
    packed = pack_codes(items)
    with pytest.raises(ValueError, match="kind must be one of"):
        faiss_binary_index(packed, 40, "hnsw")
    with pytest.raises(ValueError, match="n_bits must be in"):
        faiss_binary_index(packed, 65)
    with pytest.raises(ValueError, match="n_lists must be in"):
        faiss_binary_index(packed, 40, "ivf", n_lists=10**6)
    with pytest.raises(ValueError, match="n_hash must be in"):
        faiss_binary_index(packed, 40, "multihash", n_hash=41)
    wide = pack_codes(np.where(np.random.default_rng(0).random((5, 128)) < 0.5, -1, 1))
    with pytest.raises(ValueError, match="at most 64: use n_hash >= 2"):
        faiss_binary_index(wide, 128, "multihash", n_hash=1)
    assert faiss_binary_index(wide, 128, "multihash", n_hash=2).ntotal == 5


def test_ivf_is_reproducible(clustered):
    items, queries = clustered
    runs = [_search(faiss_binary_index(pack_codes(items), 40, "ivf", n_lists=32, n_probe=2,
                                       max_training_points=1000, random_state=3), queries, 5)
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_a_models_index_kinds(quick_model, small_X):
    model = quick_model("CCSR").fit(small_X)
    queries = pack_codes(model.user_codes_).view(np.uint8)
    truth = brute_force(model.user_codes_, model.item_codes_)
    for kind in ("flat", "ivf", "multihash"):
        index = model.to_faiss_index(kind)
        assert index.ntotal == small_X.shape[1]
        distances, ids = index.search(queries, 3)
        found = ids >= 0
        np.testing.assert_array_equal(
            np.take_along_axis(truth, np.where(found, ids, 0), axis=1)[found], distances[found])
