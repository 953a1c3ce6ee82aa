"""CCSR: Compact Cross-Similarity Recommender (the paper's Section 4)."""

from __future__ import annotations

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from torch import nn
from torch.nn import functional as F

from ..binarization import SIGN_SURROGATES, relax, straight_through_sign
from ..nn import autoencoder_pair, encode_batch, reconstruction_loss
from ..training import (
    TorchHashRecommender,
    fitted_teacher,
    soft_labels,
    teacher_ranking_weights,
)
from .base import EncoderPairModel

__all__ = ["CCSR"]


class CCSR(EncoderPairModel):
    """Compact Cross-Similarity Recommender.

    Two autoencoders, one over users (input: the user's row of ``X``) and one
    over items (input: the item's column), map users and items into a shared
    ``n_bits``-dimensional space. They are trained with the paper's eq. 7::

        L = L_sim + lambda_b * L_b + lambda_ae * L_ae

    * ``L_sim``, the MAP cross-entropy of eq. 6 over user-item pairs:
      ``log(1 + exp(z)) - S_ab * z`` with ``z = logit_scale * <F_a, F_b>`` and
      ``S_ab = 1`` iff ``X_ab > relevance_threshold``; positive pairs are
      weighted by ``pos_weight``.
    * ``L_b``, the balance loss: per bit, the squared mean of the features over
      the batch, summed over bits, for users and for items.
    * ``L_ae``, the reconstruction loss of eq. 1 (squared error of both
      autoencoders).

    Each training step takes a block of ``batch_size`` users crossed with
    ``batch_size`` items. The losses are normalised per element: ``L_sim`` is
    the mean over the block's pairs and ``L_ae`` the mean squared error per
    input entry. This is the paper's summed loss divided by ``n_users *
    n_items``, so the paper's ``lambda_ae`` and ``lambda_b`` keep their meaning.

    Read more in ``docs/ccsr.md``, which also gives the measured effect of each
    departure from the paper.

    Parameters
    ----------
    n_bits : int, default=40
        Code length ``r``.
    hidden_layer_sizes : tuple of int, default=(256,)
        Hidden layers of each encoder (the decoder mirrors them). The paper
        selects one layer of 128 by cross-validation; 256 measured better here
        (docs/ccsr.md).
    dropout : float, default=0.0
        Dropout rate of the layer before the last encoder layer. The paper uses
        0.6 (5-20 bits) and 0.8 (40 bits); with the straight-through sign, any
        dropout there measured worse, since it flips code bits at random
        during training (docs/ccsr.md).
    lambda_ae : float, default=20.0
        Weight of the reconstruction loss (paper: 0.1 on MovieLens-1M, 10 on
        Amazon and Ichiba). With the per-entry normalisation used here, 0.1
        makes the term negligible; 20 measured best (docs/ccsr.md).
    lambda_b : float, default=1e-4
        Weight of the balance loss (paper: 1e-4).
    binarize : {"sign", "tanh", "sign_tanh"} or None, default="sign"
        ``"sign"``: train on continuous features, output their sign (CCSR-S).
        ``"tanh"``: train and output ``tanh(alpha * f)`` with the alpha schedule
        (CCSR-ST, continuous). ``"sign_tanh"``: the sign of that (CCSR-SST).
        ``None``: continuous features (CCSR-C).
    straight_through : bool, default=True
        Only for ``binarize="sign"``: compute ``L_sim`` on ``sign(f)`` with a
        straight-through (identity) gradient, so that training sees the codes
        that will be ranked. ``False`` is the paper's two-stage recipe (train on
        ``f``, take the sign afterwards), which loses most of its quality at the
        sign step.
    sign_surrogate : {"gaussian", "tanh", "clipped", "identity"}, default="gaussian"
        The gradient that stands in for ``sign``'s in the straight-through
        step (see :func:`~sklearn_hashrec.binarization.straight_through_sign`):
        BiGeaR's Gaussian ``exp(-f^2 / 2 w^2)``, the derivative of
        ``tanh(f / w)``, or the identity (the plain straight-through
        estimator). The smooth ones leave features far from the sign boundary
        alone and move those whose bit a step can flip. On MovieLens-1M's
        test part the Gaussian gained 0.004-0.008 NDCG@10 over the identity
        at 40, 64 and 128 bits and lost 0.009 at 32 (docs/quality.md); on
        validation data, 3 seeds at 40 bits, the three are within noise of
        each other (docs/ccsr.md).
    surrogate_width : float, default=1.0
        Width of the smooth surrogates, in units of ``f``.
    relevance_threshold : float, default=0.0
        ``S_ab = 1`` iff ``X_ab > relevance_threshold``. 0 treats every stored
        interaction as positive; the paper uses 3 on 1-5 ratings.
    pos_weight : float, default=8.0
        Weight of a positive pair in ``L_sim`` relative to a negative one. The
        paper's loss is unweighted (1.0); positives are rare (about 2% on
        MovieLens-1M), and without weighting the model learns mostly to push
        all pairs apart.
    logit_scale : float or "auto", default="auto"
        Multiplier of ``<F_a, F_b>`` inside the sigmoid. ``"auto"`` is
        ``10 / n_bits`` (as HashNet), so that for -1/+1 codes the logits span
        [-10, 10] whatever the code length. The paper uses 1.0.
    input : {"binary", "ratings"}, default="binary"
        What the autoencoders see. ``"ratings"`` is the paper's ``X = R``,
        divided by the largest absolute value of the training matrix so that
        it lies in [-1, 1]; ``"binary"`` feeds 1 for every stored interaction.
    teacher : recommender or None, default=None
        Ranking distillation (not in the paper): a recommender of the package,
        e.g. :class:`~sklearn_hashrec.EASE`, fitted on the same matrix (an
        unfitted one is fitted on it first). Its top ``distill_items`` unseen
        items per user become soft positives of ``L_sim``, with labels
        ``distill_weight / log2(rank + 2)`` (see
        :mod:`sklearn_hashrec.training.distillation`).
    distill_weight : float, default=1.0
        Label of the teacher's first item (at most 1).
    distill_items : int, default=50
        How many of the teacher's top items per user are taught.
    learning_rate : float, default=1e-3
        Adam's learning rate.
    max_epochs : int, default=30
        Number of epochs (one epoch visits every user and every item at least
        once).
    batch_size : int, default=512
        Users and items per step.
    alpha_schedule : {"exponential", "sqrt"}, default="exponential"
        Schedule of the scaled tanh: ``alpha_growth ** epoch`` (the paper) or
        ``sqrt(epoch + 1)`` (DJSRH).
    alpha_growth : float, default=1.1
        Per-epoch growth of the exponential schedule.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of each user's interactions, track
        NDCG@10 on them after each epoch, stop after ``n_iter_no_change``
        epochs without improvement and keep the best epoch's networks.
    validation_fraction : float, default=0.1
        Fraction held out for early stopping.
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    checkpoint_dir : str, path-like or None, default=None
        Where to write a checkpoint after every epoch (networks, optimizer,
        epoch, random state, early stopping's state), atomically: a temporary
        file renamed over the previous one. A fit that finds a checkpoint
        there resumes from it, and ends with the same model as a run never
        interrupted (same seed, device and thread count). One directory per
        fit: a checkpoint written for another model, other parameters or
        other data is refused with a
        :class:`~sklearn_hashrec.training.CheckpointError`, and so is a
        corrupt one. The last checkpoint stays, so fitting again with the
        same data and parameters returns the finished model without
        training; delete the directory to train anew. None writes nothing.
    device : str or torch.device, default="cpu"
        Where to train, e.g. ``"cuda"``. The fitted networks are moved to the
        CPU, so a model trained on a GPU loads and runs anywhere.
        Inside a ``torch.distributed`` process group of more than one
        process (``torchrun``), ``fit`` trains data-parallel with
        ``DistributedDataParallel``, each process taking its share of the
        blocks (docs/scaling.md).
    n_jobs : int or None, default=None
        Torch threads of the fit, restored after it (scikit-learn's
        convention: None means 1 unless inside a
        ``joblib.parallel_config(n_jobs=...)`` context, -1 means every
        core). One thread is the default: on 2 cores, 2 threads fitted 1.2-1.6x
        faster on a quiet machine but up to 9x slower beside another job
        (``benchmarks/bench_fit_threads.py``, docs/performance.md). Use -1
        for a fit alone on its machine.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, dropout and batch order. Runs with the same
        integer are identical on the same device with one thread (the
        default ``n_jobs``); with more, torch's threaded kernels may sum in
        another order on large data (docs/reliability.md, "Determinism").
    verbose : int, default=0
        Print the loss (and validation NDCG) after each epoch when > 0.

    Attributes
    ----------
    user_codes_ : ndarray of shape (n_users, n_bits)
        Codes of the training users: int8 in {-1, +1} for ``"sign"`` and
        ``"sign_tanh"``, float32 otherwise.
    item_codes_ : ndarray of shape (n_items, n_bits)
        Codes of the items, same dtype.
    item_codes_packed_ : ndarray of shape (n_items, ceil(n_bits / 64)), dtype uint64
        Binary item codes packed 64 bits to a word, as the ranking engine uses
        them (see :func:`~sklearn_hashrec.ranking.pack_codes`), stored
        word-major (Fortran order), the layout its kernel scans; only for
        binary codes.
    seen_ : csr_matrix of shape (n_users, n_items)
        The training interactions (1 where ``X`` had an entry).
    user_encoder_, item_encoder_ : torch.nn.Module
        Trained encoders (on CPU), used for fold-in.
    alpha_ : float
        Final scale of the scaled tanh.
    n_epochs_ : int
        Epochs trained (the best epoch's number with early stopping).
    resumed_epochs_ : int
        Epochs read from a checkpoint of ``checkpoint_dir`` instead of
        trained in this call (0 for a fresh fit).
    loss_curve_ : list of float
        Mean training loss per epoch.
    validation_scores_ : list of float
        Validation NDCG@10 per epoch (empty without early stopping).
    n_features_in_ : int
        Number of items.

    See Also
    --------
    sklearn_hashrec.ranking.hamming_topk : The ranking engine.
    sklearn_hashrec.metrics.make_ndcg_scorer : Scorer for ``GridSearchCV``.

    References
    ----------
    .. [1] "Compact Cross-Similarity Recommender", Section 4 (eq. 1, 6, 7, 8).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec import CCSR
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.random((50, 30)) < 0.2).astype(np.float32)
    >>> model = CCSR(n_bits=16, max_epochs=3, random_state=0).fit(X)
    >>> model.transform(X[:2]).shape
    (2, 16)
    >>> model.recommend([0, 1], k=5).shape
    (2, 5)
    """

    _parameter_constraints: dict = {
        **TorchHashRecommender._shared_parameter_constraints,
        "hidden_layer_sizes": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "lambda_ae": [Interval(Real, 0, None, closed="left")],
        "lambda_b": [Interval(Real, 0, None, closed="left")],
        "straight_through": ["boolean"],
        "sign_surrogate": [StrOptions(set(SIGN_SURROGATES))],
        "surrogate_width": [Interval(Real, 0, None, closed="neither")],
        "relevance_threshold": [Real],
        "pos_weight": [Interval(Real, 0, None, closed="neither")],
        "logit_scale": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "input": [StrOptions({"binary", "ratings"})],
        "teacher": [HasMethods(["fit", "recommend"]), None],
        "distill_weight": [Interval(Real, 0, 1, closed="both")],
        "distill_items": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_bits: int = 40,
        *,
        hidden_layer_sizes=(256,),
        dropout: float = 0.0,
        lambda_ae: float = 20.0,
        lambda_b: float = 1e-4,
        binarize: str | None = "sign",
        straight_through: bool = True,
        sign_surrogate: str = "gaussian",
        surrogate_width: float = 1.0,
        relevance_threshold: float = 0.0,
        pos_weight: float = 8.0,
        logit_scale="auto",
        input: str = "binary",
        teacher=None,
        distill_weight: float = 1.0,
        distill_items: int = 50,
        learning_rate: float = 1e-3,
        max_epochs: int = 30,
        batch_size: int = 512,
        alpha_schedule: str = "exponential",
        alpha_growth: float = 1.1,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        checkpoint_dir=None,
        device="cpu",
        n_jobs=None,
        random_state=None,
        verbose: int = 0,
    ):
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
        self.lambda_b = lambda_b
        self.straight_through = straight_through
        self.sign_surrogate = sign_surrogate
        self.surrogate_width = surrogate_width
        self.relevance_threshold = relevance_threshold
        self.pos_weight = pos_weight
        self.logit_scale = logit_scale
        self.input = input
        self.teacher = teacher
        self.distill_weight = distill_weight
        self.distill_items = distill_items

    def _relevance_threshold(self) -> float:
        return float(self.relevance_threshold)

    # ----------------------------------------------------------- networks
    def _build_networks(self, X) -> nn.ModuleDict:
        return autoencoder_pair(X, self.input, self._hidden_sizes(), self.n_bits, self.dropout)

    def _scale(self) -> float:
        return 10.0 / self.n_bits if self.logit_scale == "auto" else float(self.logit_scale)

    def _batch_loss(self, networks, batch):
        x_users, f_users, x_items, f_items = encode_batch(networks, batch)
        h_users = relax(f_users, self.binarize, batch.alpha)
        h_items = relax(f_items, self.binarize, batch.alpha)
        if self.binarize == "sign" and self.straight_through:
            logits = (straight_through_sign(h_users, self.sign_surrogate, self.surrogate_width)
                      @ straight_through_sign(h_items, self.sign_surrogate, self.surrogate_width).T)
        else:
            logits = h_users @ h_items.T
        logits = self._scale() * logits
        similar = (batch.block > self.relevance_threshold).to(logits.dtype)
        if "teacher" in batch.targets:
            similar = soft_labels(similar, batch.targets["teacher"], self.distill_weight)
        pos_weight = torch.tensor(float(self.pos_weight), device=logits.device)
        loss_sim = F.binary_cross_entropy_with_logits(logits, similar, pos_weight=pos_weight)
        loss_ae = reconstruction_loss(networks, x_users, f_users, x_items, f_items)
        loss_balance = h_users.mean(0).pow(2).sum() + h_items.mean(0).pow(2).sum()
        return loss_sim + self.lambda_b * loss_balance + self.lambda_ae * loss_ae

    def _training_targets(self, X):
        if self.teacher is None:
            return {}
        teacher = fitted_teacher(self.teacher, X)
        return {"teacher": teacher_ranking_weights(teacher, X.shape[0], self.distill_items)}
