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
  epochs, after which training is on pure codes, as by default.

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/quality_variants.py \\
        '{"n_bits": 64, "decorrelation": 1.0}'
"""

from __future__ import annotations

import json
import math
import sys
import time

import torch
from torch.nn import functional as F

from sklearn_hashrec import CCSR
from sklearn_hashrec.binarization import straight_through_sign
from sklearn_hashrec.experiments import load_dataset
from sklearn_hashrec.models._networks import encode_batch, reconstruction_loss


class CCSRVariant(CCSR):
    """CCSR-S (binarize="sign", straight-through) with an extra technique."""

    def __init__(self, n_bits=64, *, decorrelation=0.0, continuation=0.0, continuous="tanh",
                 fourier_terms=0, fourier_period=4.0, **params):
        super().__init__(n_bits, **params)
        self.fourier_terms = fourier_terms
        self.fourier_period = fourier_period
        self.decorrelation = decorrelation
        self.continuation = continuation
        self.continuous = continuous

    def get_params(self, deep=True):
        return {**super().get_params(deep), "decorrelation": self.decorrelation,
                "fourier_terms": self.fourier_terms, "fourier_period": self.fourier_period,
                "continuation": self.continuation, "continuous": self.continuous}

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
        loss = loss + self.lambda_ae * reconstruction_loss(networks, x_users, f_users,
                                                           x_items, f_items)
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
    argv = sys.argv[1:] if argv is None else argv
    params = json.loads(argv[0]) if argv else {}
    seed = int(argv[1]) if len(argv) > 1 else 0
    data, protocol = load_dataset("ml-1m")
    protocol = protocol.with_options(ndcg_at=(10,), recall_at=(10,))
    train, test = protocol.split(data.data, seed)
    start = time.perf_counter()
    scores = protocol.fit_and_evaluate(CCSRVariant(random_state=seed, **params), train, test)
    print(json.dumps({"params": params, "seed": seed, "wall": time.perf_counter() - start,
                      **scores}))


if __name__ == "__main__":
    main()
