"""sklearn-hashrec: hashing-based recommender systems with a scikit-learn API.

Users and items get compact -1/+1 codes; recommendation ranks items by
Hamming distance to the user's code.
"""

from .models import (
    AECF,
    CCSR,
    DJSRH,
    BinaryMF,
    CFCodeReg,
    PopularityRecommender,
    RandomRecommender,
)

__version__ = "0.1.0"

__all__ = ["AECF", "CCSR", "DJSRH", "BinaryMF", "CFCodeReg", "PopularityRecommender",
           "RandomRecommender", "__version__"]
