"""Base classes of the models trained with torch, public for writing new ones.

* :class:`~sklearn_hashrec.training.TorchHashRecommender` (in
  :mod:`sklearn_hashrec.training`): the shared parameters and the one
  training loop, which both bases here extend;
* :class:`EncoderPairModel`: a user encoder and an item encoder (CCSR, AECF,
  DJSRH): codes of trained encoders, fold-in, plain-data persistence;
* :class:`FactorizationModel`: a factor table per side (BinaryMF,
  CFCodeReg): codes from the factors, ridge fold-in (:func:`ridge_fold_in`).

Network building blocks are in :mod:`sklearn_hashrec.nn`; docs/writing-a-model.md
walks through a new model.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from ..binarization import finalize
from ..nn import encode_rows, module_from_spec, module_to_spec, squared_error
from ..training import RowSampler, TorchHashRecommender

__all__ = ["EncoderPairModel", "FactorizationModel", "ridge_fold_in"]


class EncoderPairModel(TorchHashRecommender):
    """Fit, codes and fold-in for models made of a user encoder and an item encoder.

    A subclass builds ``networks`` (a ``ModuleDict`` with ``"input"``,
    ``"user_encoder"`` and ``"item_encoder"``, plus whatever its loss needs)
    in ``_build_networks`` and defines ``_batch_loss``; it has a
    ``hidden_layer_sizes`` parameter. Codes are
    ``finalize(encoder(input(row)))`` for the model's ``binarize``.
    """

    def _hidden_sizes(self) -> tuple[int, ...]:
        sizes = tuple(np.atleast_1d(np.asarray(self.hidden_layer_sizes)).tolist())
        if not all(isinstance(s, Integral) and s >= 1 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must hold positive integers, got {self.hidden_layer_sizes!r}."
            )
        return sizes

    def _codes_from_networks(self, networks, alpha, X):
        users = self._encode(_encoder(networks, "user"), X, alpha)
        items = self._encode(_encoder(networks, "item"), X.T.tocsr(), alpha)
        return users, items

    def _fit(self, X):
        self._hidden_sizes()
        state = self._train(X)
        user_encoder = _encoder(state.networks, "user")
        item_encoder = _encoder(state.networks, "item")
        # The features before binarization: asymmetric scoring (query="features") ranks by them.
        user_features = encode_rows(user_encoder, X)
        return {
            "user_encoder_": user_encoder,
            "item_encoder_": item_encoder,
            **self._training_attributes(state),
            "user_features_": user_features,
            "user_codes_": finalize(user_features, self.binarize, state.alpha),
            "item_codes_": self._encode(item_encoder, X.T.tocsr(), state.alpha),
        }

    # ------------------------------------------------------- persistence
    # Encoders are stored as plain data (layer types, numpy weights), not as
    # pickled torch modules: the file then loads on any device whatever the
    # training device was, and skops can load it with only this class trusted.
    _ENCODERS = ("user_encoder_", "item_encoder_")
    _user_features_attribute = "user_features_"

    def __getstate__(self):
        state = super().__getstate__()
        for name in self._ENCODERS:
            if isinstance(state.get(name), nn.Module):
                state[name] = module_to_spec(state[name])
        return state

    def __setstate__(self, state):
        for name in self._ENCODERS:
            if isinstance(state.get(name), dict):
                state[name] = module_from_spec(state[name])
        super().__setstate__(state)

    def _encode(self, encoder, rows, alpha):
        return finalize(encode_rows(encoder, rows), self.binarize, alpha)

    def _encode_users(self, X):
        return self._encode(self.user_encoder_, X, self.alpha_)

    def _encode_items(self, Y):
        return self._encode(self.item_encoder_, Y, self.alpha_)

    def _user_features(self, users):
        if "user_features_" not in self.__dict__:
            raise ValueError(f"this {type(self).__name__} was saved before user features were "
                             "kept; refit it for query='features'.")
        return self.user_features_[users]

    def _encode_user_features(self, X):
        return encode_rows(self.user_encoder_, X)


def _encoder(networks: nn.ModuleDict, side: str) -> nn.Sequential:
    """The encoder of one side, with the input transform in front (for fold-in)."""
    return nn.Sequential(networks["input"], networks[f"{side}_encoder"])


def ridge_fold_in(targets: sp.csr_matrix, fixed: np.ndarray, l2: float,
                  unobserved_weight: float = 0.0, unobserved_target: float = 0.0) -> np.ndarray:
    """Least-squares features of rows, with the other side's features fixed.

    Row ``u`` minimises ``sum_obs (y_ub - <x, f_b>)^2 + w sum_unobs (t0 - <x, f_b>)^2
    + l2 ||x||^2``, the per-row problem of the factorisation loss; solved for
    all rows at once.
    """
    n_rows = targets.shape[0]
    r = fixed.shape[1]
    fixed = fixed.astype(np.float64)
    observed = targets.copy()
    observed.data = np.ones_like(observed.data)
    outer = (fixed[:, :, None] * fixed[:, None, :]).reshape(len(fixed), r * r)
    gram_observed = np.asarray(observed @ outer).reshape(n_rows, r, r)
    A = (1 - unobserved_weight) * gram_observed + unobserved_weight * (fixed.T @ fixed)
    A += (l2 + 1e-8) * np.eye(r)
    b = np.asarray(targets @ fixed)
    if unobserved_weight > 0 and unobserved_target != 0:
        b += unobserved_weight * unobserved_target * (fixed.sum(0) - observed @ fixed)
    return np.linalg.solve(A, b[:, :, None])[:, :, 0].astype(np.float32)


class FactorizationModel(TorchHashRecommender):
    """Factor tables trained by the shared loop, codes from the factors, ridge fold-in.

    Batches are users against all items (:class:`~sklearn_hashrec.training.RowSampler`).
    A subclass defines ``_features(raw, alpha)`` (the relaxed features that
    enter the loss), ``_batch_loss`` and ``_codes(features, alpha)``, plus
    ``_fold_in_problem()`` returning ``(targets_fn, l2, unobserved_target)``
    for :func:`ridge_fold_in`; it has ``l2_reg``, ``unobserved_weight`` and
    ``init_std`` parameters.
    """

    _sampler_class = RowSampler
    _batch_with_rows = False
    _user_features_attribute = "user_factors_"

    def _build_networks(self, X) -> nn.ModuleDict:
        n_users, n_items = X.shape
        networks = nn.ModuleDict({
            "user_factors": nn.Embedding(n_users, self.n_bits),
            "item_factors": nn.Embedding(n_items, self.n_bits),
        })
        for table in networks.values():
            nn.init.normal_(table.weight, std=self.init_std)
        return networks

    def _factorization_loss(self, networks, batch, pred, targets, user_features,
                            item_features, unobserved_target=0.0):
        """The paper's eq. 9/10 estimated on a batch of users against all items.

        ``sum_obs (t - pred)^2 + w sum_unobs (t0 - pred)^2 + l2_reg (||F_U||^2 +
        ||F_I||^2)`` with the Frobenius penalty of the whole tables, as the
        paper writes it; a batch holds ``|B| / n_users`` of the data, so it
        carries its users' penalty and that share of the items'. Divided by the
        batch's number of observed entries.
        """
        squared, n_observed = squared_error(pred, batch.block, self.unobserved_weight,
                                            targets, unobserved_target)
        share = len(batch.users) / networks["user_factors"].num_embeddings
        penalty = user_features.pow(2).sum() + share * item_features.pow(2).sum()
        return (squared + self.l2_reg * penalty) / n_observed

    def _batch_features(self, networks, batch):
        return (self._features(networks["user_factors"](batch.users), batch.alpha),
                self._features(networks["item_factors"](batch.items), batch.alpha))

    def _all_features(self, networks, alpha):
        with torch.no_grad():
            users = self._features(networks["user_factors"].weight, alpha).numpy()
            items = self._features(networks["item_factors"].weight, alpha).numpy()
        return users.astype(np.float32), items.astype(np.float32)

    def _codes_from_networks(self, networks, alpha, X):
        users, items = self._all_features(networks, alpha)
        return self._codes(users, alpha), self._codes(items, alpha)

    def _fit(self, X):
        state = self._train(X)
        alpha = state.alpha
        user_features, item_features = self._all_features(state.networks, alpha)
        return {
            "user_factors_": user_features,
            "item_factors_": item_features,
            **self._training_attributes(state),
            "user_codes_": self._codes(user_features, alpha),
            "item_codes_": self._codes(item_features, alpha),
            **self._fitted_extras(state.networks),
        }

    def _fitted_extras(self, networks) -> dict:
        """Fitted attributes of the subclass, read from its trained networks."""
        return {}

    def _fold_in(self, rows, fixed):
        return self._codes(self._fold_in_features(rows, fixed), self.alpha_)

    def _fold_in_features(self, rows, fixed):
        transform_targets, l2, unobserved_target = self._fold_in_problem()
        features = ridge_fold_in(transform_targets(rows), fixed, l2,
                                 self.unobserved_weight, unobserved_target)
        return self._clip_folded(features)

    def _user_features(self, users):
        return self.user_factors_[users]

    def _encode_user_features(self, X):
        return self._fold_in_features(X, self.item_factors_)

    def _clip_folded(self, features):
        return features

    def _encode_users(self, X):
        return self._fold_in(X, self.item_factors_)

    def _encode_items(self, Y):
        return self._fold_in(Y, self.user_factors_)
