"""
Two-stage retrieval: Hamming candidates, float re-ranking
=========================================================

``RerankRecommender`` takes the Hamming top-200 of a binary model and
re-ranks them with a float model (here EASE): most of the float model's
quality, at a fraction of its scoring cost.
"""

import time

import matplotlib.pyplot as plt
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
names, ndcgs, seconds = [], [], []
for name, model in [("CCSR-S", codes), ("EASE", ease), ("CCSR-S + EASE\ntop-200", two_stage)]:
    start = time.perf_counter()
    ranked = model.recommend(users, k=10)
    seconds.append(time.perf_counter() - start)
    names.append(name)
    ndcgs.append(ndcg_at_k(relevant, ranked, 10))
    print(f"{name!r}: NDCG@10 {ndcgs[-1]:.4f}, all users ranked in {seconds[-1]:.2f} s")

# %%
# Quality against the time to rank every user (one run; times vary).
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.scatter(seconds, ndcgs)
for name, x, y in zip(names, seconds, ndcgs, strict=True):
    ax.annotate(name, (x, y), textcoords="offset points", xytext=(5, -10), fontsize=8)
ax.set_xlabel("seconds to rank all 943 users")
ax.set_ylabel("NDCG@10")
fig.tight_layout()
