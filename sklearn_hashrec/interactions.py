"""Interaction matrices and item masks: the sparse helpers models and pipelines share.

* :func:`canonical_csr` and :func:`binary_interactions`: the matrix every
  model reads (float32 CSR, canonical), and its 0/1 form;
* :func:`check_item_mask`, :func:`check_candidate_items`,
  :func:`mask_structure`, :func:`mask_union` and :func:`exclusion_mask`: the
  per-user item masks of ``recommend`` (``exclude=``, ``candidates=``, the
  seen items);
* :func:`warn_if_triples`: the warning for a table of ids passed as a matrix.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

__all__ = ["binary_interactions", "canonical_csr", "check_candidate_items", "check_item_mask",
           "exclusion_mask", "mask_structure", "mask_union", "warn_if_triples"]


def warn_if_triples(X) -> None:
    """Warn when ``X`` looks like a log of ``(user, item[, rating])`` rows, not a matrix.

    Such a table passes as a matrix of a few "items" and many "users", and a
    model would train on it without complaint. The signs: 2 to 4 columns, many
    more rows, and the first two columns integer-valued with many distinct
    values each (a matrix's columns hold a handful of ratings or 0/1).
    """
    if sp.issparse(X) or not hasattr(X, "shape") and not isinstance(X, (list, tuple)):
        return
    shape = np.shape(X)
    if len(shape) != 2 or not 2 <= shape[1] <= 4 or shape[0] < 50 * shape[1]:
        return
    try:
        ids = np.asarray(np.asarray(X)[:, :2], dtype=np.float64)
    except (TypeError, ValueError):
        return
    integral = np.isfinite(ids).all() and (ids == np.round(ids)).all() and (ids >= 0).all()
    if integral and all(len(np.unique(ids[:, j])) > 20 for j in range(2)):
        warnings.warn(
            f"X looks like a table of (user, item[, rating]) rows ({shape[0]} rows, "
            f"{shape[1]} columns, integer ids in the first two), not a users x items "
            f"matrix: fit would learn {shape[1]} items. Build the matrix with "
            "sklearn_hashrec.preprocessing.InteractionEncoder (e.g. "
            "InteractionEncoder(rating_col=2).fit_transform(table)).",
            UserWarning, stacklevel=4,
        )


def canonical_csr(X) -> sp.csr_matrix:
    """``X`` as float32 CSR with sorted, unique indices and no stored zeros.

    The models only read the result, so a float32 CSR matrix that is already in
    that form is shared with the caller rather than copied (on a 20M-entry
    matrix a copy is 160 MB); anything else is converted or cleaned on a fresh
    copy, so the caller's matrix is never modified.
    """
    if (sp.issparse(X) and X.format == "csr" and X.dtype == np.float32
            and X.has_canonical_format and np.all(X.data != 0)):
        return sp.csr_matrix(X)  # a new matrix object over the same arrays
    X = sp.csr_matrix(X, dtype=np.float32, copy=True)
    X.eliminate_zeros()
    X.sum_duplicates()
    return X


def binary_interactions(X) -> sp.csr_matrix:
    """``X`` as a float32 CSR copy with every stored interaction set to 1.

    The implicit-feedback models (EASE, GraphFilter) count each stored entry
    once, whatever its rating.
    """
    binary = sp.csr_matrix(X, dtype=np.float32, copy=True)
    binary.data[:] = 1.0
    return binary


def check_item_mask(mask, n_queries: int, n_items: int, name: str):
    """A (n_queries, n_items) item mask as CSR (stored entries / non-zeros), or None."""
    if mask is None:
        return None
    if not sp.issparse(mask):
        mask = np.asarray(mask)
        if mask.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be a numeric or boolean matrix, got dtype {mask.dtype}.")
    if np.ndim(mask) != 2 or mask.shape != (n_queries, n_items):
        raise ValueError(f"{name} has shape {np.shape(mask)}, expected {(n_queries, n_items)} "
                         "(one row per user, one column per item of fit).")
    return sp.csr_matrix(mask)


def check_candidate_items(candidates, n_items: int) -> np.ndarray:
    """A 1-D candidate list as sorted unique item indices (sorted: ties keep item order)."""
    items = np.asarray(candidates)
    if items.ndim != 1:
        raise ValueError("candidates must be a 1-D array of item indices or a "
                         f"(n_users, n_items) matrix, got shape {items.shape}.")
    if items.size == 0:
        return np.zeros(0, dtype=np.int64)
    if items.dtype.kind not in "iu":
        raise TypeError(f"candidates must be integer item indices, got dtype {items.dtype}.")
    if items.min() < 0 or items.max() >= n_items:
        bad = items[(items < 0) | (items >= n_items)][0]
        raise ValueError(f"candidate item {bad} is out of range: the model was fitted on "
                         f"{n_items} items (valid indices 0..{n_items - 1}).")
    return np.unique(items).astype(np.int64)


def mask_structure(mask) -> sp.csr_matrix:
    """1 at every stored entry of ``mask`` (int8 CSR), whatever its value."""
    ones = sp.csr_matrix(mask, copy=True)
    ones.data = np.ones_like(ones.data, dtype=np.int8)
    return ones


def mask_union(masks, shape):
    """Structural union of sparse masks (every stored entry counts, whatever its value).

    None for an empty list; the mask itself for one mask.
    """
    if not masks:
        return None
    if len(masks) == 1:
        return masks[0]
    total = sp.csr_matrix(shape, dtype=np.int8)
    for mask in masks:
        total = total + mask_structure(mask)
    return total


def exclusion_mask(seen, exclude, n_queries: int, n_items: int):
    """The items to skip per query: ``seen`` (or None) and ``exclude``, validated, as one mask.

    What ``recommend`` and a pipeline's ``recommend`` exclude: the seen
    items, when asked, and the caller's ``exclude``. None when neither is
    given. ``seen`` may be narrower than ``n_items``: a history over fit's
    items after ``add_items`` grew the catalogue, empty in the new columns.
    """
    if seen is not None and seen.shape[1] < n_items:
        seen = sp.csr_matrix((seen.data, seen.indices, seen.indptr),
                             shape=(seen.shape[0], n_items))
    masks = [m for m in (seen, check_item_mask(exclude, n_queries, n_items, "exclude"))
             if m is not None]
    return mask_union(masks, (n_queries, n_items))


def replace_seen_rows(seen: sp.csr_matrix, rows: np.ndarray, histories) -> sp.csr_matrix:
    """``seen`` with rows ``rows`` replaced by the structure of ``histories``, in its dtype.

    What an update of users' histories does to a seen-item mask: the other
    rows stay as they are. ``rows`` must not repeat; ``histories`` has one
    row per entry of ``rows`` and ``seen``'s width.
    """
    n_rows = seen.shape[0]
    keep = np.ones(n_rows, dtype=seen.dtype)
    keep[rows] = 0
    place = sp.csr_matrix((np.ones(len(rows), dtype=seen.dtype), (rows, np.arange(len(rows)))),
                          shape=(n_rows, len(rows)))
    replaced = (sp.diags(keep, format="csr", dtype=seen.dtype) @ seen
                + place @ mask_structure(histories).astype(seen.dtype))
    replaced.eliminate_zeros()
    replaced.sort_indices()
    return replaced.tocsr()
