"""sklearn-hashrec: hashing-based recommender systems with a scikit-learn API.

Users and items get compact -1/+1 codes; recommendation ranks items by
Hamming distance to the user's code.
"""

from ._version import __version__
from .models import (
    AECF,
    CCSR,
    DJSRH,
    EASE,
    BinaryMF,
    CFCodeReg,
    GraphFilter,
    GraphHash,
    PopularityRecommender,
    RandomRecommender,
    RerankRecommender,
)

__all__ = ["AECF", "CCSR", "DJSRH", "EASE", "GraphFilter", "GraphHash", "BinaryMF", "CFCodeReg",
           "PopularityRecommender", "RandomRecommender", "RerankRecommender", "__version__"]
