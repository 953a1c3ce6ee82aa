"""The one training loop shared by every torch model.

It owns what is common to all of them: device placement, seeding, epochs,
paired mini-batches of users and items, the optimiser, the scaled-tanh alpha
schedule, NaN detection, early stopping on a validation NDCG, and progress
output. A model supplies its networks and a loss over one batch.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .base import canonical_csr
from .binarization import ALPHA_SCHEDULES, alpha_at_epoch

__all__ = ["Batch", "TorchTrainingMixin", "resolve_device", "sparse_tensor"]


@dataclass
class Batch:
    """One training step's data: a block of users crossed with a block of items.

    Attributes
    ----------
    users, items : LongTensor
        Row and column indices of the block.
    user_rows : sparse COO Tensor of shape (n_batch_users, n_items) or None
        The users' full rows of the training matrix (autoencoder input), kept
        sparse: a dense copy of 512 rows of a 200,000-column matrix alone
        would take 400 MB.
    item_cols : sparse COO Tensor of shape (n_batch_items, n_users) or None
        The items' full columns of the training matrix.
    block : Tensor of shape (n_batch_users, n_batch_items)
        The training matrix restricted to the block (0 where unobserved).
    alpha : float
        Current scale of the scaled tanh.
    """

    users: torch.Tensor
    items: torch.Tensor
    user_rows: torch.Tensor | None
    item_cols: torch.Tensor | None
    block: torch.Tensor
    alpha: float


def resolve_device(device) -> torch.device:
    """Validate a ``device`` parameter and return the torch device."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"Invalid device {device!r}: {exc}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine; use device='cpu'."
        )
    return resolved


class TorchTrainingMixin:
    """Training loop and training parameters for models built on torch.

    A model using it defines ``_build_networks(X)`` returning a
    ``torch.nn.ModuleDict`` and ``_batch_loss(networks, batch)`` returning the
    scalar loss of a batch. Two class attributes shape the batches:

    * ``_uses_rows``: whether the loss needs the users' rows and the items'
      columns (encoders), or only the block of ``X`` (factorisation).
    * ``_batch_mode``: ``"block"``, ``batch_size`` users crossed with
      ``batch_size`` items, an epoch visiting every user and every item;
      ``"rows"``, ``batch_size`` users crossed with all items, an epoch visiting
      every user; ``"pairs"``, ``batch_size`` observed (user, item) entries
      drawn without replacement, an epoch being as many steps as ``"block"``.
    """

    _training_parameter_constraints: dict = {
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "alpha_schedule": [StrOptions(set(ALPHA_SCHEDULES))],
        "alpha_growth": [Interval(Real, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }
    _uses_rows = True
    _batch_mode = "block"

    def _alpha(self, epoch: int) -> float:
        return alpha_at_epoch(epoch, self.alpha_schedule, self.alpha_growth)

    def _seed(self) -> int:
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _train(self, X: sp.csr_matrix) -> dict:
        """Train the model's networks on ``X``.

        With ``early_stopping``, a per-user ``validation_fraction`` of ``X`` is
        held out; after each epoch the codes of ``_codes_from_networks`` are
        ranked for the training part and NDCG@10 is taken on the held-out part.

        Returns
        -------
        state : dict
            ``networks`` (on CPU, in eval mode), ``n_epochs``, ``alpha``,
            ``loss_curve`` and ``validation_scores``.
        """
        device = resolve_device(self.device)
        seed = self._seed()
        evaluate = None
        if self.early_stopping:
            X, evaluate = self._validation_split(X, seed)
        fork_devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=fork_devices):
            torch.manual_seed(seed)
            return self._train_seeded(X, device, seed, evaluate)

    def _validation_split(self, X, seed):
        from .metrics import ndcg_at_k
        from .model_selection import train_test_split_interactions
        from .ranking import hamming_topk

        train, validation = train_test_split_interactions(
            X, self.validation_fraction, per_user=True, random_state=seed
        )
        train = train.astype(np.float32)
        relevant = validation > getattr(self, "relevance_threshold", 0.0)

        def evaluate(networks, alpha):
            users, items = self._codes_from_networks(networks, alpha, train)
            ranked = hamming_topk(users, items, 10, exclude=train)
            return ndcg_at_k(relevant, ranked, 10) if relevant.nnz else 0.0

        return train, evaluate

    def _train_seeded(self, X, device, seed, evaluate):
        n_users, n_items = X.shape
        networks = self._build_networks(X).to(device)
        optimizer = torch.optim.Adam(networks.parameters(), lr=self.learning_rate)
        generator = torch.Generator().manual_seed(seed)
        X_cols = X.T.tocsr()
        batch_size = int(self.batch_size)
        # An epoch visits every user and every item at least once; the smaller
        # side wraps around within the epoch.
        n_steps = int(np.ceil(max(n_users, n_items) / batch_size))
        if self._batch_mode == "rows":
            n_steps = int(np.ceil(n_users / batch_size))
        entry_rows = (np.repeat(np.arange(n_users), np.diff(X.indptr))
                      if self._batch_mode == "pairs" else None)
        all_items = np.arange(n_items)
        loss_curve, validation_scores = [], []
        best_score, best_state, best_epoch, since_best = -np.inf, None, 0, 0
        start = time.perf_counter()
        epoch = 0
        for epoch in range(self.max_epochs):
            alpha = self._alpha(epoch)
            networks.train()
            user_order = torch.randperm(n_users, generator=generator).numpy()
            item_order = torch.randperm(n_items, generator=generator).numpy()
            if self._batch_mode == "pairs":
                entry_order = torch.randperm(X.nnz, generator=generator).numpy()
            total = 0.0
            for step in range(n_steps):
                if self._batch_mode == "pairs":
                    entries = _wrapped_slice(entry_order, step, batch_size)
                    users, items = entry_rows[entries], X.indices[entries].astype(np.int64)
                else:
                    users = _wrapped_slice(user_order, step, batch_size)
                    items = (all_items if self._batch_mode == "rows"
                             else _wrapped_slice(item_order, step, batch_size))
                batch = self._make_batch(X, X_cols, users, items, alpha, device)
                loss = self._batch_loss(networks, batch)
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"{type(self).__name__}: the training loss became {loss.item()} at "
                        f"epoch {epoch + 1}, step {step + 1}. Lower learning_rate (now "
                        f"{self.learning_rate}) or the loss weights, or scale the input "
                        "ratings to a smaller range."
                    )
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += float(loss.detach())
            loss_curve.append(total / n_steps)
            message = f"epoch {epoch + 1}/{self.max_epochs} loss {loss_curve[-1]:.5f}"
            if evaluate is not None:
                networks.eval()
                with torch.no_grad():
                    score = float(evaluate(networks, alpha))
                validation_scores.append(score)
                message += f" validation NDCG {score:.5f}"
                if score > best_score:
                    best_score, best_epoch, since_best = score, epoch, 0
                    best_state = copy.deepcopy(networks.state_dict())
                else:
                    since_best += 1
            if self.verbose:
                print(f"[{type(self).__name__}] {message} ({time.perf_counter() - start:.1f}s)",
                      flush=True)
            if evaluate is not None and since_best >= self.n_iter_no_change:
                if self.verbose:
                    print(f"[{type(self).__name__}] early stop: best epoch {best_epoch + 1}",
                          flush=True)
                break
        if best_state is not None:
            networks.load_state_dict(best_state)
            epoch = best_epoch
        # The last step's gradients would otherwise live on in the fitted model.
        networks.zero_grad(set_to_none=True)
        del optimizer
        networks = networks.to("cpu").eval()
        return {
            "networks": networks,
            "n_epochs": epoch + 1,
            "alpha": self._alpha(epoch),
            "loss_curve": loss_curve,
            "validation_scores": validation_scores,
        }

    def _make_batch(self, X, X_cols, users, items, alpha, device) -> Batch:
        rows = X[users]
        block = rows[:, items].toarray()
        user_rows = item_cols = None
        if self._uses_rows:
            user_rows = sparse_tensor(rows, device)
            item_cols = sparse_tensor(X_cols[items], device)
        return Batch(
            users=torch.from_numpy(users).to(device),
            items=torch.from_numpy(items).to(device),
            user_rows=user_rows,
            item_cols=item_cols,
            block=torch.from_numpy(block).to(device),
            alpha=alpha,
        )


def sparse_tensor(rows: sp.csr_matrix, device) -> torch.Tensor:
    """Rows of a scipy CSR matrix as a coalesced float32 torch COO tensor on ``device``."""
    rows = canonical_csr(rows)  # sorted, unique indices: what a coalesced tensor promises
    coords = np.vstack([np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr)),
                        rows.indices]).astype(np.int64)
    return torch.sparse_coo_tensor(torch.from_numpy(coords), torch.from_numpy(rows.data),
                                   rows.shape, is_coalesced=True, check_invariants=False,
                                   device=device)


def _wrapped_slice(order: np.ndarray, step: int, size: int) -> np.ndarray:
    n = len(order)
    if size >= n:
        return order
    start = (step * size) % n
    stop = start + size
    if stop <= n:
        return order[start:stop]
    return np.concatenate([order[start:], order[: stop - n]])
