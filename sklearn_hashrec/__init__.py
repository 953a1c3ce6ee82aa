"""sklearn-hashrec: hashing-based recommender systems with a scikit-learn API.

Users and items get compact -1/+1 codes; recommendation ranks items by
Hamming distance to the user's code.

The models are imported on first use (PEP 562): ``import sklearn_hashrec``
and its ranking engine, metrics and torch-free models load without torch.
"""

from __future__ import annotations

from ._version import __version__
from .models import MODEL_MODULES as _MODEL_MODULES

__all__ = [*sorted(_MODEL_MODULES), "__version__"]


def __getattr__(name: str):
    if name in _MODEL_MODULES:
        from . import models

        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
