"""The recommenders: one module per model, all on ``BaseRecommender``.

The models are imported on first use (PEP 562), so that the ones without
torch (``PopularityRecommender``, ``RandomRecommender``, ``EASE``,
``GraphFilter``, ``RerankRecommender``) load without it.
"""

from __future__ import annotations

import importlib

#: Each public model and the module that defines it.
MODEL_MODULES = {
    "AECF": "aecf",
    "BinaryMF": "mf",
    "CCSR": "ccsr",
    "CFCodeReg": "mf",
    "DJSRH": "djsrh",
    "EASE": "ease",
    "GraphFilter": "graph_filter",
    "GraphHash": "graph_hash",
    "PopularityRecommender": "baselines",
    "RandomRecommender": "baselines",
    "RerankRecommender": "rerank",
}

__all__ = sorted(MODEL_MODULES)


def __getattr__(name: str):
    if name in MODEL_MODULES:
        model = getattr(importlib.import_module(f".{MODEL_MODULES[name]}", __name__), name)
        globals()[name] = model  # later lookups skip this function
        return model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
