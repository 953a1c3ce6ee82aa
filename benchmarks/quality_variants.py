"""Techniques of issue 12 tried on CCSR that did not become parameters.

Each is a ``CCSR`` subclass whose loss adds one technique; the run prints the
ML-1M protocol's metrics (per-user 80/20 split, relevance > 3, full ranking)
as one JSON line. The results are in docs/quality.md.

* ``decorrelation=w``: DCF's decorrelation constraint as a penalty, ``w``
  times the mean squared off-diagonal correlation between bits over the
  batch's users, and over its items;
* ``fourier_terms=n``: BGCH's Fourier-series surrogate: the backward pass of
  ``sign`` is the derivative of its first ``n`` odd sine terms on
  ``[-fourier_period/2, fourier_period/2]``, instead of the Gaussian;
* ``continuation=r``: HashGNN's continuation: each entry of a code is the
  straight-through sign with probability ``p``, else its continuous value
  (``tanh(f)``, or ``f`` itself with ``continuous="raw"``); ``p`` ramps
  linearly from ``1 / (r * max_epochs)`` to 1 over the first ``r`` of the
  epochs, after which training is on pure codes, as by default;
* ``reconstruction="sampled"``: the squared reconstruction of each
  autoencoder summed over the columns of the step's block only (the user
  decoder over its items, the item decoder over its users), scaled by
  ``n_inputs / n_columns``: an unbiased estimate that skips the exact Gram
  products (``n_inputs x hidden^2`` work per step); the stored entries stay
  exact. ``"sampled_gradient"``: the value and the decoder's gradients exact
  (one ``n_inputs x hidden^2`` product instead of three), only the gradient
  that flows back into the features sampled so. ``"fused"``: the exact loss,
  with its value and all its gradients in one autograd function
  (:class:`FusedReconstructionMSE`): two ``n_inputs x hidden^2`` products a
  step instead of three, and the decoder's gradient built in one buffer
  instead of summed from autograd's separate terms.
* ``block_items="interacted"``: half of each step's items are one stored
  item of each of the block's first ``batch_size / 2`` users (drawn
  uniformly from the user's row), the rest drawn as by default (a slice of
  the epoch's item permutation): on a sparse matrix a block of random users
  and random items holds almost no positive pair (Gowalla: about 170 of
  262,144), and this puts at least one in the rows of half its users
  (``interacted_share``: another share of them).

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/quality_variants.py \\
        '{"n_bits": 64, "decorrelation": 1.0}'

``--time-steps N`` fits only ``N`` + 2 training steps (one epoch) and prints
the seconds per step after the first two, e.g. on Gowalla
(``--dataset gowalla``), where the reconstruction dominates a step.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import time

import numpy as np
import torch
from torch.nn import functional as F

from sklearn_hashrec import CCSR
from sklearn_hashrec.binarization import straight_through_sign
from sklearn_hashrec.experiments import load_dataset
from sklearn_hashrec.nn import (
    encode_batch,
    mse_from_output_squares,
    reconstruction_loss,
    sparse_matmul,
)
from sklearn_hashrec.training import samplers


class SampledGramSquares(torch.autograd.Function):
    """``sum_{rows, j} o_j^2`` of a linear output ``o = W z + b``, exactly, with a
    sampled gradient for ``z`` only.

    The value and the gradients of ``W`` and ``b`` need one ``n x h x h``
    product (``W Z'Z``); ``z``'s exact gradient ``2 (z W' + b) W`` would need
    the Gram matrix ``W'W`` too, so it is estimated from ``columns``.
    """

    @staticmethod
    def forward(ctx, z, weight, bias, columns):
        weight_moments = weight @ (z.t() @ z)
        z_sum = z.sum(0)
        value = ((weight * weight_moments).sum() + 2 * (weight @ z_sum) @ bias
                 + z.shape[0] * (bias * bias).sum())
        ctx.save_for_backward(z, weight, bias, columns, weight_moments, z_sum)
        return value

    @staticmethod
    def backward(ctx, grad):
        z, weight, bias, columns, weight_moments, z_sum = ctx.saved_tensors
        sample_weight, sample_bias = weight[columns], bias[columns]
        scale = weight.shape[0] / len(columns)
        grad_z = 2 * scale * (z @ sample_weight.t() + sample_bias) @ sample_weight
        grad_weight = 2 * (weight_moments + torch.outer(bias, z_sum))
        grad_bias = 2 * (weight @ z_sum + z.shape[0] * bias)
        return grad * grad_z, grad * grad_weight, grad * grad_bias, None


class FusedReconstructionMSE(torch.autograd.Function):
    """``reconstruction_mse`` of ``o = W z + b`` against a sparse target: the same
    value, and the exact gradients written out instead of left to autograd.

    Per row ``sum_j (o_j - x_j)^2 = z'Gz + 2 z'W'b + b'b - 2 (xW) z - 2 x b + x'x``
    with ``G = W'W``. The gradients, over ``D = rows x n_inputs``:
    ``dz = 2 (z G + W'b - xW) / D``, ``dW = 2 (W Z'Z + b 1'Z - X'Z) / D`` and
    ``db = 2 (W Z'1 + rows b - X'1) / D``. ``dW`` needs one ``n_inputs x h x h``
    product (autograd's backward of ``W'W`` takes two), and its sparse and
    rank-one parts are added into that product's buffer.
    """

    @staticmethod
    def forward(ctx, z, weight, bias, target):
        rows, columns = target.indices()
        values = target.values()
        gram = weight.t() @ weight
        z_sum = z.sum(0)
        x_weight = sparse_matmul(target, weight)
        n_rows, n_inputs = z.shape[0], weight.shape[0]
        squares = ((z @ gram) * z).sum() + 2 * (weight @ z_sum) @ bias + n_rows * bias @ bias
        cross = (x_weight * z).sum() + values @ bias[columns]
        ctx.save_for_backward(z, weight, bias, gram, z_sum, x_weight, rows, columns, values)
        return (squares - 2 * cross + values @ values) / (n_rows * n_inputs)

    @staticmethod
    def backward(ctx, grad):
        z, weight, bias, gram, z_sum, x_weight, rows, columns, values = ctx.saved_tensors
        n_rows, n_inputs = z.shape[0], weight.shape[0]
        scale = 2 * grad / (n_rows * n_inputs)
        grad_z = (z @ gram + weight.t() @ bias - x_weight) * scale
        grad_weight = weight @ (z.t() @ z)
        grad_weight.addr_(bias, z_sum)
        # X'Z, a sum of rows of z per input column, for the columns the batch stores
        by_column = torch.sparse_coo_tensor(torch.stack([columns, rows]), values,
                                            (n_inputs, n_rows), check_invariants=False)
        by_column = by_column.coalesce()
        stored_columns, stored_rows = by_column.indices()
        present, counts = torch.unique_consecutive(stored_columns, return_counts=True)
        per_column = F.embedding_bag(stored_rows, z, torch.cumsum(counts, 0) - counts,
                                     mode="sum", per_sample_weights=by_column.values())
        grad_weight.index_add_(0, present, per_column, alpha=-1)
        grad_weight.mul_(scale)
        grad_bias = weight @ z_sum + n_rows * bias
        grad_bias.index_add_(0, columns, values, alpha=-1)
        return grad_z, grad_weight, grad_bias * scale, None


def fused_reconstruction_mse(decoder, features, target):
    """The library's ``reconstruction_mse`` through :class:`FusedReconstructionMSE`."""
    last = decoder[-1]
    return FusedReconstructionMSE.apply(decoder[:-1](features), last.weight, last.bias, target)


def sampled_reconstruction_mse(decoder, features, target, columns, gradient_only):
    """The library's ``reconstruction_mse`` with ``sum_j o_j^2`` sampled over ``columns``."""
    z = decoder[:-1](features)
    weight, bias = decoder[-1].weight, decoder[-1].bias
    if gradient_only:
        squares = SampledGramSquares.apply(z, weight, bias, columns)
    else:
        sampled = F.linear(z, weight[columns], bias[columns])
        squares = weight.shape[0] / len(columns) * (sampled * sampled).sum()
    return mse_from_output_squares(z, weight, bias, target, squares)


class InteractedBlockSampler(samplers.BlockSampler):
    """:class:`BlockSampler` blocks whose first items are stored items of the
    block's users (one each, of its first ``share * batch_size`` users)."""

    def __init__(self, batch_size: int, share: float = 0.5):
        super().__init__(batch_size)
        self.share = share

    def _steps(self, X, user_order, item_order, generator):
        n_drawing = int(self.share * self.batch_size)
        row_lengths = np.diff(X.indptr)
        for step in range(self.n_steps(X)):
            users = samplers.wrapped_slice(user_order, step, self.batch_size)
            drawers = users[:n_drawing]
            drawers = drawers[row_lengths[drawers] > 0]
            draws = torch.rand(len(drawers), generator=generator, dtype=torch.float64).numpy()
            offsets = np.minimum((draws * row_lengths[drawers]).astype(np.int64),
                                 row_lengths[drawers] - 1)
            interacted = np.unique(X.indices[X.indptr[drawers] + offsets])
            uniform = samplers.wrapped_slice(item_order, step, self.batch_size)
            uniform = uniform[~np.isin(uniform, interacted)][:self.batch_size - len(interacted)]
            yield users, np.concatenate([interacted, uniform]).astype(np.int64)


class CCSRVariant(CCSR):
    """CCSR-S (binarize="sign", straight-through) with an extra technique."""

    def __init__(self, n_bits=64, *, decorrelation=0.0, continuation=0.0, continuous="tanh",
                 fourier_terms=0, fourier_period=4.0, reconstruction="exact",
                 block_items="uniform", interacted_share=0.5, **params):
        super().__init__(n_bits, **params)
        self.block_items = block_items
        self.interacted_share = interacted_share
        self.fourier_terms = fourier_terms
        self.fourier_period = fourier_period
        self.decorrelation = decorrelation
        self.continuation = continuation
        self.continuous = continuous
        self.reconstruction = reconstruction

    def get_params(self, deep=True):
        return {**super().get_params(deep), "decorrelation": self.decorrelation,
                "fourier_terms": self.fourier_terms, "fourier_period": self.fourier_period,
                "continuation": self.continuation, "continuous": self.continuous,
                "reconstruction": self.reconstruction, "block_items": self.block_items,
                "interacted_share": self.interacted_share}

    @property
    def _sampler_class(self):
        # The trainer builds the sampler from the batch size alone.
        if self.block_items == "uniform":
            return samplers.BlockSampler
        return functools.partial(InteractedBlockSampler, share=self.interacted_share)

    def _fourier_sign(self, features):
        # sign(f) ~ 4/pi * sum_k sin((2k+1) w f) / (2k+1), w = 2 pi / period: its
        # derivative is the backward pass, sign itself the forward.
        omega = 2 * math.pi / self.fourier_period
        smooth = sum(torch.sin((2 * k + 1) * omega * features) / (2 * k + 1)
                     for k in range(self.fourier_terms)) * (4 / math.pi)
        signs = torch.where(features >= 0, 1.0, -1.0).to(features.dtype)
        return smooth + (signs - smooth).detach()

    def _codes(self, features, epoch):
        if self.fourier_terms > 0:
            codes = self._fourier_sign(features)
        else:
            codes = straight_through_sign(features, self.sign_surrogate, self.surrogate_width)
        if self.continuation <= 0:
            return codes
        binary_share = min(1.0, (epoch + 1) / (self.continuation * self.max_epochs))
        if binary_share >= 1.0:
            return codes
        relaxed = torch.tanh(features) if self.continuous == "tanh" else features
        return torch.where(torch.rand_like(features) < binary_share, codes, relaxed)

    def _batch_loss(self, networks, batch):
        # The exponential alpha schedule gives the epoch: alpha = growth ** epoch.
        epoch = round(math.log(batch.alpha) / math.log(self.alpha_growth))
        x_users, f_users, x_items, f_items = encode_batch(networks, batch)
        logits = self._scale() * (self._codes(f_users, epoch) @ self._codes(f_items, epoch).T)
        similar = (batch.block > self.relevance_threshold).to(logits.dtype)
        loss = F.binary_cross_entropy_with_logits(
            logits, similar, pos_weight=torch.tensor(float(self.pos_weight)))
        if self.reconstruction == "exact":
            loss_ae = reconstruction_loss(networks, x_users, f_users, x_items, f_items)
        elif self.reconstruction == "fused":
            loss_ae = (fused_reconstruction_mse(networks["user_decoder"], f_users, x_users)
                       + fused_reconstruction_mse(networks["item_decoder"], f_items, x_items))
        else:
            gradient_only = self.reconstruction == "sampled_gradient"
            loss_ae = (sampled_reconstruction_mse(networks["user_decoder"], f_users, x_users,
                                                  batch.items, gradient_only)
                       + sampled_reconstruction_mse(networks["item_decoder"], f_items, x_items,
                                                    batch.users, gradient_only))
        loss = loss + self.lambda_ae * loss_ae
        loss = loss + self.lambda_b * (f_users.mean(0).pow(2).sum()
                                       + f_items.mean(0).pow(2).sum())
        if self.decorrelation > 0:
            for features in (f_users, f_items):
                z = (features - features.mean(0)) / (features.std(0) + 1e-6)
                correlation = z.T @ z / len(z)
                off_diagonal = correlation - torch.diag(torch.diag(correlation))
                loss = loss + self.decorrelation * off_diagonal.pow(2).sum() / (
                    self.n_bits * (self.n_bits - 1))
        return loss


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("params", nargs="?", default="{}", help="CCSRVariant parameters, JSON")
    parser.add_argument("seed", nargs="?", type=int, default=0)
    parser.add_argument("--dataset", default="ml-1m")
    parser.add_argument("--time-steps", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    params, seed = json.loads(args.params), args.seed
    data, protocol = load_dataset(args.dataset)
    train, test = protocol.split(data.data, seed)
    if args.time_steps:
        one_epoch = CCSRVariant(random_state=seed, **{**params, "max_epochs": 1})
        print(json.dumps({"params": params, "dataset": args.dataset, "seconds_per_step":
                          seconds_per_step(one_epoch, train, args.time_steps)}))
        return
    model = CCSRVariant(random_state=seed, **params)
    if args.dataset == "ml-1m":
        protocol = protocol.with_options(ndcg_at=(10,), recall_at=(10,))
    start = time.perf_counter()
    scores = protocol.fit_and_evaluate(model, train, test)
    print(json.dumps({"params": params, "seed": seed, "wall": time.perf_counter() - start,
                      **scores}))


def seconds_per_step(model, train, n_steps):
    """Seconds per training step of a one-epoch ``model``: fits of 2 and of
    ``n_steps`` + 2 steps, differenced (the set-up and the final encoding cancel)."""
    n_steps_of_epoch = samplers.BlockSampler.n_steps
    times = []
    try:
        for steps in (2, n_steps + 2):
            samplers.BlockSampler.n_steps = lambda self, X, steps=steps: steps
            start = time.perf_counter()
            model.fit(train)
            times.append(time.perf_counter() - start)
    finally:
        samplers.BlockSampler.n_steps = n_steps_of_epoch
    return (times[1] - times[0]) / n_steps


if __name__ == "__main__":
    main()
