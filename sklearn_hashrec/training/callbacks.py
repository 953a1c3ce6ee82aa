"""Callbacks: what happens around the epochs of a training run.

A callback sees the :class:`TrainingState` after every epoch and may ask the
run to stop. The trainer calls them in order, so a callback that measures
(early stopping) comes before one that reports (progress).
"""

from __future__ import annotations

import copy
import logging
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch

__all__ = ["Callback", "EarlyStopping", "ProgressReporter", "TrainingState"]

logger = logging.getLogger("sklearn_hashrec")


@dataclass
class TrainingState:
    """What a training run has done so far.

    Attributes
    ----------
    name : str
        The model's name, for messages.
    networks : torch.nn.Module
        The networks being trained.
    optimizer : torch.optim.Optimizer
    max_epochs : int
    epoch : int
        Index of the last finished epoch (0-based); after training, of the
        epoch whose networks are kept.
    alpha : float
        The scaled tanh's alpha of that epoch.
    loss_curve : list of float
        Mean training loss per epoch.
    logs : dict
        What callbacks measured on the last epoch (e.g. ``"validation NDCG"``).
    history : dict of list
        Every epoch's ``logs``, key by key.
    stop : bool
        Set by a callback to end training after this epoch.
    stop_reason : str
    resumed_epochs : int
        Epochs restored from a checkpoint rather than trained in this run.
    """

    name: str
    networks: torch.nn.Module
    optimizer: torch.optim.Optimizer
    max_epochs: int
    epoch: int = -1
    alpha: float = 1.0
    loss_curve: list = field(default_factory=list)
    logs: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    stop: bool = False
    stop_reason: str = ""
    resumed_epochs: int = 0


class Callback:
    """Hooks around the epochs of a training run; each does nothing by default."""

    def on_train_begin(self, state: TrainingState) -> None:
        """Before the first epoch."""

    def on_epoch_end(self, state: TrainingState) -> None:
        """After each epoch; set ``state.stop`` to end training."""

    def on_train_end(self, state: TrainingState) -> None:
        """After the last epoch, before the networks leave the device."""

    def state_dict(self) -> dict:
        """What a checkpoint must keep of this callback to resume the run."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned, after ``on_train_begin``."""


class EarlyStopping(Callback):
    """Stop when a validation score stops improving, and keep the best epoch.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(networks, alpha) -> float``, higher is better; called in
        eval mode without gradients.
    patience : int
        Epochs without improvement before stopping.
    name : str, default="validation NDCG"
        Key of the score in ``state.logs``.
    """

    def __init__(self, evaluate, patience: int, name: str = "validation NDCG"):
        self.evaluate = evaluate
        self.patience = patience
        self.name = name

    def on_train_begin(self, state):
        self.best_score, self.best_epoch, self.best_state, self.since_best = (
            -np.inf, 0, None, 0)

    def on_epoch_end(self, state):
        state.networks.eval()
        with torch.no_grad():
            score = float(self.evaluate(state.networks, state.alpha))
        state.logs[self.name] = score
        if score > self.best_score:
            self.best_score, self.best_epoch, self.since_best = score, state.epoch, 0
            self.best_state = copy.deepcopy(state.networks.state_dict())
        else:
            self.since_best += 1
        if self.since_best >= self.patience:
            state.stop = True
            state.stop_reason = f"early stop: best epoch {self.best_epoch + 1}"

    def on_train_end(self, state):
        if self.best_state is not None:
            state.networks.load_state_dict(self.best_state)
            state.epoch = self.best_epoch

    def state_dict(self):
        return {"best_score": self.best_score, "best_epoch": self.best_epoch,
                "best_state": self.best_state, "since_best": self.since_best}

    def load_state_dict(self, state):
        self.best_score, self.best_epoch = state["best_score"], state["best_epoch"]
        self.best_state, self.since_best = state["best_state"], state["since_best"]


class ProgressReporter(Callback):
    """Report the loss and what other callbacks measured after each epoch.

    With ``verbose > 0``: a tqdm bar over the epochs on stderr, with the loss
    and the validation score as its postfix, and one ``INFO`` record per epoch
    on the ``"sklearn_hashrec"`` logger, which users route or silence with
    :mod:`logging` (``logging.basicConfig(level=logging.INFO)`` prints them).

    Parameters
    ----------
    verbose : int
        Reports when > 0.
    """

    def __init__(self, verbose: int):
        self.verbose = verbose
        self.bar = None

    def on_train_begin(self, state):
        self.start = time.perf_counter()
        if self.verbose:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=state.max_epochs, desc=state.name, unit="epoch",
                            file=sys.stderr, leave=True)

    def on_epoch_end(self, state):
        if not self.verbose:
            return
        measured = {"loss": state.loss_curve[-1], **state.logs}
        self.bar.set_postfix({key: f"{value:.5f}" for key, value in measured.items()},
                             refresh=False)
        self.bar.update(1)
        message = f"epoch {state.epoch + 1}/{state.max_epochs} loss {state.loss_curve[-1]:.5f}"
        message += "".join(f" {key} {value:.5f}" for key, value in state.logs.items())
        logger.info("[%s] %s (%.1fs)", state.name, message, time.perf_counter() - self.start)
        if state.stop and state.stop_reason:
            logger.info("[%s] %s", state.name, state.stop_reason)

    def on_train_end(self, state):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
