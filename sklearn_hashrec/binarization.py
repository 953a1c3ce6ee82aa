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
from sklearn.utils import check_random_state

__all__ = ["ALPHA_SCHEDULES", "BINARIZE_OPTIONS", "SIGN_SURROGATES", "alpha_at_epoch",
           "finalize", "is_binary", "itq_rotation", "relax", "sign_codes",
           "straight_through_sign"]

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


def itq_rotation(features: np.ndarray, *, n_iter: int = 50, random_state=None,
                 center: bool = True) -> np.ndarray:
    """Iterative quantization's rotation: orthogonal ``R`` with ``sign(F R)`` near ``F R``.

    ITQ (Gong & Lazebnik, CVPR 2011): from a random rotation, alternate the
    codes ``B = sign(F R)`` and the orthogonal Procrustes solution ``R = W V'``
    of ``F' B = W S V'``, where ``F`` is ``features``, centred on the column
    means when ``center``. Each step lowers the quantization error ``||B - F R||``. Because
    ``R`` is orthogonal, inner products of rotated features are unchanged.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_dims)
        Continuous features (users and items stacked, for one shared ``R``).
    n_iter : int, default=50
        Alternations.
    random_state : int, RandomState instance or None, default=None
        Seed of the starting rotation.
    center : bool, default=True
        Fit on centred features (codes ``sign((F - mean) R)``). ``False``
        fits the codes ``sign(F R)``, which a positive scale of a row leaves
        unchanged: fold-in codes then need no stored mean.

    Returns
    -------
    rotation : ndarray of shape (n_dims, n_dims), dtype float32
        Orthogonal.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec.binarization import itq_rotation
    >>> features = np.random.default_rng(0).normal(size=(100, 4))
    >>> rotation = itq_rotation(features, random_state=0)
    >>> bool(np.allclose(rotation @ rotation.T, np.eye(4), atol=1e-5))
    True
    """
    rng = check_random_state(random_state)
    r = features.shape[1]
    rotation, _ = np.linalg.qr(rng.standard_normal((r, r)))
    centered = features - features.mean(axis=0) if center else features
    for _ in range(n_iter):
        codes = np.where(centered @ rotation >= 0, 1.0, -1.0)
        u, _, vt = np.linalg.svd(centered.T @ codes)
        rotation = u @ vt
    return rotation.astype(np.float32)


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


SIGN_SURROGATES = ("identity", "clipped", "tanh", "gaussian")


def straight_through_sign(features: torch.Tensor, surrogate: str = "identity",
                          width: float = 1.0) -> torch.Tensor:
    """``sign(f)`` in the forward pass, a surrogate gradient in the backward pass.

    ``sign`` has zero gradient almost everywhere, so training through it needs
    a stand-in for its derivative:

    * ``"identity"``: the straight-through estimator, ``d sign(f) / df = 1``;
    * ``"clipped"``: the saturated straight-through estimator (Hubara et al.,
      2016), ``1`` where ``|f| <= width`` and ``0`` beyond: the derivative of
      ``clip(f, -width, width)``. Unlike ``"identity"`` it stops pushing a
      feature once it is past ``width``, so features cannot grow without bound;
    * ``"tanh"``: the derivative of ``tanh(f / width)``, which fades for
      features far from the sign boundary;
    * ``"gaussian"``: ``exp(-f^2 / (2 width^2))``, a Gaussian approximation of
      the Dirac delta (BiGeaR, KDD 2022), scaled to 1 at ``f = 0``.

    Both smooth surrogates concentrate learning on the features near zero,
    whose bits a small step can still flip.

    Parameters
    ----------
    features : Tensor
        Continuous features ``f``.
    surrogate : {"identity", "clipped", "tanh", "gaussian"}, default="identity"
        Backward pass.
    width : float, default=1.0
        Scale of the smooth surrogates, in units of ``f``.

    Returns
    -------
    codes : Tensor
        ``sign(f)`` (+1 at 0), same dtype as ``features``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_hashrec.binarization import straight_through_sign
    >>> f = torch.tensor([-2.0, 0.0, 0.5], requires_grad=True)
    >>> straight_through_sign(f, "gaussian").sum().backward()
    >>> f.grad.round(decimals=3)
    tensor([0.1350, 1.0000, 0.8820])
    """
    signs = torch.where(features >= 0, 1.0, -1.0).to(features.dtype)
    if surrogate == "identity":
        return features + (signs - features).detach()
    if surrogate == "clipped":
        smooth = torch.clamp(features, -width, width)
    elif surrogate == "tanh":
        smooth = width * torch.tanh(features / width)
    elif surrogate == "gaussian":
        # The antiderivative of exp(-f^2 / 2w^2), up to a constant.
        smooth = width * math.sqrt(math.pi / 2) * torch.erf(features / (width * math.sqrt(2)))
    else:
        raise ValueError(f"surrogate must be one of {SIGN_SURROGATES}, got {surrogate!r}")
    return smooth + (signs - smooth).detach()


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
