"""The paper's matrix-factorisation baselines: CF (``BinaryMF``) and CFCodeReg."""

from __future__ import annotations

from numbers import Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval
from torch import nn

from ..binarization import finalize, itq_rotation, relax
from ..training import TorchHashRecommender
from .base import FactorizationModel

__all__ = ["BinaryMF", "CFCodeReg"]

_MF_CONSTRAINTS = {
    **TorchHashRecommender._shared_parameter_constraints,
    "l2_reg": [Interval(Real, 0, None, closed="left")],
    "unobserved_weight": [Interval(Real, 0, 1, closed="both")],
    "init_std": [Interval(Real, 0, None, closed="neither")],
}

class BinaryMF(FactorizationModel):
    """Matrix factorisation, then sign (the paper's "CF", eq. 9).

    Factors ``F_u`` and ``F_i`` minimise::

        sum_{(a, b) observed} (R_ab - <F_a, F_b>)^2
            + unobserved_weight * sum_{(a, b) unobserved} <F_a, F_b>^2
            + l2_reg * (||F_u||_F^2 + ||F_i||_F^2)

    The squared loss runs over all entries: the observed ratings with weight 1
    and the unobserved entries, as ratings of 0, with ``unobserved_weight``
    (0.1). Why: the evaluation ranks every item the user has not seen, so the
    model must learn which items a user does not choose, and a model fit to
    observed ratings alone cannot tell them apart (docs/models.md gives the
    measured effect of the weight). The penalty is the paper's,
    on the whole factor tables. ``unobserved_weight > 0`` treats missing
    entries as ratings of 0 with that weight (PureSVD-like, better for ranking
    on implicit data). Codes are the sign of the factors (the tanh variants
    train on ``tanh(alpha F)``).

    New users (``transform``, ``recommend_from_history``) and new items
    (``transform_items``) are folded in exactly: the per-row ridge problem of
    the loss above is solved with the other side's factors fixed. Training
    users folded in this way get nearly, not exactly, their trained codes.

    Parameters
    ----------
    n_bits : int, default=40
        Code length (the number of factors).
    l2_reg : float, default=0.4
        The paper's lambda.
    binarize : {"sign", "tanh", "sign_tanh"} or None, default="sign"
        As in :class:`~sklearn_hashrec.CCSR`; the paper's CF is ``"sign"``.
    unobserved_weight : float in [0, 1], default=0.1
        Weight of the unobserved entries, as ratings of 0; 0 fits the observed
        ratings only.
    init_std : float, default=0.1
        Standard deviation of the initial factors.
    learning_rate : float, default=1e-2
        Adam's learning rate (the shared loop; the paper says SGD).
    max_epochs : int, default=30
        Epochs; one epoch visits every user, each against all items.
    batch_size : int, default=512
        Users per step.
    alpha_schedule, alpha_growth, early_stopping, validation_fraction, \
n_iter_no_change, device, n_jobs, random_state, verbose
        The shared training parameters; see :class:`~sklearn_hashrec.CCSR`.
    Attributes
    ----------
    user_factors_, item_factors_ : ndarray of shape (n_users or n_items, n_bits)
        Learnt (relaxed) features.
    user_codes_, item_codes_, item_codes_packed_, seen_, alpha_, n_epochs_, \
resumed_epochs_, loss_curve_, validation_scores_, n_features_in_
        As in :class:`~sklearn_hashrec.CCSR`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec import BinaryMF
    >>> X = np.random.default_rng(0).integers(0, 6, size=(40, 30)).astype(float)
    >>> model = BinaryMF(n_bits=8, max_epochs=5, random_state=0).fit(X)
    >>> model.transform(X[:2]).shape
    (2, 8)
    """

    _parameter_constraints: dict = dict(_MF_CONSTRAINTS)

    def __init__(self, n_bits: int = 40, *, l2_reg: float = 0.4, binarize="sign",
                 unobserved_weight: float = 0.1, init_std: float = 0.1,
                 learning_rate: float = 1e-2, max_epochs: int = 30, batch_size: int = 512,
                 alpha_schedule: str = "exponential", alpha_growth: float = 1.1,
                 early_stopping: bool = False, validation_fraction: float = 0.1,
                 n_iter_no_change: int = 5, checkpoint_dir=None, device="cpu",
                 n_jobs=None,
                 random_state=None, verbose: int = 0):
        super().__init__(
            n_bits, binarize=binarize, learning_rate=learning_rate, max_epochs=max_epochs,
            batch_size=batch_size, alpha_schedule=alpha_schedule, alpha_growth=alpha_growth,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, checkpoint_dir=checkpoint_dir, device=device,
            n_jobs=n_jobs,
            random_state=random_state,
            verbose=verbose,
        )
        self.l2_reg = l2_reg
        self.unobserved_weight = unobserved_weight
        self.init_std = init_std

    def _features(self, raw, alpha):
        return relax(raw, self.binarize, alpha)

    def _batch_loss(self, networks, batch):
        users, items = self._batch_features(networks, batch)
        return self._factorization_loss(networks, batch, users @ items.T, batch.block,
                                        users, items)

    def _codes(self, features, alpha):
        # The features are already tanh(alpha F) for the tanh variants.
        return finalize(features, self.binarize if self.binarize != "tanh" else None, alpha)

    def _fold_in_problem(self):
        return (lambda rows: rows), self.l2_reg, 0.0

    def _clip_folded(self, features):
        # The tanh variants' features live in [-1, 1].
        return np.clip(features, -1.0, 1.0) if self.binarize in ("tanh", "sign_tanh") else features


class CFCodeReg(FactorizationModel):
    """Collaborative filtering with code regularisation (Zhou & Zha 2012; eq. 10).

    Ratings are scaled to [0, 1] (``(R - R_min) / (R_max - R_min)`` over the
    training ratings; unobserved entries count as 0), features are relaxed to
    [-1, 1] as ``F = tanh(Theta)``, and::

        sum_{(a, b) observed} (R_ab - 1/2 - <F_a, F_b> / (2r))^2
            + unobserved_weight * sum_{(a, b) unobserved} (1/2 + <F_a, F_b> / (2r))^2
            + l2_reg * (||F_u||_F^2 + ||F_i||_F^2)

    Binary codes come from the median threshold: each user's (and item's) bit
    is +1 where its feature is at least the median of its ``r`` features, so
    every code has ``r / 2`` ones (even ``r``, no ties). With ``rotation=True``
    the features are first rotated by the orthogonal matrix that best aligns
    them with binary codes (the original's ITQ-style step, 50 iterations).
    Fold-in solves the ridge problem of the loss with the other side fixed and
    clips the result to [-1, 1].

    Parameters
    ----------
    n_bits : int, default=40
        Code length ``r``.
    l2_reg : float, default=0.4
        The paper's lambda.
    binarize : {"sign", "tanh", "sign_tanh"} or None, default="sign"
        ``"sign"``: median threshold (the method's own). ``"tanh"``: train on
        ``tanh(alpha Theta)`` and output it; ``"sign_tanh"``: its sign;
        ``None``: the relaxed features.
    rotation : bool, default=False
        Rotate the features before the median threshold.
    unobserved_weight : float in [0, 1], default=0.1
        Weight of the unobserved entries (as ratings of 0, scaled); 0 fits the
        observed ratings only, as Zhou & Zha do. See :class:`BinaryMF` for why
        the default is not 0.
    init_std : float, default=0.1
        Standard deviation of the initial ``Theta``.
    learning_rate : float, default=1e-2
        Adam's learning rate (the shared loop; the paper says SGD).
    max_epochs : int, default=30
        Epochs; one epoch visits every user, each against all items.
    batch_size : int, default=512
        Users per step.
    alpha_schedule, alpha_growth, early_stopping, validation_fraction, \
n_iter_no_change, device, n_jobs, random_state, verbose
        The shared training parameters; see :class:`~sklearn_hashrec.CCSR`.
    Attributes
    ----------
    user_factors_, item_factors_ : ndarray
        Relaxed features in [-1, 1].
    rotation_ : ndarray of shape (n_bits, n_bits) or None
        The rotation, with ``rotation=True``.
    rating_range_ : tuple of float
        ``(R_min, R_max)`` of the training ratings.
    user_codes_, item_codes_, item_codes_packed_, seen_, alpha_, n_epochs_, \
resumed_epochs_, loss_curve_, validation_scores_, n_features_in_
        As in :class:`~sklearn_hashrec.CCSR`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec import CFCodeReg
    >>> X = np.random.default_rng(0).integers(0, 6, size=(40, 30)).astype(float)
    >>> codes = CFCodeReg(n_bits=8, max_epochs=5, random_state=0).fit(X).user_codes_
    >>> (codes == 1).sum(axis=1)[:3]
    array([4, 4, 4])
    """

    _parameter_constraints: dict = {**_MF_CONSTRAINTS, "rotation": ["boolean"]}

    def __init__(self, n_bits: int = 40, *, l2_reg: float = 0.4, binarize="sign",
                 rotation: bool = False, unobserved_weight: float = 0.1,
                 init_std: float = 0.1, learning_rate: float = 1e-2, max_epochs: int = 30,
                 batch_size: int = 512, alpha_schedule: str = "exponential",
                 alpha_growth: float = 1.1, early_stopping: bool = False,
                 validation_fraction: float = 0.1, n_iter_no_change: int = 5, checkpoint_dir=None,
                 device="cpu",
                 n_jobs=None,
                 random_state=None, verbose: int = 0):
        super().__init__(
            n_bits, binarize=binarize, learning_rate=learning_rate, max_epochs=max_epochs,
            batch_size=batch_size, alpha_schedule=alpha_schedule, alpha_growth=alpha_growth,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, checkpoint_dir=checkpoint_dir, device=device,
            n_jobs=n_jobs,
            random_state=random_state,
            verbose=verbose,
        )
        self.l2_reg = l2_reg
        self.rotation = rotation
        self.unobserved_weight = unobserved_weight
        self.init_std = init_std

    def _build_networks(self, X) -> nn.ModuleDict:
        networks = super()._build_networks(X)
        low = float(X.data.min(initial=0.0))
        high = float(X.data.max(initial=1.0))
        # The training ratings' range lives with the networks, not on the
        # estimator: a failed fit leaves nothing behind.
        networks["rating_range"] = RatingRange(low, high if high > low else low + 1.0)
        return networks

    @staticmethod
    def _scaled(values, rating_range):
        low, high = rating_range
        return (values - low) / (high - low)

    def _features(self, raw, alpha):
        return torch.tanh((alpha if self.binarize in ("tanh", "sign_tanh") else 1.0) * raw)

    def _batch_loss(self, networks, batch):
        users, items = self._batch_features(networks, batch)
        pred = 0.5 + users @ items.T / (2 * self.n_bits)
        targets = self._scaled(batch.block, networks["rating_range"].bounds())
        return self._factorization_loss(networks, batch, pred, targets, users, items)

    def _fitted_extras(self, networks) -> dict:
        return {"rating_range_": networks["rating_range"].bounds(), "rotation_": None}

    def _fit(self, X):
        fitted = super()._fit(X)
        if self.rotation and self.binarize == "sign":
            both = np.vstack([fitted["user_factors_"], fitted["item_factors_"]])
            rotation = itq_rotation(both, random_state=self.random_state)
            fitted["rotation_"] = rotation
            fitted["user_codes_"] = median_threshold(fitted["user_factors_"] @ rotation)
            fitted["item_codes_"] = median_threshold(fitted["item_factors_"] @ rotation)
        return fitted

    def _codes(self, features, alpha):
        if self.binarize != "sign":
            return finalize(features, self.binarize if self.binarize != "tanh" else None,
                            alpha)
        return median_threshold(features)

    def _fold_in_problem(self):
        r, rating_range = self.n_bits, self.rating_range_

        def targets(rows):
            # <F_a, F_b> = 2r (R' - 1/2): the same squared error up to (2r)^2.
            out = rows.copy()
            out.data = 2 * r * (self._scaled(out.data, rating_range) - 0.5)
            return out

        return targets, 4 * r * r * self.l2_reg, -r

    def _clip_folded(self, features):
        features = np.clip(features, -1.0, 1.0)
        return features @ self.rotation_ if self.rotation_ is not None else features


class RatingRange(nn.Module):
    """``(R_min, R_max)`` of the training ratings, kept with the networks."""

    def __init__(self, low: float, high: float):
        super().__init__()
        self.register_buffer("range", torch.tensor([low, high], dtype=torch.float64))

    def bounds(self) -> tuple[float, float]:
        low, high = self.range.tolist()
        return low, high


def median_threshold(features: np.ndarray) -> np.ndarray:
    """+1 where a feature is at least its row's median, else -1 (int8)."""
    median = np.median(features, axis=1, keepdims=True)
    return np.where(features >= median, 1, -1).astype(np.int8)
