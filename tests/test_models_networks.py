"""The encoder networks of the neural models (sklearn_hashrec/nn.py): sparse input, batching."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sklearn_hashrec.nn import (
    InteractionInput,
    autoencoder_pair,
    encode_batch,
    encode_rows,
    make_mlp,
    reconstruction_loss,
)
from sklearn_hashrec.training import Batch, sparse_tensor


def test_sparse_batches_give_the_dense_loss_and_gradients():
    # Training feeds the autoencoders sparse rows; the loss and its gradients
    # must be those of the dense rows, computed by torch's own dense layers.

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


def test_input_linear_is_nn_linear_in_the_transposed_layout():
    # Same random draws as nn.Linear, same function, sparse or dense input,
    # and a stored encoder that loads back to the same outputs.
    from sklearn_hashrec.nn import InputLinear, module_from_spec, module_to_spec

    torch.manual_seed(0)
    reference = torch.nn.Linear(30, 7)
    torch.manual_seed(0)
    layer = InputLinear(30, 7)
    torch.testing.assert_close(layer.weight, reference.weight.t())
    X = sp.random(12, 30, density=0.3, random_state=1, format="csr", dtype=np.float32)
    expected = X.toarray() @ reference.weight.detach().numpy().T + reference.bias.detach().numpy()
    for x in (sparse_tensor(X, "cpu"), torch.from_numpy(X.toarray())):
        np.testing.assert_allclose(layer(x).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    encoder = make_mlp(30, (8,), 5, sparse_input=True)
    assert isinstance(encoder[0], InputLinear)
    loaded = module_from_spec(module_to_spec(encoder))
    np.testing.assert_array_equal(encode_rows(loaded, X), encode_rows(encoder, X))


@pytest.mark.parametrize("surrogate, derivative", [
    ("identity", lambda f, w: np.ones_like(f)),
    ("clipped", lambda f, w: (np.abs(f) <= w).astype(float)),
    ("tanh", lambda f, w: 1 - np.tanh(f / w) ** 2),
    ("gaussian", lambda f, w: np.exp(-f**2 / (2 * w**2))),
])
def test_straight_through_sign_gradients(surrogate, derivative):
    from sklearn_hashrec.binarization import straight_through_sign

    values = np.array([-3.0, -0.7, 0.0, 0.2, 1.5, 4.0])
    f = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    codes = straight_through_sign(f, surrogate, width=0.8)
    np.testing.assert_array_equal(codes.detach().numpy(), np.where(values >= 0, 1.0, -1.0))
    (codes * torch.arange(1.0, 7.0, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(f.grad.numpy(), np.arange(1.0, 7.0) * derivative(values, 0.8),
                               rtol=1e-12)


def test_straight_through_sign_refuses_an_unknown_surrogate():
    from sklearn_hashrec.binarization import straight_through_sign

    with pytest.raises(ValueError, match="surrogate must be one of"):
        straight_through_sign(torch.zeros(3), "cosine")
