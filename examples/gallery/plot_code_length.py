"""
Code length against NDCG@10
===========================

Longer codes carry more of the users' and items' structure. CCSR's sign codes
at 8 to 64 bits on MovieLens-100k, with popularity as the reference line.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_hashrec import CCSR, PopularityRecommender
from sklearn_hashrec.datasets import load_movielens
from sklearn_hashrec.metrics import ndcg_at_k
from sklearn_hashrec.model_selection import train_test_split_interactions

X = load_movielens("100k").data
train, test = train_test_split_interactions(X, test_size=0.2, random_state=0)
relevant, users = test > 3, np.arange(X.shape[0])
bits = [8, 16, 32, 64]
scores = []
for n_bits in bits:
    model = CCSR(n_bits=n_bits, relevance_threshold=3, max_epochs=10, random_state=0)
    scores.append(ndcg_at_k(relevant, model.fit(train).recommend(users, k=10), 10))
popularity = ndcg_at_k(relevant, PopularityRecommender().fit(train).recommend(users, k=10), 10)

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(bits, scores, marker="o", label="CCSR-S")
ax.axhline(popularity, linestyle=":", color="black", label="popularity")
ax.set_xscale("log", base=2)
ax.set_xticks(bits, [str(b) for b in bits])
ax.set_xlabel("code length (bits)")
ax.set_ylabel("NDCG@10")
ax.legend()
fig.tight_layout()
