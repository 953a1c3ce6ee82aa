"""GraphHash: binary codes of the interaction graph, taught by a float graph filter."""

from __future__ import annotations

import logging
import time
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from torch import nn

from ..binarization import SIGN_SURROGATES, itq_rotation, sign_codes, straight_through_sign
from ..interactions import binary_interactions
from ..training import RowSampler, TorchHashRecommender
from ..training.distillation import fitted_teacher
from .graph_filter import GraphFilter, check_rank, normalized_graph, top_singular_vectors

__all__ = ["GraphHash"]

logger = logging.getLogger("sklearn_hashrec")


class GraphHash(TorchHashRecommender):
    """Binary user and item codes learned on the interaction graph from a float teacher.

    A user's code is the sign of a linear map of its history, an item's the
    sign of a free feature vector::

        b_u = sign(D_u^{-1/2} r_u D_i^{-1/2} W),    b_i = sign(v_i)

    with ``D_u`` and ``D_i`` the user and item degrees of the 0/1 training
    matrix. Items are ranked by Hamming distance, nothing else: 8 bytes per
    item and user at 64 bits.

    **Start.** Spectral codes: ``W`` and the ``v_i`` come from the top
    ``n_bits`` singular vectors of the normalised graph
    ``D_u^{-1/2} R D_i^{-1/2}`` (the low-pass part of
    :class:`~sklearn_hashrec.GraphFilter`), rotated by iterative quantization
    (ITQ) so that their signs lose the least.

    **Training through the sign.** The teacher (by default a
    :class:`~sklearn_hashrec.GraphFilter` fitted on the same matrix) ranks
    each user's unseen items; its top ``distill_items`` are the targets of a
    listwise ranking distillation. For each user, a softmax over all the
    items it has not seen, with logits ``logit_scale * <b_u, b_i>``, is
    pulled towards the teacher's top items weighted by rank
    (``1 / log2(rank + 2)``, normalised to sum to 1)::

        loss_u = log sum_{i unseen} exp(s <b_u, b_i>)  -  sum_j w_j s <b_u, b_{t_j}>

    This asks directly what the Hamming ranking must contain: the teacher's
    top items ahead of every other unseen item. The signs are trained with
    the package's surrogate gradients (``sign_surrogate``); each step takes
    ``batch_size`` users against every item, so the seen items are exactly
    those that ``recommend`` filters. The training loop is the package's
    (:class:`~sklearn_hashrec.training.Trainer`): Adam, epochs, early
    stopping, checkpoints, device and seeding.

    **Fold-in.** A user's code is a function of its history row, so
    ``transform`` of a training row gives exactly its stored code, and a new
    user's code is computed the same way (``recommend_from_history``). A new
    item (``transform_items``) gets the code closest in Hamming distance to
    the codes of the users that interacted with it: the per-bit majority
    ``sign(sum_u b_u)`` (+1 on a tie).

    Parameters
    ----------
    n_bits : int, default=64
        Code length. At most ``min(n_users, n_items)`` (one singular vector per
        bit at the start).
    teacher : recommender or None, default=None
        The float model whose ranking is taught: unfitted (it is fitted on the
        same matrix) or already fitted on a matrix of the same shape. ``None``
        means ``GraphFilter()`` seeded by ``random_state`` (its rank capped at
        ``min(n_users, n_items)``). Under ``early_stopping`` an unfitted
        teacher is fitted on the training part only.
    distill_items : int, default=50
        How many of the teacher's top items per user are targets.
    logit_scale : float or "auto", default="auto"
        ``s`` in the loss; ``"auto"`` is ``10 / n_bits``, so that the logits
        span [-10, 10] whatever the code length.
    sign_surrogate : {"identity", "clipped", "tanh", "gaussian"}, default="tanh"
        Backward pass of the sign (see
        :func:`~sklearn_hashrec.binarization.straight_through_sign`).
    surrogate_width : float, default=1.0
        Width of the smooth surrogates, in units of the features, which start
        with unit standard deviation.
    n_iter : int, default=7
        Power iterations of the randomized SVD of the start.
    learning_rate : float, default=0.03
        Adam's learning rate.
    max_epochs : int, default=20
        Epochs; one epoch visits every user once, each against all items.
    batch_size : int, default=1024
        Users per step. Memory grows with ``batch_size * n_items``.
    early_stopping, validation_fraction, n_iter_no_change, checkpoint_dir, \
device, n_jobs, random_state, verbose
        The shared training parameters; see :class:`~sklearn_hashrec.CCSR`.
        ``random_state`` seeds the teacher's SVD (when ``teacher=None``),
        the start's SVD and ITQ, and the training order.

    Attributes
    ----------
    user_codes_ : ndarray of shape (n_users, n_bits), dtype int8
        Codes of the training users.
    item_codes_ : ndarray of shape (n_items, n_bits), dtype int8
        Codes of the items.
    item_codes_packed_ : ndarray of shape (n_items, ceil(n_bits / 64)), dtype uint64
        The item codes packed for the Hamming engine, stored word-major
        (Fortran order), the layout its kernel scans.
    user_projection_ : ndarray of shape (n_items, n_bits), dtype float32
        ``D_i^{-1/2} W``: a 0/1 history row times it, then the sign, is a
        user's code.
    item_features_ : ndarray of shape (n_items, n_bits), dtype float32
        The trained ``v_i``, whose signs are the item codes.
    teacher_ : recommender
        The fitted teacher.
    seen_, alpha_, n_epochs_, resumed_epochs_, loss_curve_, validation_scores_, \
n_features_in_
        As in :class:`~sklearn_hashrec.CCSR`.

    See Also
    --------
    sklearn_hashrec.GraphFilter : The default teacher, and the second stage of
        ``RerankRecommender(GraphHash(), GraphFilter())``.

    References
    ----------
    .. [1] Y. Shen et al., "How Powerful is Graph Convolution for
       Recommendation?", CIKM 2021.
    .. [2] Y. Gong and S. Lazebnik, "Iterative Quantization", CVPR 2011.
    .. [3] Y. Chen et al., "Learning Binarized Graph Representations with
       Multi-faceted Quantization Reinforcement for Top-K Recommendation"
       (BiGeaR), KDD 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec import GraphHash
    >>> X = (np.random.default_rng(0).random((60, 40)) < 0.2).astype(float)
    >>> model = GraphHash(n_bits=16, max_epochs=3, random_state=0).fit(X)
    >>> model.recommend([0, 1], k=5).shape
    (2, 5)
    >>> bool((model.transform(X) == model.user_codes_).all())
    True
    """

    _sampler_class = RowSampler
    _batch_with_rows = "users"
    _batch_with_block = False
    # The codes are trained through the sign from the first step: no tanh
    # relaxation, so no alpha schedule either (alpha stays 1).
    binarize = "sign"
    alpha_schedule = "exponential"
    alpha_growth = 1.0

    _parameter_constraints: dict = {
        **{name: constraint
           for name, constraint in TorchHashRecommender._shared_parameter_constraints.items()
           if name not in ("binarize", "alpha_schedule", "alpha_growth")},
        "teacher": [HasMethods(["fit", "recommend"]), None],
        "distill_items": [Interval(Integral, 1, None, closed="left")],
        "logit_scale": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "sign_surrogate": [StrOptions(set(SIGN_SURROGATES))],
        "surrogate_width": [Interval(Real, 0, None, closed="neither")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, n_bits: int = 64, *, teacher=None, distill_items: int = 20,
                 logit_scale="auto", sign_surrogate: str = "tanh",
                 surrogate_width: float = 1.0, n_iter: int = 7, learning_rate: float = 0.1,
                 max_epochs: int = 10, batch_size: int = 256, early_stopping: bool = False,
                 validation_fraction: float = 0.1, n_iter_no_change: int = 5,
                 checkpoint_dir=None, device="cpu", n_jobs=None, random_state=None,
                 verbose: int = 0):
        self.n_bits = n_bits
        self.teacher = teacher
        self.distill_items = distill_items
        self.logit_scale = logit_scale
        self.sign_surrogate = sign_surrogate
        self.surrogate_width = surrogate_width
        self.n_iter = n_iter
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.checkpoint_dir = checkpoint_dir
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _scale(self) -> float:
        return 10.0 / self.n_bits if self.logit_scale == "auto" else float(self.logit_scale)

    # ------------------------------------------------------------ fitting
    def _fit(self, X):
        check_rank(self.n_bits, X.shape, "n_bits")
        X = binary_interactions(X)
        state = self._train(X)
        codes = state.networks["codes"]
        projection, item_features = codes.arrays()
        return {
            "user_codes_": _history_codes(X, projection),
            "item_codes_": sign_codes(item_features),
            "user_projection_": projection,
            "item_features_": item_features,
            "teacher_": codes.teacher,
            **self._training_attributes(state),
        }

    def _build_networks(self, X) -> nn.ModuleDict:
        """The spectral start, and the teacher's ranking of the users of ``X``."""
        start = time.perf_counter()
        graph, _, item_norm = normalized_graph(X)
        seed = self._seed()
        u, s, v = top_singular_vectors(graph, self.n_bits, self.n_iter, seed)
        root, inverse_root, rotation = spectral_rotation(u, s, v, random_state=seed)
        # graph @ V S^{-1/2} = U S^{1/2}: the users' spectral features from their rows.
        user_map = (v * inverse_root) @ rotation
        item_features = (v * root) @ rotation
        # Unit spread at the start, so that the surrogate's width means the same
        # on every data set.
        user_map /= max(float(np.asarray(graph @ user_map).std()), 1e-12)
        item_features /= max(float(item_features.std()), 1e-12)
        default_rank = min(GraphFilter().n_components, *X.shape)
        teacher = fitted_teacher(self.teacher if self.teacher is not None
                                 else GraphFilter(n_components=default_rank, random_state=seed),
                                 X)
        ranked = teacher.recommend(np.arange(X.shape[0]), k=min(self.distill_items, X.shape[1]))
        if self.verbose:
            # The shared loop reports each epoch on the same logger.
            logger.info("[GraphHash] spectral start, teacher fitted and its top %d items "
                        "ranked (%.1fs)", ranked.shape[1], time.perf_counter() - start)
        return nn.ModuleDict({"codes": _GraphCodes(user_map, item_features, item_norm, ranked,
                                                   teacher)})

    def _batch_loss(self, networks, batch):
        codes = networks["codes"]
        rows = batch.user_rows
        user_bits = straight_through_sign(codes.user_features(rows), self.sign_surrogate,
                                          self.surrogate_width)
        item_bits = straight_through_sign(codes.item_features, self.sign_surrogate,
                                          self.surrogate_width)
        scale = self._scale()
        logits = (scale * user_bits) @ item_bits.T
        # |logits| <= scale * n_bits, so exp(logits - that bound) never overflows,
        # and the seen items leave the normaliser by subtraction, not a dense mask.
        bound = scale * self.n_bits
        exp_logits = torch.exp(logits - bound)
        seen_user, seen_item = rows.indices()
        seen_mass = torch.zeros(len(logits), dtype=logits.dtype, device=logits.device)
        seen_mass.index_add_(0, seen_user, exp_logits[seen_user, seen_item])
        unseen_mass = (exp_logits.sum(dim=1) - seen_mass).clamp(min=torch.finfo(
            logits.dtype).tiny)
        log_normaliser = bound + torch.log(unseen_mass)
        taught, weights = codes.taught(batch.users)
        taught_logits = (weights * logits.gather(1, taught)).sum(dim=1)
        return (log_normaliser - taught_logits).mean()

    def _codes_from_networks(self, networks, alpha, X):
        projection, item_features = networks["codes"].arrays()
        return _history_codes(X, projection), sign_codes(item_features)

    # ------------------------------------------------------------ fold-in
    def _encode_users(self, X):
        return _history_codes(binary_interactions(X), self.user_projection_)

    def _encode_items(self, Y):
        votes = binary_interactions(Y) @ self.user_codes_.astype(np.float32)
        return sign_codes(np.asarray(votes))


class _GraphCodes(nn.Module):
    """GraphHash's parameters, the degree scales and the teacher's targets."""

    def __init__(self, user_map, item_features, item_norm, ranked, teacher):
        super().__init__()
        # Kept beside the parameters (not in the state dict): the fitted teacher_.
        self.teacher = teacher
        self.user_map = nn.Parameter(torch.from_numpy(np.ascontiguousarray(user_map,
                                                                           np.float32)))
        self.item_features = nn.Parameter(torch.from_numpy(
            np.ascontiguousarray(item_features, np.float32)))
        self.register_buffer("item_norm", torch.from_numpy(item_norm.astype(np.float32)))
        valid = ranked >= 0  # -1 pads users with fewer unseen items than asked
        discounts = 1.0 / np.log2(np.arange(ranked.shape[1]) + 2.0)
        weights = np.where(valid, discounts, 0.0)
        weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
        self.register_buffer("ranked", torch.from_numpy(np.where(valid, ranked, 0)))
        self.register_buffer("weights", torch.from_numpy(weights.astype(np.float32)))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(D_i^{-1/2} W, v)`` as numpy copies, wherever the parameters live."""
        with torch.no_grad():
            return (self.projection().cpu().numpy().copy(),
                    self.item_features.cpu().numpy().copy())

    def projection(self) -> torch.Tensor:
        """``D_i^{-1/2} W``: what a 0/1 history row is multiplied by."""
        return self.item_norm[:, None] * self.user_map

    def user_features(self, rows: torch.Tensor) -> torch.Tensor:
        """``D_u^{-1/2} r D_i^{-1/2} W`` of 0/1 history rows (sparse COO)."""
        degree = torch.zeros(rows.shape[0], device=rows.device).index_add_(
            0, rows.indices()[0], rows.values())
        user_norm = torch.where(degree > 0, degree.clamp(min=1.0).rsqrt(),
                                torch.zeros_like(degree))
        return user_norm[:, None] * torch.sparse.mm(rows, self.projection())

    def taught(self, users: torch.Tensor):
        """The teacher's top items of ``users`` and their normalised weights."""
        return self.ranked[users], self.weights[users]


def spectral_rotation(u: np.ndarray, s: np.ndarray, v: np.ndarray, *, itq_iter: int = 50,
                      random_state=None):
    """``(S^{1/2}, S^{-1/2}, R)`` of a truncated SVD ``U S V'`` for spectral codes.

    ``R`` is ITQ's rotation (:func:`~sklearn_hashrec.binarization.itq_rotation`,
    uncentred) fitted on the embeddings ``U S^{1/2}`` and ``V S^{1/2}`` stacked,
    or the identity for ``itq_iter=0``; ``S^{-1/2}`` is 0 where a singular value
    is, so that ``X V S^{-1/2} R`` maps rows to their rotated embeddings.
    """
    root = np.sqrt(s)
    if itq_iter:
        rotation = itq_rotation(np.vstack([u * root, v * root]), n_iter=itq_iter,
                                random_state=random_state, center=False)
    else:
        rotation = np.eye(len(s), dtype=np.float32)
    inverse_root = np.divide(1.0, root, out=np.zeros_like(root), where=root > 0)
    return root, inverse_root, rotation


def _history_codes(rows: sp.csr_matrix, projection: np.ndarray) -> np.ndarray:
    """Codes of 0/1 history rows: ``sign(r D_i^{-1/2} W)`` (the user scale drops out)."""
    return sign_codes(np.asarray(rows @ projection))

