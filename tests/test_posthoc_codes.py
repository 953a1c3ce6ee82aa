"""The ITQ rotation benchmarks/posthoc_codes.py applies does what docs/quality.md says it does."""

import numpy as np
from test_docs_results import load_script


def quantization_error(Z, R):
    rotated = Z @ R
    return np.linalg.norm(np.where(rotated >= 0, 1.0, -1.0) - rotated)


def test_itq_keeps_inner_products_and_lowers_the_quantization_error():
    from sklearn_hashrec.binarization import itq_rotation

    rng = np.random.default_rng(0)
    # Correlated dimensions, as a model's codes have: the axes are a poor
    # quantizer, a rotation a better one.
    Z = rng.normal(size=(300, 8)) @ rng.normal(size=(8, 8))
    R = itq_rotation(Z, n_iter=50, random_state=0, center=False).astype(np.float64)
    np.testing.assert_allclose(R @ R.T, np.eye(8), atol=1e-5)
    users, items = Z[:200], Z[200:]
    np.testing.assert_allclose((users @ R) @ (items @ R).T, users @ items.T, rtol=1e-4,
                               atol=1e-3)
    start, _ = np.linalg.qr(np.random.RandomState(0).standard_normal((8, 8)))
    assert quantization_error(Z, R) < quantization_error(Z, start)
    assert quantization_error(Z, R) < quantization_error(Z, np.eye(8))
    # More iterations never raise it (each step is a descent step).
    longer = itq_rotation(Z, n_iter=100, random_state=0, center=False).astype(np.float64)
    assert quantization_error(Z, longer) <= quantization_error(Z, R) + 1e-4


def test_with_codes_ranks_by_the_given_signs():
    from sklearn_hashrec import CCSR

    posthoc = load_script("posthoc_codes")
    X = (np.random.default_rng(1).random((40, 25)) < 0.3).astype(np.float32)
    model = CCSR(n_bits=8, binarize=None, max_epochs=1, random_state=0).fit(X)
    users = np.random.default_rng(2).normal(size=(40, 8))
    items = np.random.default_rng(3).normal(size=(25, 8))
    binary = posthoc.with_codes(model, users, items)
    assert binary.user_codes_.dtype == np.int8 and model.user_codes_.dtype == np.float32
    # Brute force: Hamming distance = (n_bits - <b_u, b_i>) / 2, unseen items only.
    b_u, b_i = np.where(users >= 0, 1, -1), np.where(items >= 0, 1, -1)
    distance = (8 - b_u @ b_i.T) / 2.0
    distance[X > 0] = np.inf
    top = binary.recommend(np.arange(40), k=3)
    best = np.sort(distance, axis=1)[:, :3]
    np.testing.assert_array_equal(np.take_along_axis(distance, top, axis=1), best)
