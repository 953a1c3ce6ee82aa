"""The base class of the models trained with torch, and its contract."""

from __future__ import annotations

import contextlib
import os
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from joblib import effective_n_jobs
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import BaseHashRecommender
from ..binarization import ALPHA_SCHEDULES, alpha_at_epoch
from .batches import Batch, resolve_device
from .callbacks import EarlyStopping, ProgressReporter, TrainingState
from .checkpoints import CheckpointStore, data_fingerprint
from .samplers import BlockSampler, Sampler
from .trainer import Trainer

__all__ = ["TorchHashRecommender"]


class TorchHashRecommender(BaseHashRecommender, ABC):
    """A recommender whose codes come from networks trained with torch.

    It holds the parameters every such model shares (code length,
    binarization, and the training loop's: learning rate, epochs, batch size,
    alpha schedule, early stopping, checkpoints, device, seed, verbosity) and runs the one
    training loop (:class:`~sklearn_hashrec.training.Trainer`) for them.

    A subclass declares what is its own:

    * ``_build_networks(X)``: its networks, as a ``torch.nn.ModuleDict``;
    * ``_batch_loss(networks, batch)``: the scalar loss of one
      :class:`~sklearn_hashrec.training.Batch`;
    * ``_codes_from_networks(networks, alpha, X)``: user and item codes of
      trained networks (early stopping ranks them on held-out entries);
    * ``_fit(X)``, as every recommender: usually ``self._train(X)`` and the
      fitted attributes made from its result;
    * ``_sampler_class``: which :class:`~sklearn_hashrec.training.Sampler`
      draws its batches, ``_batch_with_rows``: whether its batches need
      the users' rows and items' columns (encoders), the users' rows only
      (``"users"``) or only the block, and ``_batch_with_block``: whether
      they need the dense block at all.

    Its ``__init__`` passes the shared parameters to this class's
    ``__init__`` and sets its own.
    """

    _sampler_class: type[Sampler] = BlockSampler
    _batch_with_rows: bool | str = True
    _batch_with_block: bool = True

    _shared_parameter_constraints: dict = {
        "n_bits": [Interval(Integral, 1, None, closed="left")],
        "binarize": [StrOptions({"sign", "tanh", "sign_tanh"}), None],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "alpha_schedule": [StrOptions(set(ALPHA_SCHEDULES))],
        "alpha_growth": [Interval(Real, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "checkpoint_dir": [str, os.PathLike, None],
        "device": [str, torch.device],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, n_bits, *, binarize, learning_rate, max_epochs, batch_size,
                 alpha_schedule, alpha_growth, early_stopping, validation_fraction,
                 n_iter_no_change, checkpoint_dir, device, n_jobs, random_state, verbose):
        self.n_bits = n_bits
        self.binarize = binarize
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.alpha_schedule = alpha_schedule
        self.alpha_growth = alpha_growth
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.checkpoint_dir = checkpoint_dir
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------ contract
    @abstractmethod
    def _build_networks(self, X: sp.csr_matrix) -> torch.nn.ModuleDict:
        """The untrained networks for the training matrix ``X``."""

    @abstractmethod
    def _batch_loss(self, networks: torch.nn.ModuleDict, batch: Batch) -> torch.Tensor:
        """The scalar loss of one batch."""

    @abstractmethod
    def _codes_from_networks(self, networks, alpha: float, X: sp.csr_matrix):
        """``(user_codes, item_codes)`` of the users and items of ``X``."""

    # ------------------------------------------------------------ training
    def _fit_resources(self):
        return torch_threads(self.n_jobs)

    def _alpha(self, epoch: int) -> float:
        return alpha_at_epoch(epoch, self.alpha_schedule, self.alpha_growth)

    def _seed(self) -> int:
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _train(self, X: sp.csr_matrix) -> TrainingState:
        """Train the model's networks on ``X``; the final state, networks on the CPU.

        With ``early_stopping``, a per-user ``validation_fraction`` of ``X`` is
        held out; after each epoch the codes of ``_codes_from_networks`` are
        ranked for the training part and NDCG@10 is taken on the held-out part.
        """
        device = resolve_device(self.device)
        checkpoint = self._checkpoint_store(X)
        resume = checkpoint.load(map_location=device) if checkpoint is not None else None
        # A resumed run continues the interrupted run's random streams, seed included.
        seed = resume["seed"] if resume is not None else self._seed()
        callbacks = []
        if self.early_stopping:
            X, early_stopping = self._early_stopping(X, seed)
            callbacks.append(early_stopping)
        callbacks.append(ProgressReporter(self.verbose))
        trainer = Trainer(self._sampler_class(self.batch_size),
                          learning_rate=self.learning_rate, max_epochs=self.max_epochs,
                          alpha=self._alpha, device=device, with_rows=self._batch_with_rows,
                          with_block=self._batch_with_block,
                          callbacks=callbacks, name=type(self).__name__)
        fork_devices = [device] if device.type == "cuda" else []
        targets = self._training_targets(X)
        with torch.random.fork_rng(devices=fork_devices):
            torch.manual_seed(seed)
            networks = self._build_networks(X).to(device)
            return trainer.train(networks, self._batch_loss, X, seed, targets,
                                 checkpoint=checkpoint, resume=resume)

    def _checkpoint_store(self, X) -> CheckpointStore | None:
        """The store of ``checkpoint_dir``, keyed by model, parameters and data."""
        if self.checkpoint_dir is None:
            return None
        ignored = {"checkpoint_dir", "device", "n_jobs", "verbose"}
        params = {name: value for name, value in self.get_params(deep=False).items()
                  if name not in ignored}
        if not isinstance(params["random_state"], (Integral, type(None))):
            # A RandomState instance's repr names its address; its draws are
            # not reproducible across processes anyway.
            params["random_state"] = "RandomState instance"
        identity = {"model": type(self).__name__, "data": data_fingerprint(X),
                    **{f"param {name}": repr(value) for name, value in sorted(params.items())}}
        return CheckpointStore(self.checkpoint_dir, identity)

    def _training_targets(self, X) -> dict:
        """More users x items matrices the loss reads per block (``batch.targets``)."""
        return {}

    def _early_stopping(self, X, seed):
        """The training part of ``X`` and the callback scoring the held-out part."""
        from ..metrics import CodeRanker, evaluate
        from ..model_selection import train_test_split_interactions

        train, validation = train_test_split_interactions(
            X, self.validation_fraction, per_user=True, random_state=seed
        )
        train = train.astype(np.float32)
        threshold = self._relevance_threshold()
        any_relevant = (validation > threshold).nnz > 0

        def validation_ndcg(networks, alpha):
            # The package's one evaluation, on the codes as they stand.
            if not any_relevant:
                return 0.0
            ranker = CodeRanker(*self._codes_from_networks(networks, alpha, train))
            return evaluate(ranker, train, validation, ndcg_at=10, recall_at=(),
                            users="fitted", relevance_threshold=threshold,
                            tie_aware=False)["NDCG@10"]

        return train, EarlyStopping(validation_ndcg, self.n_iter_no_change)

    def _training_attributes(self, state: TrainingState) -> dict:
        """The fitted attributes every torch model has."""
        return {
            "alpha_": state.alpha,
            "n_epochs_": state.epoch + 1,
            "resumed_epochs_": state.resumed_epochs,
            "loss_curve_": state.loss_curve,
            "validation_scores_": state.history.get("validation NDCG", []),
        }


@contextlib.contextmanager
def torch_threads(n_jobs):
    """Train on ``n_jobs`` torch threads, and restore torch's count after.

    scikit-learn's convention: None is 1 (unless inside a
    ``joblib.parallel_config(n_jobs=...)`` context), -1 is every core, -2
    all but one. One thread is the default because it is the fast choice
    whenever anything else uses the cores (``benchmarks/bench_fit_threads.py``).
    """
    if n_jobs == 0:
        raise ValueError("n_jobs=0 means no thread at all; use None (1 thread), a positive "
                         "count, or -1 for every core.")
    threads = max(1, effective_n_jobs(n_jobs))
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
