"""Bad input never gives a wrong answer; faults stop cleanly; runs reproduce."""

import hashlib
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import planted_interactions
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from sklearn_hashrec import (
    AECF,
    CCSR,
    DJSRH,
    BinaryMF,
    CFCodeReg,
    PopularityRecommender,
    RandomRecommender,
)

FAST = dict(n_bits=8, max_epochs=2, batch_size=32, random_state=0)
FACTORIES = {
    "CCSR": lambda: CCSR(hidden_layer_sizes=(16,), **FAST),
    "AECF": lambda: AECF(hidden_layer_sizes=(16, 8), **FAST),
    "DJSRH": lambda: DJSRH(hidden_layer_sizes=(16,), **FAST),
    "BinaryMF": lambda: BinaryMF(**FAST),
    "CFCodeReg": lambda: CFCodeReg(**FAST),
    "Random": lambda: RandomRecommender(random_state=0),
    "Popularity": lambda: PopularityRecommender(),
}
NAMES = sorted(FACTORIES)


@pytest.fixture(scope="module")
def X():
    return planted_interactions(n_users=50, n_items=30)[0]


BAD_FIT_INPUTS = [
    ("nan", lambda X: np.where(X.toarray() > 4, np.nan, X.toarray()), "NaN"),
    ("inf", lambda X: np.where(X.toarray() > 4, np.inf, X.toarray()), "infinity"),
    ("too large for float32", lambda X: X.toarray() * 1e300, "float32"),
    ("no users", lambda X: np.zeros((0, 30)), "0 sample"),
    ("no items", lambda X: np.zeros((5, 0)), "0 feature"),
    ("1-D", lambda X: X.toarray()[0], "2D array"),
    ("strings", lambda X: np.array([["a", "b"], ["c", "d"]]), "convert|string"),
    ("objects", lambda X: np.array([[{}, 1], [2, 3]], dtype=object), "float|dict"),
    ("all zeros", lambda X: np.zeros((5, 4)), "no interactions"),
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case, make_bad, match", BAD_FIT_INPUTS,
                         ids=[case[0] for case in BAD_FIT_INPUTS])
def test_bad_fit_input_is_a_clear_error(name, case, make_bad, match, X):
    with pytest.raises((ValueError, TypeError), match=match):
        FACTORIES[name]().fit(make_bad(X))


@pytest.mark.parametrize("name", NAMES)
def test_bad_arguments_after_fit(name, X):
    model = FACTORIES[name]().fit(X)
    with pytest.raises(ValueError, match="features"):
        model.recommend_from_history(X[:, :10])
    if hasattr(model, "transform"):
        with pytest.raises(ValueError, match="features"):
            model.transform(X[:, :10])
    for users, error in [([50], ValueError), ([-1], ValueError), ([1.5], TypeError),
                         ([[0, 1]], ValueError), (["a"], TypeError), ([True], TypeError)]:
        with pytest.raises(error):
            model.recommend(users)
    for k, error in [(0, ValueError), (-3, ValueError), (2.0, TypeError), (None, TypeError)]:
        with pytest.raises(error):
            model.recommend([0], k=k)


@pytest.mark.parametrize("name", NAMES)
def test_negative_values_are_low_ratings(name, X):
    signed = X.copy()
    signed.data = signed.data - 3.0  # ratings 1..5 -> -2..2, zeros from 3 removed below
    signed.eliminate_zeros()
    model = FACTORIES[name]().fit(signed)
    ranked = model.recommend(np.arange(50), k=5)
    seen = signed.toarray() != 0
    assert not np.take_along_axis(seen, np.where(ranked < 0, 0, ranked), axis=1)[ranked >= 0].any()


@pytest.mark.parametrize("name", NAMES)
def test_callers_matrix_is_never_modified(name, X):
    X = X.astype(np.float64)
    dense = X.toarray()

    def digest():
        return [hashlib.sha256(a.tobytes()).hexdigest()
                for a in (X.data, X.indices, X.indptr, dense)]

    before = digest()
    model = FACTORIES[name]().fit(X)
    model.fit(dense)
    model.recommend_from_history(X, k=3)
    model.score(X)
    if hasattr(model, "transform"):
        model.transform(dense)
        model.transform_items(X.T)
    assert digest() == before


def test_nan_loss_stops_with_a_remedy(X):
    with pytest.raises(FloatingPointError, match="Lower learning_rate"):
        BinaryMF(**FAST).fit(X * 1e18)


def test_keyboard_interrupt_leaves_the_model_unfitted(X, monkeypatch):
    model = CCSR(hidden_layer_sizes=(16,), **FAST)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(CCSR, "_batch_loss", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    assert not hasattr(model, "user_codes_")


SCRIPT = textwrap.dedent("""
    import hashlib, sys
    sys.path.insert(0, {tests!r})
    from conftest import planted_interactions
    from sklearn_hashrec import {name}
    X = planted_interactions(n_users=50, n_items=30)[0]
    model = {name}(n_bits=16, max_epochs=3, batch_size=32, random_state={seed}).fit(X)
    print(hashlib.sha256(model.user_codes_.tobytes() + model.item_codes_.tobytes()).hexdigest())
""")


def run_in_fresh_process(name, seed):
    from pathlib import Path

    script = SCRIPT.format(tests=str(Path(__file__).parent), name=name, seed=seed)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.parametrize("name", ["CCSR", "AECF", "DJSRH", "BinaryMF", "CFCodeReg"])
def test_same_seed_same_codes_across_processes(name):
    assert run_in_fresh_process(name, 7) == run_in_fresh_process(name, 7)


def test_no_seed_differs_between_runs(X):
    a = CCSR(n_bits=16, hidden_layer_sizes=(16,), max_epochs=2).fit(X)
    b = CCSR(n_bits=16, hidden_layer_sizes=(16,), max_epochs=2).fit(X)
    assert not np.array_equal(a.item_codes_, b.item_codes_)


@pytest.mark.parametrize("name", ["CCSR", "BinaryMF", "Popularity"])
def test_recommend_from_several_threads(name, X):
    model = FACTORIES[name]().fit(X)
    batches = [np.arange(i, 50, 7) for i in range(7)]
    serial = [model.recommend(b, 5) for b in batches]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda b: model.recommend(b, 5), batches * 3))
    for i, result in enumerate(threaded):
        np.testing.assert_array_equal(result, serial[i % 7])


def test_sparse_fit_never_densifies_the_whole_matrix(monkeypatch):
    # Any toarray() on the full users x items matrix would show up here.
    X = sp.random(3000, 2000, density=0.01, random_state=0, format="csr", dtype=np.float32)
    X.data[:] = 1
    largest = []
    original = sp.csr_matrix.toarray

    def spy(self, *args, **kwargs):
        largest.append(self.shape[0] * self.shape[1])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", spy)
    CCSR(n_bits=8, hidden_layer_sizes=(16,), max_epochs=1, batch_size=64, random_state=0).fit(X)
    # Training densifies batch rows (64 x 3000 at most); encoding at most 2**22 entries.
    assert max(largest) <= 2**22 < 3000 * 2000


def test_sparse_batches_give_the_dense_loss_and_gradients():
    # Training feeds the autoencoders sparse rows; the loss and its gradients
    # must be those of the dense rows, computed by torch's own dense layers.
    import torch

    from sklearn_hashrec.training import Batch, sparse_tensor
    from sklearn_hashrec.models._networks import autoencoder_pair, encode_batch, reconstruction_loss

    X = sp.random(50, 30, density=0.2, random_state=0, format="csr", dtype=np.float32) * 5
    users, items = np.arange(0, 50, 3), np.arange(0, 30, 2)
    torch.manual_seed(0)
    networks = autoencoder_pair(X, "ratings", (16,), 8, 0.0)
    results = []
    for sparse in (True, False):
        rows, cols = X[users], X.T.tocsr()[items]
        batch = Batch(users=torch.from_numpy(users), items=torch.from_numpy(items),
                      user_rows=sparse_tensor(rows, "cpu") if sparse else
                      torch.from_numpy(rows.toarray()),
                      item_cols=sparse_tensor(cols, "cpu") if sparse else
                      torch.from_numpy(cols.toarray()),
                      block=torch.from_numpy(rows[:, items].toarray()), alpha=1.0)
        networks.zero_grad()
        x_users, f_users, x_items, f_items = encode_batch(networks, batch)
        loss = reconstruction_loss(networks, x_users, f_users, x_items, f_items)
        loss.backward()
        results.append((loss.item(), f_users.detach().clone(),
                        [p.grad.clone() for p in networks.parameters()]))
    (sparse_loss, sparse_f, sparse_grads), (dense_loss, dense_f, dense_grads) = results
    assert sparse_loss == pytest.approx(dense_loss, rel=1e-5)
    torch.testing.assert_close(sparse_f, dense_f)
    for got, expected in zip(sparse_grads, dense_grads, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-6)


def test_encoding_in_batches_equals_one_dense_pass():
    # Many small sparse batches, rows with duplicate entries (which must add
    # up), empty rows, and the input transform, against one dense pass.
    import torch

    from sklearn_hashrec.models._networks import InteractionInput, encode_rows, make_mlp

    torch.manual_seed(0)
    module = torch.nn.Sequential(InteractionInput("ratings", 0.5), make_mlp(30, (8,), 5))
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 47, 400), rng.integers(0, 30, 400)
    X = sp.csr_matrix((rng.random(400).astype(np.float32), cols,
                       np.searchsorted(np.sort(rows), np.arange(48))), shape=(47, 30))
    assert not X.has_canonical_format
    expected = module(torch.from_numpy(X.toarray())).detach().numpy()
    got = encode_rows(module, X, batch_rows=3)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert encode_rows(module, X[:0]).shape == (0, 5)
