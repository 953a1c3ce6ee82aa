"""The recommenders: one module per model, all on ``BaseHashRecommender``."""

from .ccsr import CCSR

__all__ = ["CCSR"]
