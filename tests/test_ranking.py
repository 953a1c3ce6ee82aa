import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_hashrec.ranking import hamming_topk, pack_codes


def brute_force(query, items, k, exclude=None):
    """Rank by Hamming distance = number of differing bits, ties by item index."""
    dist = (query[:, None, :] != items[None, :, :]).sum(axis=2).astype(float)
    if exclude is not None:
        dist[exclude.toarray() != 0] = np.inf
    n_items = items.shape[0]
    out_items = np.full((query.shape[0], min(k, n_items)), -1)
    out_dist = np.full(out_items.shape, np.inf)
    for u in range(query.shape[0]):
        order = sorted(range(n_items), key=lambda i: (dist[u, i], i))
        order = [i for i in order if np.isfinite(dist[u, i])][:k]
        out_items[u, : len(order)] = order
        out_dist[u, : len(order)] = dist[u, order]
    return out_dist, out_items


@pytest.fixture(params=["one-pass", "counting"], autouse=True)
def kernel(request, monkeypatch):
    """Run every ranking test with each of the two selection kernels."""
    import sklearn_hashrec.ranking as ranking

    one_pass = request.param == "one-pass"
    monkeypatch.setattr(ranking, "_ONE_PASS_K_FACTOR", 0 if one_pass else 10**12)
    return request.param


def random_codes(rng, n, bits):
    return np.where(rng.random((n, bits)) < 0.5, 1, -1).astype(np.int8)


@pytest.mark.parametrize("n_bits", [1, 5, 63, 65, 200])
def test_matches_brute_force(n_bits):
    rng = np.random.default_rng(n_bits)
    query, items = random_codes(rng, 17, n_bits), random_codes(rng, 41, n_bits)
    exclude = sp.random(17, 41, density=0.2, random_state=0, format="csr")
    for k in (1, 7, 41):
        for excl in (None, exclude):
            dist, ranked = hamming_topk(query, items, k, exclude=excl, return_distance=True)
            expected_dist, expected = brute_force(query, items, k, excl)
            np.testing.assert_array_equal(ranked, expected)
            np.testing.assert_array_equal(dist, expected_dist)


@pytest.mark.parametrize("n_bits", [64, 128, 192, 256, 320])
def test_matches_a_stable_sort_on_a_large_catalogue_with_many_ties(n_bits):
    # Items are noisy copies of a few prototypes, so many share a distance and
    # the one-pass kernel's cut-off falls in steps, across several tiles and
    # chunks; queries are close to a prototype, so the cut-off falls far.
    rng = np.random.default_rng(n_bits)
    prototypes = random_codes(rng, 4, n_bits)
    flips = rng.random((9_000, n_bits)) < 0.05
    items = np.where(flips, -1, 1).astype(np.int8) * prototypes[rng.integers(0, 4, 9_000)]
    query = prototypes[rng.integers(0, 4, 12)] * np.where(
        rng.random((12, n_bits)) < 0.03, -1, 1).astype(np.int8)
    exclude = sp.random(12, 9_000, density=0.3, random_state=1, format="csr")
    dist = (n_bits - query.astype(np.int64) @ items.astype(np.int64).T) // 2
    masked = np.where(exclude.toarray() != 0, n_bits + 1, dist)
    for k in (1, 10, 100):
        order = np.argsort(masked, axis=1, kind="stable")[:, :k]
        got_dist, got = hamming_topk(query, items, k, exclude=exclude, return_distance=True)
        np.testing.assert_array_equal(got, order)
        np.testing.assert_array_equal(got_dist, np.take_along_axis(dist, order, axis=1))


def test_ties_broken_by_item_index():
    query = np.ones((1, 4), dtype=np.int8)
    items = np.array([[1, 1, 1, -1]] * 5, dtype=np.int8)  # all at distance 1
    assert hamming_topk(query, items, 3).tolist() == [[0, 1, 2]]


def test_k_larger_than_available_items_is_padded():
    query = np.ones((2, 3), dtype=np.int8)
    items = np.ones((4, 3), dtype=np.int8)
    seen = sp.csr_matrix(np.array([[1, 0, 1, 0], [1, 1, 1, 1]]))
    dist, ranked = hamming_topk(query, items, 10, exclude=seen, return_distance=True)
    assert ranked.shape == (2, 4)  # k is capped at the number of items
    assert ranked.tolist() == [[1, 3, -1, -1], [-1, -1, -1, -1]]
    assert np.isinf(dist[1]).all() and dist[0, :2].tolist() == [0, 0]


def test_continuous_codes_rank_by_inner_product():
    rng = np.random.default_rng(0)
    query, items = rng.normal(size=(5, 8)), rng.normal(size=(30, 8))
    ranked = hamming_topk(query, items, 30)
    expected = np.argsort(-(query @ items.T), axis=1, kind="stable")
    np.testing.assert_array_equal(ranked, expected)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"k": 0}, ValueError),
        ({"k": 2.5}, TypeError),
        ({"k": 2, "exclude": sp.csr_matrix((3, 3))}, ValueError),
    ],
)
def test_bad_arguments(kwargs, error):
    codes = np.ones((2, 4), dtype=np.int8)
    with pytest.raises(error):
        hamming_topk(codes, np.ones((5, 4), dtype=np.int8), **kwargs)


def test_bit_mismatch():
    with pytest.raises(ValueError, match="bits"):
        hamming_topk(np.ones((2, 4)), np.ones((5, 3)), 2)


@pytest.mark.parametrize("n_bits", [1, 5, 63, 64, 65, 200])
def test_pack_roundtrip_and_packed_input(n_bits):
    from sklearn_hashrec.ranking import pack_codes, unpack_codes

    rng = np.random.default_rng(0)
    query, items = random_codes(rng, 9, n_bits), random_codes(rng, 50, n_bits)
    packed = pack_codes(items)
    assert packed.dtype == np.uint64 and packed.shape == (50, -(-n_bits // 64))
    np.testing.assert_array_equal(unpack_codes(packed, n_bits), items)
    expected = hamming_topk(query, items, 12, return_distance=True)
    got = hamming_topk(pack_codes(query), packed, 12, return_distance=True, n_bits=n_bits)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def test_packed_input_needs_n_bits():
    from sklearn_hashrec.ranking import pack_codes

    words = pack_codes(np.ones((3, 10), dtype=np.int8))
    with pytest.raises(ValueError, match="n_bits"):
        hamming_topk(words, words, 2)
    with pytest.raises(ValueError, match="n_bits"):
        hamming_topk(words, words, 2, n_bits=65)


def test_users_with_everything_seen_and_duplicate_exclusions():
    rng = np.random.default_rng(1)
    query, items = random_codes(rng, 3, 16), random_codes(rng, 6, 16)
    exclude = sp.csr_matrix(np.array([[1, 1, 1, 1, 1, 1], [0] * 6, [0, 1, 0, 0, 0, 0]]))
    ranked = hamming_topk(query, items, 4, exclude=exclude)
    assert (ranked[0] == -1).all()
    assert (ranked[1] >= 0).all() and 1 not in ranked[2]
    # An exclusion matrix in COO form with a repeated entry means the same thing.
    coo = sp.coo_matrix(([1, 1], ([2, 2], [1, 1])), shape=(3, 6))
    np.testing.assert_array_equal(hamming_topk(query, items, 4, exclude=coo)[2], ranked[2])


def test_thread_safe():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(2)
    query, items = random_codes(rng, 200, 64), random_codes(rng, 3000, 64)
    serial = [hamming_topk(query[i::8], items, 10) for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda i: hamming_topk(query[i::8], items, 10), range(8)))
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n_bits", [8, 64, 256])
def test_agrees_with_faiss(n_bits):
    faiss = pytest.importorskip("faiss")
    from sklearn_hashrec.ranking import pack_codes

    rng = np.random.default_rng(n_bits)
    query, items = random_codes(rng, 50, n_bits), random_codes(rng, 2000, n_bits)
    index = faiss.IndexBinaryFlat(64 * -(-n_bits // 64))
    index.add(pack_codes(items).view(np.uint8))
    faiss_dist, _ = index.search(pack_codes(query).view(np.uint8), 20)
    dist, _ = hamming_topk(query, items, 20, return_distance=True)
    np.testing.assert_array_equal(dist, faiss_dist)


def test_exclude_matrix_is_not_modified():
    rng = np.random.default_rng(3)
    query, items = random_codes(rng, 2, 8), random_codes(rng, 5, 8)
    # Sorted but with a duplicate entry: not canonical.
    exclude = sp.csr_matrix((np.ones(3), np.array([1, 1, 3]), np.array([0, 3, 3])), shape=(2, 5))
    before = (exclude.data.copy(), exclude.indices.copy(), exclude.indptr.copy())
    ranked = hamming_topk(query, items, 5, exclude=exclude)
    assert 1 not in ranked[0] and 3 not in ranked[0]
    for a, b in zip(before, (exclude.data, exclude.indices, exclude.indptr), strict=True):
        np.testing.assert_array_equal(a, b)


def test_topk_dense_keeps_the_tie_rule_with_many_ties():
    # Integer scores tie across the top-k boundary (popularity counts do);
    # against a full stable sort, which is the tie rule by definition.
    import scipy.sparse as sp

    from sklearn_hashrec.ranking import topk_dense

    rng = np.random.default_rng(0)
    for trial in range(50):
        n_queries, n_items = rng.integers(1, 30), rng.integers(2, 40)
        width = int(rng.integers(1, n_items + 1))
        dist = rng.integers(0, 4, (n_queries, n_items)).astype(float)
        exclude = sp.random(n_queries, n_items, density=0.3, random_state=trial, format="csr")
        masked = np.where(exclude.toarray() != 0, np.inf, dist)
        expected = np.argsort(masked, axis=1, kind="stable")[:, :width]
        expected_dist = np.take_along_axis(masked, expected, axis=1)
        items, dists = topk_dense(lambda a, b, d=dist: d[a:b], n_queries, n_items, width,
                                  exclude)
        np.testing.assert_array_equal(items, np.where(np.isfinite(expected_dist), expected, -1))
        np.testing.assert_array_equal(dists, expected_dist)


def test_topk_per_segment_is_a_sort_of_each_querys_pairs():
    # Against Python's sort by (distance, item) per query: ties across the
    # cut, items out of order within a query, empty queries, short queries.
    from sklearn_hashrec.ranking import topk_per_segment

    rng = np.random.default_rng(1)
    for _ in range(30):
        sizes = rng.integers(0, 12, rng.integers(1, 20))
        indptr = np.concatenate([[0], np.cumsum(sizes)])
        items = np.concatenate([rng.permutation(50)[:n] for n in sizes]).astype(np.int64)
        dist = rng.integers(0, 3, len(items)).astype(float)
        width = int(rng.integers(1, 8))
        got_items, got_dist = topk_per_segment(indptr, dist, items, width)
        for q, (lo, hi) in enumerate(zip(indptr[:-1], indptr[1:], strict=True)):
            best = sorted(zip(dist[lo:hi], items[lo:hi], strict=True))[:width]
            padded = best + [(np.inf, -1)] * (width - len(best))
            np.testing.assert_array_equal(got_items[q], [i for _, i in padded])
            np.testing.assert_array_equal(got_dist[q], [d for d, _ in padded])


def test_shared_order_against_brute_force():
    from sklearn_hashrec import PopularityRecommender
    from sklearn_hashrec.ranking import topk_shared_order

    rng = np.random.default_rng(3)
    dense = (rng.random((300, 40)) < 0.3).astype(np.float32)
    dense[5] = 1.0  # a user who saw everything: all padding
    X = sp.csr_matrix(dense)
    model = PopularityRecommender().fit(X)
    counts = np.asarray((X != 0).sum(axis=0)).ravel()
    seen = X.toarray() != 0
    distances, ranked = model.recommend(np.arange(300), k=12, return_distance=True)
    for u in range(300):
        unseen = np.flatnonzero(~seen[u])
        # Most interactions first, ties by item index: a stable sort of -count.
        expected = unseen[np.argsort(-counts[unseen], kind="stable")][:12]
        got = ranked[u][ranked[u] >= 0]
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(distances[u, :len(got)], counts.max() - counts[expected])
        assert np.isinf(distances[u, len(got):]).all() and (ranked[u, len(got):] == -1).all()
    # Unsorted, duplicated exclusions are read as a set, and left as given.
    exclude = sp.csr_matrix((np.ones(4), ([0, 0, 0, 1], [7, 2, 7, 0])), shape=(2, 10))
    exclude.has_canonical_format = False
    before = exclude.indices.copy()
    np.testing.assert_array_equal(topk_shared_order(np.arange(10), 2, 3, exclude),
                                  [[0, 1, 3], [1, 2, 3]])
    np.testing.assert_array_equal(exclude.indices, before)


def test_float_queries_against_packed_items_match_brute_force():
    # Asymmetric scoring: continuous queries, items packed. Integer-valued
    # queries keep every sum exact in float32, so the order is exact too.
    rng = np.random.default_rng(11)
    for n_bits in (8, 64, 70, 130):
        items = np.where(rng.random((300, n_bits)) < 0.5, 1, -1).astype(np.int8)
        queries = rng.integers(-4, 5, (25, n_bits)).astype(np.float32)
        exclude = sp.random(25, 300, density=0.1, random_state=1, format="csr")
        distances, ranked = hamming_topk(queries, pack_codes(items), 12, exclude=exclude,
                                         return_distance=True, n_bits=n_bits)
        brute = 0.5 * (n_bits - queries.astype(np.float64) @ items.T.astype(np.float64))
        brute[exclude.toarray() != 0] = np.inf
        order = np.argsort(brute, axis=1, kind="stable")[:, :12]
        np.testing.assert_array_equal(ranked, order)
        np.testing.assert_array_equal(distances, np.take_along_axis(brute, order, axis=1))


def test_packed_items_with_binary_queries_rank_by_hamming():
    rng = np.random.default_rng(12)
    items = np.where(rng.random((200, 40)) < 0.5, 1, -1).astype(np.int8)
    queries = np.where(rng.random((10, 40)) < 0.5, 1, -1).astype(np.int8)
    np.testing.assert_array_equal(
        hamming_topk(queries, pack_codes(items), 7, n_bits=40),
        hamming_topk(queries, items, 7))
    with pytest.raises(ValueError, match="n_bits=40"):
        hamming_topk(queries[:, :30].astype(np.float32), pack_codes(items), 7, n_bits=40)
