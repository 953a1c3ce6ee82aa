"""
Quickstart: binary codes, recommendations and NDCG
===================================================

Train CCSR's 64-bit sign codes on MovieLens-100k, recommend by Hamming
distance, and compare NDCG@10 with the popularity ranking, under the paper's
protocol: a per-user 80/20 split, relevance = held-out rating > 3, every item
the user has not rated is a candidate.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_hashrec import CCSR, PopularityRecommender
from sklearn_hashrec.datasets import load_movielens
from sklearn_hashrec.metrics import ndcg_at_k
from sklearn_hashrec.model_selection import train_test_split_interactions
from sklearn_hashrec.ranking import hamming_distances

X = load_movielens("100k").data
train, test = train_test_split_interactions(X, test_size=0.2, random_state=0)
model = CCSR(n_bits=64, relevance_threshold=3, random_state=0).fit(train)

# %%
# Codes are int8 -1/+1; ``item_codes_packed_`` holds them in 64-bit words.
print(model.user_codes_[:2, :16])
print("bytes per item:", model.item_codes_packed_.itemsize * model.item_codes_packed_.shape[1])

# %%
# Recommendations exclude the items each user rated in training.
users = np.arange(X.shape[0])
print(model.recommend([0, 1], k=5))
relevant = test > 3
print("CCSR-S NDCG@10:", round(ndcg_at_k(relevant, model.recommend(users, k=10), 10), 4))
popular = PopularityRecommender().fit(train)
print("popularity NDCG@10:", round(ndcg_at_k(relevant, popular.recommend(users, k=10), 10), 4))

# %%
# Held-out relevant items lie closer to their users' codes than the rest:
# the distribution of Hamming distances of each kind of pair.
distances = hamming_distances(model.user_codes_, model.item_codes_).astype(float)
relevant_pairs = relevant.toarray()
unseen = train.toarray() == 0
fig, ax = plt.subplots(figsize=(5, 3.5))
bins = np.arange(0, 65, 2)
ax.hist(distances[unseen & ~relevant_pairs], bins=bins, density=True, alpha=0.6,
        label="other unseen items")
ax.hist(distances[relevant_pairs], bins=bins, density=True, alpha=0.6,
        label="held-out, rated > 3")
ax.set_xlabel("Hamming distance (64 bits)")
ax.set_ylabel("share of pairs")
ax.legend()
fig.tight_layout()
