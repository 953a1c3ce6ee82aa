"""Binarization: how continuous features become -1/+1 codes.

The paper (Section 4.3) compares three ways to get codes from a network's
continuous output ``f``:

* ``"sign"`` (S): train on ``f``, then ``h = sign(f)`` (two-stage).
* ``"tanh"`` (ST): train on ``tanh(alpha * f)`` with ``alpha`` growing each
  epoch; the output stays continuous.
* ``"sign_tanh"`` (SST): the sign of the ST output, i.e. true binary codes.
* ``None`` (the paper's "-C"): continuous features, for reference.

Every model that learns features takes the same ``binarize`` parameter and
uses the helpers below, so the variants mean the same thing for all models.
"""

from __future__ import annotations

import math

import numpy as np
import torch

BINARIZE_OPTIONS = ("sign", "tanh", "sign_tanh", None)
ALPHA_SCHEDULES = ("exponential", "sqrt")


def sign_codes(features: np.ndarray) -> np.ndarray:
    """Map continuous features to int8 codes in {-1, +1}.

    Zero maps to +1, as in the paper's eq. 8 (``h = 1 if f >= 0``).

    Parameters
    ----------
    features : ndarray of shape (n_rows, n_bits)
        Continuous features.

    Returns
    -------
    codes : ndarray of shape (n_rows, n_bits), dtype int8
        Binary codes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec.binarization import sign_codes
    >>> sign_codes(np.array([[0.5, -0.1, 0.0]]))
    array([[ 1, -1,  1]], dtype=int8)
    """
    features = np.asarray(features)
    return np.where(features >= 0, 1, -1).astype(np.int8)


def alpha_at_epoch(epoch: int, schedule: str = "exponential", growth: float = 1.1) -> float:
    """Scale of ``tanh(alpha * f)`` at a given (0-based) epoch.

    Parameters
    ----------
    epoch : int
        Zero-based epoch index.
    schedule : {"exponential", "sqrt"}, default="exponential"
        ``"exponential"`` is the paper's: ``alpha = growth ** epoch``, starting at
        1 and growing exponentially per epoch (HashNet-style). ``"sqrt"`` is
        DJSRH's: ``alpha = sqrt(epoch + 1)``.
    growth : float, default=1.1
        Per-epoch factor of the exponential schedule.

    Returns
    -------
    alpha : float

    Examples
    --------
    >>> from sklearn_hashrec.binarization import alpha_at_epoch
    >>> alpha_at_epoch(0), round(alpha_at_epoch(2), 2), alpha_at_epoch(3, "sqrt")
    (1.0, 1.21, 2.0)
    """
    if schedule == "exponential":
        return float(growth) ** epoch
    if schedule == "sqrt":
        return math.sqrt(epoch + 1)
    raise ValueError(f"Unknown alpha schedule {schedule!r}; expected one of {ALPHA_SCHEDULES}.")


def relax(features: torch.Tensor, binarize: str | None, alpha: float) -> torch.Tensor:
    """The training-time surrogate of the codes for a binarization variant.

    ``"tanh"`` and ``"sign_tanh"`` train on ``tanh(alpha * f)``; ``"sign"`` and
    ``None`` train on ``f`` itself (sign is applied only after training).
    """
    if binarize in ("tanh", "sign_tanh"):
        return torch.tanh(alpha * features)
    return features


def finalize(features: np.ndarray, binarize: str | None, alpha: float) -> np.ndarray:
    """Turn the trained network's raw output ``f`` into the published codes.

    Returns int8 -1/+1 codes for ``"sign"`` and ``"sign_tanh"``, float32
    ``tanh(alpha * f)`` for ``"tanh"`` and float32 ``f`` for ``None``.
    """
    if binarize in ("sign", "sign_tanh"):
        # sign(tanh(alpha * f)) == sign(f) for alpha > 0, so SST needs no tanh here.
        return sign_codes(features)
    if binarize == "tanh":
        return np.tanh(alpha * features).astype(np.float32)
    return np.asarray(features, dtype=np.float32)


def is_binary(binarize: str | None) -> bool:
    """Whether a ``binarize`` option yields -1/+1 codes."""
    return binarize in ("sign", "sign_tanh")
