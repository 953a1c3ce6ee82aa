"""
Serving the codes with FAISS
============================

``to_faiss_index()`` puts the item codes into a FAISS binary index, the
format a serving system searches. Its Hamming neighbours are the model's own
ranking (without the seen-item filter, which the serving side applies).
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_hashrec import CCSR
from sklearn_hashrec.datasets import load_movielens
from sklearn_hashrec.ranking import pack_codes

X = load_movielens("100k").data
model = CCSR(n_bits=64, max_epochs=10, random_state=0).fit(X)
index = model.to_faiss_index()
queries = pack_codes(model.user_codes_[:5]).view(np.uint8)
distances, items = index.search(queries, 10)
ours = model.recommend(np.arange(5), k=10, exclude_seen=False, return_distance=True)[0]
print("FAISS distances equal the model's:", np.array_equal(distances, ours.astype(distances.dtype)))
print(items[:2])

# %%
# The same top-10 distances, user by user: every point on the diagonal.
fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(ours.ravel(), distances.ravel(), alpha=0.5)
ax.plot([0, 64], [0, 64], color="grey", linewidth=0.8)
ax.set_xlabel("model.recommend distance")
ax.set_ylabel("FAISS IndexBinaryFlat distance")
fig.tight_layout()
