"""
Two-stage retrieval: Hamming candidates, float re-ranking
=========================================================

``RerankRecommender`` takes the Hamming top-200 of a binary model and
re-ranks them with a float model (here EASE): most of the float model's
quality, at a fraction of its scoring cost.
"""

import numpy as np

from sklearn_hashrec import CCSR, EASE, RerankRecommender
from sklearn_hashrec.datasets import load_movielens
from sklearn_hashrec.metrics import ndcg_at_k
from sklearn_hashrec.model_selection import train_test_split_interactions

X = load_movielens("100k").data
train, test = train_test_split_interactions(X, test_size=0.2, random_state=0)
relevant, users = test > 3, np.arange(X.shape[0])
codes = CCSR(n_bits=64, relevance_threshold=3, random_state=0).fit(train)
ease = EASE(l2_reg=300).fit(train)
two_stage = RerankRecommender(codes, ease, n_candidates=200, prefit=True).fit(train)
for name, model in [("CCSR-S", codes), ("EASE", ease), ("CCSR-S + EASE top-200", two_stage)]:
    print(f"{name}: NDCG@10 {ndcg_at_k(relevant, model.recommend(users, k=10), 10):.4f}")
