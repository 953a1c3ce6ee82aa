"""AECF: autoencoders with a rating-reconstruction loss (the paper's eq. 11)."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ..binarization import SIGN_SURROGATES, relax, straight_through_sign
from ..nn import autoencoder_pair, encode_batch, reconstruction_loss, squared_error
from ..training import TorchHashRecommender
from .base import EncoderPairModel
from .mf import RatingRange

__all__ = ["AECF"]


class AECF(EncoderPairModel):
    """Autoencoder collaborative filtering with binary codes (the paper's AECF).

    The same pair of autoencoders as :class:`~sklearn_hashrec.CCSR` (users
    read their rows, items their columns), trained on the matrix-factorisation
    loss of eq. 11 instead of the MAP similarity::

        L = sum_{(a, b) observed} (R_ab - <F_a, F_b>)^2
            + unobserved_weight * sum_{(a, b) unobserved} <F_a, F_b>^2
            + lambda_ae * L_ae

    divided by the number of observed entries of the batch. The squared loss
    runs over all entries, unobserved ones as ratings of 0 with weight
    ``unobserved_weight`` (0.1), for the reason given in
    :class:`~sklearn_hashrec.BinaryMF`: ranking needs to learn which items a
    user does not choose.
    ``F`` is the relaxed code (``tanh(alpha f)`` for the tanh variants).

    Parameters
    ----------
    n_bits : int, default=40
        Code length.
    hidden_layer_sizes : tuple of int, default=(512, 256, 128)
        Encoder hidden layers (the paper's 512-256-128; the decoder mirrors).
    dropout : float, default=0.0
        Dropout before the last encoder layer (the paper: 0.6 for 5-20 bits,
        0.8 for 40 bits). With the straight-through sign it flips code bits at
        random during training, as in :class:`~sklearn_hashrec.CCSR`:
        AECF-S on MovieLens-1M at 40 bits scores NDCG@10 0.023 with 0.6 and
        0.122 without (docs/reproduction.md).
    lambda_ae : float, default=0.1
        Weight of the reconstruction loss (paper: 0.1 on MovieLens-1M).
    binarize : {"sign", "tanh", "sign_tanh"} or None, default="sign"
        AECF-S, -ST, -SST and -C, as in :class:`~sklearn_hashrec.CCSR`.
    straight_through : bool, default=True
        Only for ``binarize="sign"``: the squared loss sees the codes
        ``sign(f)``, with a straight-through (identity) gradient, as in
        :class:`~sklearn_hashrec.CCSR`; their inner product, in ``[-n_bits,
        n_bits]``, is mapped onto ``[0, R_max]`` (``R_max`` the largest
        training rating) as CFCodeReg's eq. 10 maps it onto ``[0, 1]``.
        ``False`` trains AECF-C and takes the sign afterwards (the paper's
        two-stage reading), which ranks near Random (NDCG@10 0.016 on
        MovieLens-1M at 40 bits): the continuous model ranks by feature
        magnitudes along a direction that all users and items share, which the
        sign throws away, and centring the features before the sign does not
        recover it (docs/reproduction.md).
    sign_surrogate : {"identity", "clipped", "tanh", "gaussian"}, default="identity"
        The gradient that stands in for ``sign``'s in the straight-through
        step (``binarize="sign"``, ``straight_through=True``), as in
        :class:`~sklearn_hashrec.CCSR`. The identity stays the default: on
        validation data of MovieLens-1M (3 seeds) the Gaussian ranked worse
        (docs/models.md, "AECF keeps its own defaults"). ``"identity"`` lets
        features grow without bound, and at the default ``learning_rate``
        the training diverges on some seeds (codes collapse to a few distinct
        values); ``learning_rate=1e-4`` trained stably on every seed there
        (docs/models.md, "Why AECF-S collapses").
    surrogate_width : float, default=1.0
        Width of the smooth surrogates, in units of ``f``.
    unobserved_weight : float, default=0.1
        Weight of the unobserved entries (as ratings of 0); 0 fits observed
        ratings only.
    input : {"ratings", "binary"}, default="ratings"
        What the autoencoders see (the paper: ratings, scaled to [-1, 1]).
    learning_rate, max_epochs, batch_size, alpha_schedule, alpha_growth, \
early_stopping, validation_fraction, n_iter_no_change, checkpoint_dir, device, n_jobs, \
random_state, verbose
        The shared training parameters; see :class:`~sklearn_hashrec.CCSR`.

    Attributes
    ----------
    user_codes_, item_codes_, item_codes_packed_, seen_, user_encoder_, \
item_encoder_, alpha_, n_epochs_, resumed_epochs_, loss_curve_, validation_scores_, n_features_in_
        As in :class:`~sklearn_hashrec.CCSR`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec import AECF
    >>> X = np.random.default_rng(0).integers(0, 6, size=(40, 30)).astype(float)
    >>> AECF(n_bits=8, max_epochs=2, random_state=0).fit(X).recommend([0], k=3).shape
    (1, 3)
    """

    _parameter_constraints: dict = {
        **TorchHashRecommender._shared_parameter_constraints,
        "hidden_layer_sizes": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "lambda_ae": [Interval(Real, 0, None, closed="left")],
        "unobserved_weight": [Interval(Real, 0, None, closed="left")],
        "input": [StrOptions({"binary", "ratings"})],
        "straight_through": ["boolean"],
        "sign_surrogate": [StrOptions(set(SIGN_SURROGATES))],
        "surrogate_width": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, n_bits: int = 40, *, hidden_layer_sizes=(512, 256, 128),
                 dropout: float = 0.0, lambda_ae: float = 0.1, binarize="sign",
                 straight_through: bool = True, sign_surrogate: str = "identity",
                 surrogate_width: float = 1.0, unobserved_weight: float = 0.1,
                 input: str = "ratings",
                 learning_rate: float = 1e-3, max_epochs: int = 30, batch_size: int = 512,
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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.lambda_ae = lambda_ae
        self.straight_through = straight_through
        self.sign_surrogate = sign_surrogate
        self.surrogate_width = surrogate_width
        self.unobserved_weight = unobserved_weight
        self.input = input

    def _codes_in_loss(self) -> bool:
        return self.binarize == "sign" and self.straight_through

    def _build_networks(self, X) -> nn.ModuleDict:
        networks = autoencoder_pair(X, self.input, self._hidden_sizes(), self.n_bits,
                                    self.dropout)
        if self._codes_in_loss():
            networks["rating_range"] = RatingRange(0.0, float(X.data.max(initial=1.0)))
        return networks

    def _batch_loss(self, networks, batch):
        x_users, f_users, x_items, f_items = encode_batch(networks, batch)
        h_users = relax(f_users, self.binarize, batch.alpha)
        h_items = relax(f_items, self.binarize, batch.alpha)
        if self._codes_in_loss():
            # Inner products of -1/+1 codes are even integers in [-r, r]: mapped
            # onto the ratings' [0, R_max], or a rating could fall between two
            # of them and the loss not tell the codes apart.
            _, high = networks["rating_range"].bounds()
            agreement = (straight_through_sign(h_users, self.sign_surrogate, self.surrogate_width)
                         @ straight_through_sign(h_items, self.sign_surrogate,
                                                 self.surrogate_width).T)
            pred = high * (0.5 + agreement / (2 * self.n_bits))
        else:
            pred = h_users @ h_items.T
        squared, n_observed = squared_error(pred, batch.block, self.unobserved_weight)
        return squared / n_observed + self.lambda_ae * reconstruction_loss(
            networks, x_users, f_users, x_items, f_items)
