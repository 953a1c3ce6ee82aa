"""Ranking engine: exact top-k items by Hamming distance.

Every model, the scorers and the evaluation rank through :func:`hamming_topk`,
so tie-breaking, seen-item filtering and the answer for a too-large ``k`` are
defined once, here.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["hamming_topk", "TIE_BREAK_RULE"]

TIE_BREAK_RULE = (
    "Items are ordered by increasing distance; items at the same distance are "
    "ordered by increasing item index."
)

# Rows of the distance block are processed in chunks so that memory stays
# bounded (chunk_rows x n_items floats) for any number of users.
_TARGET_BLOCK_ELEMENTS = 2**24


def _as_code_matrix(codes, name: str) -> np.ndarray:
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of codes, got shape {codes.shape}.")
    if codes.dtype.kind not in "iufb":
        raise TypeError(f"{name} must be numeric, got dtype {codes.dtype}.")
    if codes.dtype.kind == "f" and not np.isfinite(codes).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return codes


def _is_sign_matrix(codes: np.ndarray) -> bool:
    return codes.dtype.kind in "iu" and bool(np.all(np.abs(codes) == 1))


def hamming_topk(
    query_codes,
    item_codes,
    k: int,
    *,
    exclude=None,
    return_distance: bool = False,
):
    """Exact top-k items for each query by Hamming distance.

    Parameters
    ----------
    query_codes : array-like of shape (n_queries, n_bits)
        Query (user) codes. Integer arrays in {-1, +1} are ranked by exact
        Hamming distance. Float arrays (continuous features, e.g. the ``"tanh"``
        or ``None`` binarizations) are ranked by the relaxed distance
        ``(n_bits - <q, i>) / 2``, which equals the Hamming distance on -1/+1
        vectors and orders items by decreasing inner product.
    item_codes : array-like of shape (n_items, n_bits)
        Item codes, in the same form as ``query_codes``.
    k : int
        Number of items to return per query, ``k >= 1``.
    exclude : sparse matrix of shape (n_queries, n_items), default=None
        Items to skip per query (for example the items a user has seen): every
        stored entry of row ``q`` is excluded for query ``q``, whatever its
        value.
    return_distance : bool, default=False
        Also return the distances, as ``NearestNeighbors.kneighbors`` does.

    Returns
    -------
    distances : ndarray of shape (n_queries, min(k, n_items)), dtype float64
        Only with ``return_distance=True``. Padding positions hold ``inf``.
    items : ndarray of shape (n_queries, min(k, n_items)), dtype int64
        Item indices, best first. Ties are broken by increasing item index.
        When fewer than ``k`` items remain for a query (all others excluded),
        the remaining positions hold ``-1``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec.ranking import hamming_topk
    >>> users = np.array([[1, 1, -1]], dtype=np.int8)
    >>> items = np.array([[1, 1, -1], [-1, -1, 1], [1, -1, -1]], dtype=np.int8)
    >>> hamming_topk(users, items, k=2, return_distance=True)
    (array([[0., 1.]]), array([[0, 2]]))
    """
    query_codes = _as_code_matrix(query_codes, "query_codes")
    item_codes = _as_code_matrix(item_codes, "item_codes")
    if query_codes.shape[1] != item_codes.shape[1]:
        raise ValueError(
            f"query_codes have {query_codes.shape[1]} bits but item_codes have "
            f"{item_codes.shape[1]}."
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an integer, got {type(k).__name__}.")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}.")
    n_queries, n_bits = query_codes.shape
    n_items = item_codes.shape[0]
    if exclude is not None:
        exclude = sp.csr_matrix(exclude)
        if exclude.shape != (n_queries, n_items):
            raise ValueError(
                f"exclude has shape {exclude.shape}, expected {(n_queries, n_items)}."
            )
    width = min(int(k), n_items)
    out_items = np.full((n_queries, width), -1, dtype=np.int64)
    out_dist = np.full((n_queries, width), np.inf, dtype=np.float64)
    if n_queries == 0 or n_items == 0:
        return (out_dist, out_items) if return_distance else out_items

    integer_codes = _is_sign_matrix(query_codes) and _is_sign_matrix(item_codes)
    item_t = np.ascontiguousarray(item_codes.T, dtype=np.float32 if integer_codes else np.float64)
    chunk = max(1, _TARGET_BLOCK_ELEMENTS // max(n_items, 1))
    for start in range(0, n_queries, chunk):
        stop = min(start + chunk, n_queries)
        q = query_codes[start:stop].astype(item_t.dtype)
        dist = 0.5 * (n_bits - q @ item_t)
        if integer_codes:
            # -1/+1 dot products are exact in float32; rounding removes the .0
            dist = np.rint(dist)
        excluded_rows = excluded_cols = None
        if exclude is not None:
            block = exclude[start:stop]
            excluded_rows = np.repeat(np.arange(stop - start), np.diff(block.indptr))
            excluded_cols = block.indices
        if integer_codes:
            items, dists = _topk_integer(dist.astype(np.int64), width, n_bits, excluded_rows, excluded_cols)
        else:
            items, dists = _topk_float(dist, width, excluded_rows, excluded_cols)
        out_items[start:stop] = items
        out_dist[start:stop] = dists
    return (out_dist, out_items) if return_distance else out_items


def _topk_integer(dist, width, n_bits, excluded_rows, excluded_cols):
    # A unique key (distance, item index) makes a partial selection exact and
    # deterministic: no two items compare equal.
    n_rows, n_items = dist.shape
    key = dist * n_items + np.arange(n_items)
    sentinel = (n_bits + 1) * n_items
    if excluded_rows is not None:
        key[excluded_rows, excluded_cols] = sentinel + excluded_cols
    if width < n_items:
        part = np.argpartition(key, width - 1, axis=1)[:, :width]
    else:
        part = np.broadcast_to(np.arange(n_items), (n_rows, n_items))
    part_keys = np.take_along_axis(key, part, axis=1)
    order = np.argsort(part_keys, axis=1)
    items = np.take_along_axis(part, order, axis=1)
    keys = np.take_along_axis(part_keys, order, axis=1)
    valid = keys < sentinel
    dists = np.where(valid, keys // n_items, np.inf).astype(np.float64)
    items = np.where(valid, items, -1)
    return items, dists


def _topk_float(dist, width, excluded_rows, excluded_cols):
    if excluded_rows is not None:
        dist[excluded_rows, excluded_cols] = np.inf
    order = np.argsort(dist, axis=1, kind="stable")[:, :width]
    dists = np.take_along_axis(dist, order, axis=1)
    items = np.where(np.isfinite(dists), order, -1)
    return items, dists
