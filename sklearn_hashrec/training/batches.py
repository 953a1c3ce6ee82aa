"""What one training step sees: a block of users crossed with a block of items."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch

from ..interactions import canonical_csr

__all__ = ["Batch", "make_batch", "resolve_device", "sparse_tensor"]


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
    block : Tensor of shape (n_batch_users, n_batch_items) or None
        The training matrix restricted to the block (0 where unobserved);
        None for models that read the observed entries from ``user_rows``.
    alpha : float
        Current scale of the scaled tanh.
    targets : dict of str to Tensor
        Other users x items matrices of the model restricted to the block
        (e.g. a teacher's ranking for distillation), by name.
    """

    users: torch.Tensor
    items: torch.Tensor
    user_rows: torch.Tensor | None
    item_cols: torch.Tensor | None
    block: torch.Tensor | None
    alpha: float
    targets: dict = field(default_factory=dict)


def make_batch(X: sp.csr_matrix, X_cols: sp.csr_matrix, users: np.ndarray, items: np.ndarray,
               alpha: float, device, with_rows: bool | str, targets=None,
               with_block: bool = True) -> Batch:
    """The :class:`Batch` of ``users`` x ``items``; the full rows and columns only if asked.

    ``with_rows``: True for the users' rows and the items' columns, ``"users"``
    for the rows only, False for neither. ``with_block=False`` leaves out the
    dense block (a model that ranks all items per step reads the observed
    entries from ``user_rows``; the block would be a dense users x items copy).
    ``targets`` are more users x items CSR matrices, sliced to the block too.
    """
    rows = X[users]
    user_rows = item_cols = None
    if with_rows:
        user_rows = sparse_tensor(rows, device)
    if with_rows is True:
        item_cols = sparse_tensor(X_cols[items], device)
    return Batch(
        users=torch.from_numpy(users).to(device),
        items=torch.from_numpy(items).to(device),
        user_rows=user_rows,
        item_cols=item_cols,
        block=torch.from_numpy(rows[:, items].toarray()).to(device) if with_block else None,
        alpha=alpha,
        targets={name: torch.from_numpy(matrix[users][:, items].toarray()).to(device)
                 for name, matrix in (targets or {}).items()},
    )


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


def sparse_tensor(rows: sp.csr_matrix, device) -> torch.Tensor:
    """Rows of a scipy CSR matrix as a coalesced float32 torch COO tensor on ``device``."""
    rows = canonical_csr(rows)  # sorted, unique indices: what a coalesced tensor promises
    coords = np.vstack([np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr)),
                        rows.indices]).astype(np.int64)
    return torch.sparse_coo_tensor(torch.from_numpy(coords), torch.from_numpy(rows.data),
                                   rows.shape, is_coalesced=True, check_invariants=False,
                                   device=device)
