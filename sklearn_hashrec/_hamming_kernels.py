"""Numba kernels of the Hamming engine: packed XOR + popcount, counting selection.

Codes are packed 64 bits to a uint64 word (bit ``j`` of the code in word
``j // 64``, bit ``j % 64``; padding bits are 0 on both sides, so they never
count). For each query the top-k is found in two passes over the items,
without a sort or a heap:

1. a histogram of distances (``n_bits + 1`` buckets), from which the cut-off
   distance ``t`` and the number of items still needed at ``t`` follow;
   excluded items are subtracted from the histogram afterwards;
2. a scan in item order that writes every item closer than ``t`` straight to its
   final slot (bucket offset + running count), and the first items at ``t``.

Scanning in item order makes ties come out by increasing item index. Items are
processed in tiles that stay in cache while a block of queries is scored
against them, and query blocks run in parallel.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

# Items per tile: 4096 items x 4 words (256 bits) = 128 KiB, within L2.
ITEM_TILE = 4096
# Queries scored against one tile before moving on.
QUERY_BLOCK = 32


@intrinsic
def _popcount(typingctx, word):
    """Hardware popcount (llvm.ctpop), vectorised by LLVM where the CPU allows."""
    signature = types.uint64(types.uint64)

    def codegen(context, builder, sig, args):
        fn = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(fn, args)

    return signature, codegen


@numba.njit(inline="always")
def _distance(queries, q, items, i, n_words):
    d = 0
    for w in range(n_words):
        d += _popcount(queries[q, w] ^ items[i, w])
    return d


@numba.njit(parallel=True, cache=True)
def topk_packed(queries, items, k, n_bits, excl_indptr, excl_indices, out_items, out_dist):
    """Fill ``out_items`` / ``out_dist`` (n_queries, k) with the exact top-k.

    ``out_items`` must come in filled with -1 and ``out_dist`` with -1: slots
    left when fewer than ``k`` items are available keep those values.
    ``excl_indptr`` / ``excl_indices`` are a CSR (sorted indices) of excluded
    items per query; pass ``excl_indptr`` of zeros for none.
    """
    n_queries, n_words = queries.shape
    n_items = items.shape[0]
    n_buckets = n_bits + 1
    n_blocks = (n_queries + QUERY_BLOCK - 1) // QUERY_BLOCK
    for block in numba.prange(n_blocks):
        q0 = block * QUERY_BLOCK
        q1 = min(q0 + QUERY_BLOCK, n_queries)
        nq = q1 - q0
        hist = np.zeros((nq, n_buckets), dtype=np.int64)
        # Pass 1: histogram of distances over all items.
        for t0 in range(0, n_items, ITEM_TILE):
            t1 = min(t0 + ITEM_TILE, n_items)
            for qq in range(nq):
                q = q0 + qq
                for i in range(t0, t1):
                    hist[qq, _distance(queries, q, items, i, n_words)] += 1
        # Excluded items do not compete; the cut-off comes from what is left.
        cutoff = np.empty(nq, dtype=np.int64)
        need_at_cutoff = np.empty(nq, dtype=np.int64)
        slot = np.empty((nq, n_buckets), dtype=np.int64)
        for qq in range(nq):
            q = q0 + qq
            for p in range(excl_indptr[q], excl_indptr[q + 1]):
                hist[qq, _distance(queries, q, items, excl_indices[p], n_words)] -= 1
            below = 0
            cutoff[qq] = n_bits
            need_at_cutoff[qq] = hist[qq, n_bits]
            for d in range(n_buckets):
                slot[qq, d] = below
                if below + hist[qq, d] >= k:
                    cutoff[qq] = d
                    need_at_cutoff[qq] = k - below
                    break
                below += hist[qq, d]
        # Pass 2: place items at or below the cut-off, in item order.
        next_excluded = np.empty(nq, dtype=np.int64)
        for qq in range(nq):
            next_excluded[qq] = excl_indptr[q0 + qq]
        for t0 in range(0, n_items, ITEM_TILE):
            t1 = min(t0 + ITEM_TILE, n_items)
            for qq in range(nq):
                q = q0 + qq
                end = excl_indptr[q + 1]
                cut = cutoff[qq]
                for i in range(t0, t1):
                    d = _distance(queries, q, items, i, n_words)
                    if d > cut:
                        continue
                    p = next_excluded[qq]
                    while p < end and excl_indices[p] < i:
                        p += 1
                    next_excluded[qq] = p
                    if p < end and excl_indices[p] == i:
                        continue
                    if d == cut:
                        if need_at_cutoff[qq] == 0:
                            continue
                        need_at_cutoff[qq] -= 1
                    s = slot[qq, d]
                    slot[qq, d] = s + 1
                    out_items[q, s] = i
                    out_dist[q, s] = d


@numba.njit(parallel=True, cache=True)
def distances_packed(queries, items, out):
    """All pairwise Hamming distances (n_queries, n_items) into ``out``."""
    n_queries, n_words = queries.shape
    for q in numba.prange(n_queries):
        for i in range(items.shape[0]):
            out[q, i] = _distance(queries, q, items, i, n_words)


@numba.njit(parallel=True, cache=True)
def xor_popcount_pass(queries, items):
    """Sum of all pairwise distances: the raw XOR + popcount throughput limit."""
    n_queries, n_words = queries.shape
    totals = np.zeros(n_queries, dtype=np.int64)
    for q in numba.prange(n_queries):
        s = 0
        for i in range(items.shape[0]):
            s += _distance(queries, q, items, i, n_words)
        totals[q] = s
    return totals.sum()


def pack_sign_codes(codes: np.ndarray) -> np.ndarray:
    """Pack -1/+1 codes (n, n_bits) into uint64 words (n, ceil(n_bits / 64))."""
    n, n_bits = codes.shape
    n_words = max(1, -(-n_bits // 64))
    bits = np.zeros((n, n_words * 64), dtype=np.uint8)
    bits[:, :n_bits] = codes > 0
    packed = np.packbits(bits, axis=1, bitorder="little")
    return np.ascontiguousarray(packed).view("<u8").astype(np.uint64, copy=False)
