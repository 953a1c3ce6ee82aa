"""The recommenders: one module per model, all on ``BaseRecommender``."""

from .aecf import AECF
from .baselines import PopularityRecommender, RandomRecommender
from .ccsr import CCSR
from .djsrh import DJSRH
from .mf import BinaryMF, CFCodeReg

__all__ = ["AECF", "BinaryMF", "CCSR", "CFCodeReg", "DJSRH", "PopularityRecommender",
           "RandomRecommender"]
