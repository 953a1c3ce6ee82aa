"""Numba kernels of the Hamming engine: packed XOR + popcount, counting selection.

Codes are packed 64 bits to a uint64 word (bit ``j`` of the code in word
``j // 64``, bit ``j % 64``; padding bits are 0 on both sides, so they never
count). Item words are stored word-major so the distance loop vectorises.

Selection never sorts and keeps no heap: distances take ``n_bits + 1`` values,
so the top-k is placed by counting (bucket offsets). :func:`topk_packed`
does it in one pass over the items with a cut-off that drops as candidates
accumulate; :func:`topk_packed_counting` (for very large ``k``) makes a
histogram pass and a placement pass. Scanning in item order makes ties come
out by increasing item index. Items are processed in tiles that stay in cache
while a block of queries is scored against them, and query blocks run in
parallel.
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
# Items checked at once for any candidate before one is looked at.
CHUNK = 128


@intrinsic
def _popcount(typingctx, word):
    """Hardware popcount (llvm.ctpop), vectorised by LLVM where the CPU allows.

    Returns a signed integer: numba promotes mixed int64 / uint64 arithmetic to
    float64, which would keep every distance loop from vectorising.
    """
    signature = types.int64(types.uint64)

    def codegen(context, builder, sig, args):
        fn = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(fn, args)

    return signature, codegen


@numba.njit(inline="always")
def _tile_distances(queries, q, items_t, t0, m, dist):
    """Distances of query ``q`` to items ``t0 .. t0 + m - 1`` into ``dist[:m]``.

    Items are stored word-major (``items_t[w, i]``) so that the inner loop is
    contiguous and LLVM vectorises it (VPOPCNTQ where the CPU has it).
    """
    for j in range(m):
        dist[j] = 0
    for w in range(items_t.shape[0]):
        word = queries[q, w]
        row = items_t[w]
        for j in range(m):
            dist[j] += _popcount(word ^ row[t0 + j])


@numba.njit(inline="always")
def _distance(queries, q, items_t, i):
    d = 0
    for w in range(items_t.shape[0]):
        d += _popcount(queries[q, w] ^ items_t[w, i])
    return d


@numba.njit(inline="always")
def _count_within(queries, q, items_t, c0, c1, cut, scratch):
    """How many items in ``c0 .. c1 - 1`` are within ``cut`` of query ``q``.

    Written so that LLVM vectorises it: loops run over array slices (plain
    ``range`` over a slice's length; indexing with an offset kept the
    vectoriser away), and ``(d - cut - 1) >> 63`` is -1 exactly when
    ``d <= cut``, with no branch. Multi-word codes sum their words' popcounts
    in ``scratch`` first.
    """
    hits = 0
    if items_t.shape[0] == 1:
        word = queries[q, 0]
        chunk = items_t[0, c0:c1]
        for i in range(chunk.shape[0]):
            hits += (_popcount(word ^ chunk[i]) - cut - 1) >> 63
        return -hits
    acc = scratch[:c1 - c0]
    acc[:] = 0
    for w in range(items_t.shape[0]):
        word = queries[q, w]
        chunk = items_t[w, c0:c1]
        for i in range(chunk.shape[0]):
            acc[i] += _popcount(word ^ chunk[i])
    for i in range(acc.shape[0]):
        hits += (acc[i] - cut - 1) >> 63
    return -hits


@numba.njit(inline="always")
def _cutoff(counts, k, n_buckets):
    """Smallest distance whose cumulative count reaches k, and how many are needed there."""
    below = 0
    for d in range(n_buckets):
        if below + counts[d] >= k:
            return d, k - below
        below += counts[d]
    return n_buckets - 1, counts[n_buckets - 1]


@numba.njit(inline="always")
def _compact(buf_items, buf_dist, size, counts, k, n_buckets):
    """Keep the best k candidates (buffer order = item order breaks ties); returns
    the new size, the cut-off distance and the number kept at it."""
    cut, need = _cutoff(counts, k, n_buckets)
    kept = 0
    taken_at_cut = 0
    for d in range(n_buckets):
        counts[d] = 0
    for s in range(size):
        d = buf_dist[s]
        if d > cut:
            continue
        if d == cut:
            if taken_at_cut == need:
                continue
            taken_at_cut += 1
        buf_items[kept] = buf_items[s]
        buf_dist[kept] = d
        counts[d] += 1
        kept += 1
    return kept, cut, need


@numba.njit(parallel=True, cache=True)
def topk_packed(queries, items_t, k, n_bits, excl_indptr, excl_indices, out_items, out_dist):
    """Exact top-k for every query in one pass over the items, with a shrinking cut-off.

    Each query keeps a buffer of candidates in item order and per-distance
    counts. An item is a candidate while its distance is under the current
    cut-off (or at it, while fewer than the needed number are held there);
    when the buffer fills, it is compacted to the best k and the cut-off drops
    to the k-th distance. Items are scanned in index order, so ties keep the
    lowest indices. Excluded items (CSR ``excl_indptr`` / ``excl_indices``,
    sorted) are checked only for candidates. ``out_items`` / ``out_dist`` come
    in filled with -1; slots beyond the available items keep it.
    """
    n_queries = queries.shape[0]
    n_items = items_t.shape[1]
    n_buckets = n_bits + 1
    capacity = max(4 * k, 256)
    n_blocks = (n_queries + QUERY_BLOCK - 1) // QUERY_BLOCK
    for block in numba.prange(n_blocks):
        q0 = block * QUERY_BLOCK
        q1 = min(q0 + QUERY_BLOCK, n_queries)
        nq = q1 - q0
        buf_items = np.empty((nq, capacity), dtype=np.int64)
        buf_dist = np.empty((nq, capacity), dtype=np.int64)
        size = np.zeros(nq, dtype=np.int64)
        counts = np.zeros((nq, n_buckets), dtype=np.int64)
        cut = np.full(nq, n_bits, dtype=np.int64)
        need_at_cut = np.full(nq, k, dtype=np.int64)
        next_excluded = np.empty(nq, dtype=np.int64)
        for qq in range(nq):
            next_excluded[qq] = excl_indptr[q0 + qq]
        scratch = np.empty(CHUNK, dtype=np.int64)
        for t0 in range(0, n_items, ITEM_TILE):
            t1 = min(t0 + ITEM_TILE, n_items)
            for qq in range(nq):
                q = q0 + qq
                c = cut[qq]
                end = excl_indptr[q + 1]
                for c0 in range(t0, t1, CHUNK):
                    c1 = min(c0 + CHUNK, t1)
                    # A store-free, vectorised count of the chunk's items within the
                    # cut-off; once the cut-off is low almost every chunk has none.
                    # Items at the cut-off itself only count while more are needed there.
                    reach = c if counts[qq, c] < need_at_cut[qq] else c - 1
                    if _count_within(queries, q, items_t, c0, c1, reach, scratch) == 0:
                        continue
                    for i in range(c0, c1):
                        d = _distance(queries, q, items_t, i)
                        if d > c:
                            continue
                        if d == c and counts[qq, d] >= need_at_cut[qq]:
                            continue
                        p = next_excluded[qq]
                        while p < end and excl_indices[p] < i:
                            p += 1
                        next_excluded[qq] = p
                        if p < end and excl_indices[p] == i:
                            continue
                        s = size[qq]
                        buf_items[qq, s] = i
                        buf_dist[qq, s] = d
                        counts[qq, d] += 1
                        size[qq] = s + 1
                        if s + 1 == capacity:
                            size[qq], cut[qq], need_at_cut[qq] = _compact(
                                buf_items[qq], buf_dist[qq], s + 1, counts[qq], k, n_buckets)
                            c = cut[qq]
        for qq in range(nq):
            q = q0 + qq
            n, _, _ = _compact(buf_items[qq], buf_dist[qq], size[qq], counts[qq], k, n_buckets)
            # Counting placement: bucket offsets, then buffer (item) order within a bucket.
            offset = np.empty(n_buckets, dtype=np.int64)
            total = 0
            for d in range(n_buckets):
                offset[d] = total
                total += counts[qq, d]
            for s in range(n):
                d = buf_dist[qq, s]
                slot = offset[d]
                offset[d] = slot + 1
                out_items[q, slot] = buf_items[qq, s]
                out_dist[q, slot] = d


@numba.njit(parallel=True, cache=True)
def topk_packed_counting(queries, items_t, k, n_bits, excl_indptr, excl_indices, out_items,
                         out_dist):
    """Exact top-k by a histogram pass and a placement pass; memory O(n_bits) per query.

    For large ``k`` (a sizeable share of the catalogue), where the one-pass
    kernel's candidate buffer would be large. Same contract as
    :func:`topk_packed`.
    """
    n_queries = queries.shape[0]
    n_items = items_t.shape[1]
    n_buckets = n_bits + 1
    for q in numba.prange(n_queries):
        dist = np.empty(ITEM_TILE, dtype=np.int64)
        hist = np.zeros(n_buckets, dtype=np.int64)
        for t0 in range(0, n_items, ITEM_TILE):
            m = min(ITEM_TILE, n_items - t0)
            _tile_distances(queries, q, items_t, t0, m, dist)
            for j in range(m):
                hist[dist[j]] += 1
        for p in range(excl_indptr[q], excl_indptr[q + 1]):
            hist[_distance(queries, q, items_t, excl_indices[p])] -= 1
        cut, need = _cutoff(hist, k, n_buckets)
        offset = np.empty(n_buckets, dtype=np.int64)
        total = 0
        for d in range(n_buckets):
            offset[d] = total
            total += hist[d]
        p = excl_indptr[q]
        end = excl_indptr[q + 1]
        for t0 in range(0, n_items, ITEM_TILE):
            m = min(ITEM_TILE, n_items - t0)
            _tile_distances(queries, q, items_t, t0, m, dist)
            for j in range(m):
                d = dist[j]
                if d > cut:
                    continue
                i = t0 + j
                while p < end and excl_indices[p] < i:
                    p += 1
                if p < end and excl_indices[p] == i:
                    continue
                if d == cut:
                    if need == 0:
                        continue
                    need -= 1
                slot = offset[d]
                offset[d] = slot + 1
                out_items[q, slot] = i
                out_dist[q, slot] = d


@numba.njit(parallel=True, cache=True)
def distances_packed(queries, items_t, out):
    """All pairwise Hamming distances (n_queries, n_items) into ``out``."""
    n_items = items_t.shape[1]
    for q in numba.prange(queries.shape[0]):
        dist = np.empty(ITEM_TILE, dtype=np.int64)
        for t0 in range(0, n_items, ITEM_TILE):
            m = min(ITEM_TILE, n_items - t0)
            _tile_distances(queries, q, items_t, t0, m, dist)
            out[q, t0:t0 + m] = dist[:m]


@numba.njit(parallel=True, cache=True)
def xor_popcount_pass(queries, items_t):
    """Sum of all pairwise distances: the raw XOR + popcount throughput limit."""
    n_items = items_t.shape[1]
    totals = np.zeros(queries.shape[0], dtype=np.int64)
    for q in numba.prange(queries.shape[0]):
        s = 0
        for w in range(items_t.shape[0]):
            word = queries[q, w]
            row = items_t[w]
            for i in range(n_items):
                s += _popcount(word ^ row[i])
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
