"""The recommenders: one module per model, all on ``BaseRecommender``."""

from .aecf import AECF
from .baselines import PopularityRecommender, RandomRecommender
from .ccsr import CCSR
from .djsrh import DJSRH
from .ease import EASE
from .graph_filter import GraphFilter
from .graph_hash import GraphHash
from .mf import BinaryMF, CFCodeReg
from .rerank import RerankRecommender

__all__ = ["AECF", "BinaryMF", "CCSR", "CFCodeReg", "DJSRH", "EASE", "GraphFilter", "GraphHash",
           "PopularityRecommender", "RandomRecommender", "RerankRecommender"]
