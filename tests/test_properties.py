"""Property-based: random shapes, sparsities, dtypes and value ranges give either a
documented error or a valid result."""

import numpy as np
import pytest
import scipy.sparse as sp

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sklearn_hashrec import CCSR, BinaryMF, PopularityRecommender  # noqa: E402

MODELS = [
    lambda: CCSR(n_bits=5, hidden_layer_sizes=(4,), max_epochs=1, batch_size=8, random_state=0),
    lambda: BinaryMF(n_bits=5, max_epochs=1, batch_size=8, random_state=0),
    PopularityRecommender,
]


@st.composite
def interaction_matrices(draw):
    n_users = draw(st.integers(1, 12))
    n_items = draw(st.integers(1, 9))
    density = draw(st.floats(0.0, 1.0))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.uint8]))
    scale = draw(st.sampled_from([1.0, 5.0, 1e-3, 1e6]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    values = rng.uniform(-scale if dtype not in (np.uint8,) else 0, scale, (n_users, n_items))
    values[rng.random((n_users, n_items)) > density] = 0
    values = values.astype(dtype)
    sparse = draw(st.booleans())
    return sp.csr_matrix(values) if sparse else values


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(X=interaction_matrices(), which=st.integers(0, len(MODELS) - 1), k=st.integers(1, 12))
def test_fit_transform_recommend_valid_or_documented_error(X, which, k):
    model = MODELS[which]()
    dense = X.toarray() if sp.issparse(X) else X
    try:
        model.fit(X)
    except ValueError as exc:
        assert not dense.any() and "no interactions" in str(exc)
        return
    n_users, n_items = dense.shape
    users = np.arange(n_users)
    ranked = model.recommend(users, k=k)
    assert ranked.shape == (n_users, min(k, n_items))
    assert ((ranked >= -1) & (ranked < n_items)).all()
    for row, user in zip(ranked, users, strict=True):
        valid = row[row >= 0]
        assert len(set(valid)) == len(valid)
        assert not (dense[user, valid] != 0).any()
        # Padding only once the user's unseen items run out.
        assert len(valid) == min(k, n_items, int((dense[user] == 0).sum()))
    if hasattr(model, "transform"):
        codes = model.transform(X)
        assert codes.shape == (n_users, 5) and set(np.unique(codes)) <= {-1, 1}
