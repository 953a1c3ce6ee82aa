"""The techniques of benchmarks/quality_variants.py compute what docs/quality.md says they do."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from test_docs_results import load_script

from sklearn_hashrec.nn import autoencoder_pair, encode_batch
from sklearn_hashrec.training import Batch, sparse_tensor


@pytest.mark.parametrize("gradient_only", [False, True])
def test_sampled_reconstructions_average_to_the_dense_loss_and_gradients(gradient_only):
    # Unbiased: averaged over blocks whose columns partition the inputs, the
    # sampled loss and every gradient equal those of torch's dense decoders
    # over all columns. So the quality they lost is the estimate's noise.
    variants = load_script("quality_variants")
    X = sp.random(50, 30, density=0.2, random_state=0, format="csr", dtype=np.float32) * 5
    users, items = np.arange(0, 50, 5), np.arange(0, 30, 3)  # the rows scored
    torch.manual_seed(0)
    networks = autoencoder_pair(X, "ratings", (16,), 8, 0.0)
    rows, cols = X[users], X.T.tocsr()[items]
    dense = sum(
        torch.nn.functional.mse_loss(
            networks[f"{side}_decoder"](networks[f"{side}_encoder"](networks["input"](x))),
            networks["input"](x))
        for side, x in (("user", torch.from_numpy(rows.toarray())),
                        ("item", torch.from_numpy(cols.toarray()))))
    networks.zero_grad()
    dense.backward()
    expected = [p.grad.clone() for p in networks.parameters()]

    batch = Batch(users=torch.from_numpy(users), items=torch.from_numpy(items),
                  user_rows=sparse_tensor(rows, "cpu"), item_cols=sparse_tensor(cols, "cpu"),
                  block=torch.from_numpy(rows[:, items].toarray()), alpha=1.0)
    item_parts = np.random.default_rng(1).permutation(30).reshape(5, 6)
    user_parts = np.random.default_rng(2).permutation(50).reshape(5, 10)
    networks.zero_grad()
    total = 0.0
    for user_part, item_part in zip(user_parts, item_parts, strict=True):
        x_users, f_users, x_items, f_items = encode_batch(networks, batch)
        loss = (variants.sampled_reconstruction_mse(
                    networks["user_decoder"], f_users, x_users, torch.from_numpy(item_part),
                    gradient_only)
                + variants.sampled_reconstruction_mse(
                    networks["item_decoder"], f_items, x_items, torch.from_numpy(user_part),
                    gradient_only)) / len(item_parts)
        loss.backward()
        total += loss.item()
    assert total == pytest.approx(dense.item(), rel=1e-5)
    for got, want in zip([p.grad for p in networks.parameters()], expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)


def test_fused_reconstruction_has_torchs_dense_loss_and_gradients():
    # Against torch's dense decoder output and mse_loss, not the library's
    # Gram expansion: the same value and gradients for every parameter.
    variants = load_script("quality_variants")
    X = sp.random(40, 30, density=0.2, random_state=1, format="csr", dtype=np.float64) * 5
    X.data = np.ceil(X.data)  # ratings 1-5: exact in the float32 of sparse_tensor
    torch.manual_seed(0)
    networks = autoencoder_pair(X, "ratings", (16,), 8, 0.0).double()
    decoder, encoder = networks["user_decoder"], networks["user_encoder"]
    target = networks["input"](torch.from_numpy(X.toarray()))
    features = encoder(target)
    dense = torch.nn.functional.mse_loss(decoder(features), target)
    expected = torch.autograd.grad(dense, list(networks.parameters()), allow_unused=True)
    fused = variants.fused_reconstruction_mse(decoder, encoder(target),
                                              networks["input"](sparse_tensor(X, "cpu").double()))
    got = torch.autograd.grad(fused, list(networks.parameters()), allow_unused=True)
    assert fused.item() == pytest.approx(dense.item(), rel=1e-12)
    for g, e in zip(got, expected, strict=True):
        assert (g is None) == (e is None)
        if g is not None:
            torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-12)


def test_interacted_blocks_start_with_items_of_the_blocks_users():
    # Each user has one stored item (user u: item 7u), so the drawn items are
    # known: those of the block's first share of users, then uniform others.
    variants = load_script("quality_variants")
    n_users, n_items, batch = 40, 300, 16
    X = sp.csr_matrix((np.ones(n_users), (np.arange(n_users), 7 * np.arange(n_users))),
                      shape=(n_users, n_items))
    for share in (0.5, 1.0):
        sampler = variants.InteractedBlockSampler(batch, share=share)
        steps = list(sampler.epoch(X, torch.Generator().manual_seed(0)))
        assert len(steps) == sampler.n_steps(X) == int(np.ceil(n_items / batch))
        for users, items in steps:
            drawers = users[:int(share * batch)]
            assert len(items) == len(np.unique(items)) == batch
            np.testing.assert_array_equal(items[:len(drawers)], np.sort(7 * drawers))
