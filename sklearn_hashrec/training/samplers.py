"""Samplers: which users and items each training step of an epoch takes.

Every sampler draws a permutation of the users and one of the items at the
start of each epoch (whether it uses both or not), so the random stream, and
with it a seeded fit, does not depend on which sampler a model uses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["BlockSampler", "PairSampler", "RowSampler", "Sampler"]


class Sampler(ABC):
    """Yields ``(users, items)`` index arrays, one pair per training step.

    Parameters
    ----------
    batch_size : int
        Users (and items, or observed entries) per step.
    """

    def __init__(self, batch_size: int):
        self.batch_size = int(batch_size)

    @abstractmethod
    def n_steps(self, X: sp.csr_matrix) -> int:
        """Steps in one epoch over ``X``."""

    def epoch(self, X: sp.csr_matrix, generator: torch.Generator
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The steps of one epoch, drawn with ``generator``."""
        n_users, n_items = X.shape
        user_order = torch.randperm(n_users, generator=generator).numpy()
        item_order = torch.randperm(n_items, generator=generator).numpy()
        return self._steps(X, user_order, item_order, generator)

    @abstractmethod
    def _steps(self, X, user_order, item_order, generator):
        """The epoch's ``(users, items)`` pairs, given its permutations."""


class BlockSampler(Sampler):
    """``batch_size`` users crossed with ``batch_size`` items.

    An epoch visits every user and every item at least once: it has
    ``ceil(max(n_users, n_items) / batch_size)`` steps, and the smaller side
    wraps around within the epoch.
    """

    def n_steps(self, X):
        return int(np.ceil(max(X.shape) / self.batch_size))

    def _steps(self, X, user_order, item_order, generator):
        for step in range(self.n_steps(X)):
            yield (wrapped_slice(user_order, step, self.batch_size),
                   wrapped_slice(item_order, step, self.batch_size))


class RowSampler(Sampler):
    """``batch_size`` users crossed with all items; an epoch visits every user once."""

    def n_steps(self, X):
        return int(np.ceil(X.shape[0] / self.batch_size))

    def _steps(self, X, user_order, item_order, generator):
        all_items = np.arange(X.shape[1])
        for step in range(self.n_steps(X)):
            yield wrapped_slice(user_order, step, self.batch_size), all_items


class PairSampler(Sampler):
    """``batch_size`` observed (user, item) entries, drawn without replacement.

    Row ``j`` of a step is a user and an item that interacted. An epoch has as
    many steps as a :class:`BlockSampler` epoch.
    """

    def n_steps(self, X):
        return int(np.ceil(max(X.shape) / self.batch_size))

    def _steps(self, X, user_order, item_order, generator):
        entry_rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        entry_order = torch.randperm(X.nnz, generator=generator).numpy()
        for step in range(self.n_steps(X)):
            entries = wrapped_slice(entry_order, step, self.batch_size)
            yield entry_rows[entries], X.indices[entries].astype(np.int64)


def wrapped_slice(order: np.ndarray, step: int, size: int) -> np.ndarray:
    """The ``step``-th run of ``size`` entries of ``order``, wrapping around its end."""
    n = len(order)
    if size >= n:
        return order
    start = (step * size) % n
    stop = start + size
    if stop <= n:
        return order[start:stop]
    return np.concatenate([order[start:], order[: stop - n]])
