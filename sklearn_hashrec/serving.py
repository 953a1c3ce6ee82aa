"""Serving large catalogues: the item codes in a FAISS binary index.

The package's own engine (:func:`~sklearn_hashrec.ranking.hamming_topk`)
scans every item exactly. Past tens of millions of items a server wants an
index that looks at a fraction of them:

* ``"flat"``: ``faiss.IndexBinaryFlat``, the same exact scan;
* ``"ivf"``: ``faiss.IndexBinaryIVF``, items clustered around ``n_lists``
  binary centroids; a query scans the ``n_probe`` nearest lists only
  (approximate; exact when ``n_probe == n_lists``);
* ``"multihash"``: ``faiss.IndexBinaryMultiHash``, multi-index hashing
  (Norouzi et al., as CIGAR uses): the code is cut into ``n_hash`` substrings
  of ``n_bits // n_hash`` bits, each a hash table; a query looks up its substrings
  and every substring within ``n_flip`` bit flips. Every item within Hamming
  distance ``n_hash * (n_flip + 1) - 1`` of the query is found (pigeonhole),
  so it is exact up to that radius.

Measured recall and speed against the exact engine at 10M items:
``docs/scaling.md`` (``benchmarks/bench_faiss_indexes.py``).
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["FAISS_INDEX_KINDS", "faiss_binary_index"]

FAISS_INDEX_KINDS = ("flat", "ivf", "multihash")


def _import_faiss():
    try:
        import faiss
    except ImportError as exc:
        raise ImportError(
            "FAISS indexes need faiss: pip install faiss-cpu (or sklearn-hashrec[faiss])."
        ) from exc
    return faiss


def faiss_binary_index(packed_codes, n_bits: int, kind: str = "flat", *,
                       n_lists: int | None = None, n_probe: int = 16,
                       n_hash: int | None = None, n_flip: int = 1,
                       max_training_points: int | None = None, random_state=0):
    """A FAISS binary index over packed item codes.

    Parameters
    ----------
    packed_codes : ndarray of shape (n_items, n_words), dtype uint64
        Item codes as :func:`~sklearn_hashrec.ranking.pack_codes` packs them.
    n_bits : int
        Code length; the index dimension is ``64 * n_words`` (padding bits are
        0 on every side, so distances are unchanged).
    kind : {"flat", "ivf", "multihash"}, default="flat"
        The index (see the module's description).
    n_lists : int or None, default=None
        ``"ivf"``: number of lists; None takes ``sqrt(n_items)`` (3,162 at
        10M items).
    n_probe : int, default=16
        ``"ivf"``: lists scanned per query (set ``index.nprobe`` to change it
        later).
    n_hash : int or None, default=None
        ``"multihash"``: number of hash tables; None takes ``n_bits // 16``
        (at least 1), so each table keys on 16 bits or more; FAISS allows at
        most 64 bits per table, so ``n_hash >= n_bits / 64``.
    n_flip : int, default=1
        ``"multihash"``: bit flips tried within each substring
        (``index.nflip``).
    max_training_points : int or None, default=None
        ``"ivf"``: the centroids are learnt on at most this many items drawn
        at random; None takes ``64 * n_lists`` (FAISS's k-means wants 39 to
        256 points per centroid, far fewer than 10M).
    random_state : int, RandomState instance or None, default=0
        Seeds that draw.

    Returns
    -------
    index : faiss.IndexBinary
        Item ``i`` is vector ``i``. Query it with
        ``pack_codes(user_codes).view(np.uint8)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec.ranking import pack_codes
    >>> from sklearn_hashrec.serving import faiss_binary_index
    >>> codes = np.where(np.random.default_rng(0).random((1000, 32)) < 0.5, -1, 1)
    >>> index = faiss_binary_index(pack_codes(codes), 32, "ivf", n_lists=8, n_probe=8)
    >>> distances, items = index.search(pack_codes(codes[:2]).view(np.uint8), 1)
    >>> distances.ravel().tolist(), items.ravel().tolist()
    ([0, 0], [0, 1])
    """
    if kind not in FAISS_INDEX_KINDS:
        raise ValueError(f"kind must be one of {FAISS_INDEX_KINDS}, got {kind!r}.")
    packed = np.ascontiguousarray(packed_codes, dtype=np.uint64)
    if packed.ndim != 2 or packed.shape[0] == 0:
        raise ValueError(f"packed_codes must be a non-empty 2-D array, got {packed.shape}.")
    dimension = 64 * packed.shape[1]
    if not isinstance(n_bits, Integral) or not 0 < n_bits <= dimension:
        raise ValueError(f"n_bits must be in [1, {dimension}], got {n_bits!r}.")
    faiss = _import_faiss()
    vectors = packed.view(np.uint8)
    n_items = len(vectors)
    if kind == "flat":
        index = faiss.IndexBinaryFlat(dimension)
    elif kind == "ivf":
        n_lists = n_lists or max(1, int(math.sqrt(n_items)))
        if not 1 <= n_lists <= n_items:
            raise ValueError(f"n_lists must be in [1, n_items={n_items}], got {n_lists}.")
        quantizer = faiss.IndexBinaryFlat(dimension)
        index = faiss.IndexBinaryIVF(quantizer, dimension, n_lists)
        # The index points at the quantizer without owning it; keep it alive with the index.
        index.referenced_quantizer = quantizer
        rng = check_random_state(random_state)
        n_training = max_training_points or 64 * n_lists
        training = (vectors if n_items <= n_training else
                    vectors[np.sort(rng.choice(n_items, n_training, replace=False))])
        index.cp.seed = int(rng.randint(np.iinfo(np.int32).max))
        index.train(training)
        index.nprobe = min(int(n_probe), n_lists)
    else:
        n_hash = n_hash or max(1, n_bits // 16)
        if not 1 <= n_hash <= n_bits:
            raise ValueError(f"n_hash must be in [1, n_bits={n_bits}], got {n_hash}.")
        if n_bits // n_hash > 64:
            raise ValueError(
                f"multihash keys each table on n_bits // n_hash = {n_bits // n_hash} bits, and "
                f"FAISS allows at most 64: use n_hash >= {-(-n_bits // 64)}."
            )
        # Tables key on the code's own bits; the padding bits after n_bits are always 0.
        index = faiss.IndexBinaryMultiHash(dimension, n_hash, n_bits // n_hash)
        index.nflip = int(n_flip)
    index.add(vectors)
    return index
