"""The recommenders: one module per model, all on :class:`~sklearn_hashrec.base.BaseHashRecommender`."""

from .ccsr import CCSR

__all__ = ["CCSR"]
