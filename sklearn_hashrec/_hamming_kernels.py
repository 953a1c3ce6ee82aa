"""Numba kernels of the Hamming engine: packed XOR + popcount, counting selection.

Codes are packed 64 bits to a uint64 word (bit ``j`` of the code in word
``j // 64``, bit ``j % 64``; padding bits are 0 on both sides, so they never
count). Item words are stored word-major so the distance loop vectorises.

Selection never sorts and keeps no heap: distances take ``n_bits + 1`` values,
so the top-k is placed by counting (bucket offsets). :func:`topk_packed`
does it in one pass over the items with a cut-off that drops as candidates
accumulate; :func:`topk_packed_counting` (for a ``k`` that is a large share of
the catalogue) makes a histogram pass and a placement pass. Scanning in item
order makes ties come out by increasing item index. Items are processed in
tiles that stay in cache while a block of queries is scored against them, and
query blocks run in parallel.

Only loops over a contiguous slice, written ``for i in range(len(slice))``,
with the int64 popcount below, vectorise; the helpers keep to that form.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

# Bytes of item codes per tile: a tile stays in L1 while a block of queries is
# scored against it (measured on 2 AVX-512 cores, 1M items, k=100: 16 KiB
# tiles 0.22 s at 256 bits and 0.15 s at 64 bits, 128 KiB tiles 0.26 s / 0.21 s).
TILE_BYTES = 16384
# Queries scored against one tile before moving on.
QUERY_BLOCK = 32
# Items checked at once for any candidate before one is looked at (measured
# best of 32 / 64 / 128 / 256 at 64 bits).
CHUNK = 128
# Code words summed per sweep over a chunk: one load of the running sums per
# four words instead of one per word.
_SWEEP_WORDS = 4


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
def _chunk_distances(queries, q, items_t, c0, c1, out):
    """Distances of query ``q`` to items ``c0 .. c1 - 1`` into ``out[:c1 - c0]``.

    Items are stored word-major (``items_t[w, i]``), so each sweep reads
    contiguous slices and LLVM vectorises it (VPOPCNTQ where the CPU has it).
    """
    dist = out[:c1 - c0]
    dist[:] = 0
    n_words = items_t.shape[0]
    w = 0
    while w + _SWEEP_WORDS <= n_words:
        a, b, c, e = queries[q, w], queries[q, w + 1], queries[q, w + 2], queries[q, w + 3]
        x0, x1 = items_t[w, c0:c1], items_t[w + 1, c0:c1]
        x2, x3 = items_t[w + 2, c0:c1], items_t[w + 3, c0:c1]
        for i in range(x0.shape[0]):
            dist[i] += (_popcount(a ^ x0[i]) + _popcount(b ^ x1[i])
                        + _popcount(c ^ x2[i]) + _popcount(e ^ x3[i]))
        w += _SWEEP_WORDS
    while w < n_words:
        a = queries[q, w]
        x0 = items_t[w, c0:c1]
        for i in range(x0.shape[0]):
            dist[i] += _popcount(a ^ x0[i])
        w += 1
    return dist


@numba.njit(inline="always")
def _chunk_min(queries, q, items_t, c0, c1, scratch):
    """Smallest distance of query ``q`` to items ``c0 .. c1 - 1``.

    The test that lets the one-pass kernel skip a chunk. Up to four words it
    keeps no intermediate array (a store-free loop of XOR, popcount and min).
    """
    n_words = items_t.shape[0]
    best = 1 << 30
    if n_words == 1:
        a = queries[q, 0]
        x0 = items_t[0, c0:c1]
        for i in range(x0.shape[0]):
            best = min(best, _popcount(a ^ x0[i]))
        return best
    if n_words == 2:
        a, b = queries[q, 0], queries[q, 1]
        x0, x1 = items_t[0, c0:c1], items_t[1, c0:c1]
        for i in range(x0.shape[0]):
            best = min(best, _popcount(a ^ x0[i]) + _popcount(b ^ x1[i]))
        return best
    if n_words == 3:
        a, b, c = queries[q, 0], queries[q, 1], queries[q, 2]
        x0, x1, x2 = items_t[0, c0:c1], items_t[1, c0:c1], items_t[2, c0:c1]
        for i in range(x0.shape[0]):
            best = min(best, _popcount(a ^ x0[i]) + _popcount(b ^ x1[i])
                       + _popcount(c ^ x2[i]))
        return best
    if n_words == 4:
        a, b, c, e = queries[q, 0], queries[q, 1], queries[q, 2], queries[q, 3]
        x0, x1, x2, x3 = items_t[0, c0:c1], items_t[1, c0:c1], items_t[2, c0:c1], items_t[3, c0:c1]
        for i in range(x0.shape[0]):
            best = min(best, _popcount(a ^ x0[i]) + _popcount(b ^ x1[i])
                       + _popcount(c ^ x2[i]) + _popcount(e ^ x3[i]))
        return best
    dist = _chunk_distances(queries, q, items_t, c0, c1, scratch)
    for i in range(dist.shape[0]):
        best = min(best, dist[i])
    return best


@numba.njit(inline="always")
def _tile_items(n_words):
    """Items per tile for codes of ``n_words`` words: ``TILE_BYTES``, whole chunks."""
    return max(CHUNK, TILE_BYTES // (8 * n_words) // CHUNK * CHUNK)


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
    """Exact top-k for every query in one pass over the items, with a falling cut-off.

    Each query keeps a buffer of candidates in item order, per-distance
    counts, a cut-off ``cut`` (the k-th smallest distance held so far) and
    ``need``, how many items at ``cut`` can still count (k minus those held
    below it). An item is a candidate when its distance is under ``cut``, or
    at it while fewer than ``need`` are held there. Every candidate below the
    cut lowers ``need``; at zero the cut falls to the new k-th distance, so it
    tracks the best k seen without waiting for the buffer to fill. Items that
    fall beyond the cut stay in the buffer until it fills and is compacted.

    A chunk of ``CHUNK`` items is first tested as a whole (its smallest
    distance against the cut-off, a vectorised loop); once the cut-off is low
    almost every chunk is skipped there. In a chunk that holds a candidate the
    distances are computed again into a scratch array and the candidates'
    positions gathered without branches. Items are scanned in index order, so
    ties keep the lowest indices. Excluded items (CSR ``excl_indptr`` /
    ``excl_indices``, sorted) are checked only for candidates. ``out_items`` /
    ``out_dist`` come in filled with -1; slots beyond the available items keep it.
    """
    n_queries = queries.shape[0]
    n_items = items_t.shape[1]
    item_tile = _tile_items(items_t.shape[0])
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
        positions = np.empty(CHUNK, dtype=np.int64)
        for t0 in range(0, n_items, item_tile):
            t1 = min(t0 + item_tile, n_items)
            for qq in range(nq):
                q = q0 + qq
                c = cut[qq]
                end = excl_indptr[q + 1]
                for c0 in range(t0, t1, CHUNK):
                    c1 = min(c0 + CHUNK, t1)
                    reach = c if counts[qq, c] < need_at_cut[qq] else c - 1
                    if _chunk_min(queries, q, items_t, c0, c1, scratch) > reach:
                        continue
                    dist = _chunk_distances(queries, q, items_t, c0, c1, scratch)
                    n_found = 0
                    for j in range(dist.shape[0]):
                        positions[n_found] = j
                        n_found += dist[j] <= reach
                    for jj in range(n_found):
                        j = positions[jj]
                        d = dist[j]
                        # The cut-off may have fallen since the chunk was tested.
                        if d > c or (d == c and counts[qq, d] >= need_at_cut[qq]):
                            continue
                        i = c0 + j
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
                        if d < c:
                            need = need_at_cut[qq] - 1
                            if need == 0:
                                # k items now lie below the cut: lower it to the k-th.
                                below = k
                                while below >= k:
                                    c -= 1
                                    below -= counts[qq, c]
                                need = k - below
                                cut[qq] = c
                            need_at_cut[qq] = need
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
    item_tile = _tile_items(items_t.shape[0])
    n_buckets = n_bits + 1
    for q in numba.prange(n_queries):
        dist = np.empty(item_tile, dtype=np.int64)
        hist = np.zeros(n_buckets, dtype=np.int64)
        for t0 in range(0, n_items, item_tile):
            tile = _chunk_distances(queries, q, items_t, t0, min(t0 + item_tile, n_items), dist)
            for j in range(tile.shape[0]):
                hist[tile[j]] += 1
        for p in range(excl_indptr[q], excl_indptr[q + 1]):
            i = excl_indices[p]
            hist[_chunk_distances(queries, q, items_t, i, i + 1, dist)[0]] -= 1
        cut, need = _cutoff(hist, k, n_buckets)
        offset = np.empty(n_buckets, dtype=np.int64)
        total = 0
        for d in range(n_buckets):
            offset[d] = total
            total += hist[d]
        p = excl_indptr[q]
        end = excl_indptr[q + 1]
        for t0 in range(0, n_items, item_tile):
            tile = _chunk_distances(queries, q, items_t, t0, min(t0 + item_tile, n_items), dist)
            for j in range(tile.shape[0]):
                d = tile[j]
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
    item_tile = _tile_items(items_t.shape[0])
    for q in numba.prange(queries.shape[0]):
        dist = np.empty(item_tile, dtype=np.int64)
        for t0 in range(0, n_items, item_tile):
            t1 = min(t0 + item_tile, n_items)
            out[q, t0:t1] = _chunk_distances(queries, q, items_t, t0, t1, dist)


@numba.njit(parallel=True, cache=True)
def xor_popcount_pass(queries, items_t):
    """Sum of all pairwise distances: the raw XOR + popcount throughput limit.

    Tiled like the top-k kernels (a block of queries per cache-resident tile
    of items), so it measures compute, not memory bandwidth; it does no
    selection and stores nothing per item.
    """
    n_queries = queries.shape[0]
    n_items = items_t.shape[1]
    item_tile = _tile_items(items_t.shape[0])
    n_blocks = (n_queries + QUERY_BLOCK - 1) // QUERY_BLOCK
    totals = np.zeros(n_blocks, dtype=np.int64)
    for block in numba.prange(n_blocks):
        s = 0
        for t0 in range(0, n_items, item_tile):
            t1 = min(t0 + item_tile, n_items)
            for q in range(block * QUERY_BLOCK, min((block + 1) * QUERY_BLOCK, n_queries)):
                for w in range(items_t.shape[0]):
                    word = queries[q, w]
                    row = items_t[w, t0:t1]
                    for i in range(row.shape[0]):
                        s += _popcount(word ^ row[i])
        totals[block] = s
    return totals.sum()


@numba.njit(parallel=True, cache=True)
def asymmetric_distances(queries, items_t, n_bits, out):
    """``(n_bits - <q, b>) / 2`` of float queries against packed -1/+1 items, into ``out``.

    Asymmetric scoring: the items stay packed. Per query, a table holds, for
    each byte position of a code and each of its 256 values, the sum of the
    query's coordinates where that byte has a 1 bit; an item's inner product
    is then ``2 * sum(table lookups) - sum(q)``, ``n_bits / 8`` lookups.
    """
    n_queries, n_items = queries.shape[0], items_t.shape[1]
    n_bytes = (n_bits + 7) // 8
    for q in numba.prange(n_queries):
        table = np.zeros((n_bytes, 256), dtype=np.float32)
        for byte in range(n_bytes):
            for value in range(1, 256):
                # Built from the value without its lowest set bit: one add per entry.
                low = value & (-value)
                bit = 0
                while (low >> bit) != 1:
                    bit += 1
                j = byte * 8 + bit
                weight = queries[q, j] if j < n_bits else np.float32(0.0)
                table[byte, value] = table[byte, value & (value - 1)] + weight
        total = np.float32(0.0)
        for j in range(n_bits):
            total += queries[q, j]
        for i in range(n_items):
            ones = np.float32(0.0)
            for byte in range(n_bytes):
                word = items_t[byte // 8, i]
                ones += table[byte, (word >> np.uint64(8 * (byte % 8))) & np.uint64(255)]
            out[q, i] = np.float32(0.5) * (np.float32(n_bits) - (np.float32(2.0) * ones - total))


def pack_sign_codes(codes: np.ndarray) -> np.ndarray:
    """Pack -1/+1 codes (n, n_bits) into uint64 words (n, ceil(n_bits / 64))."""
    n, n_bits = codes.shape
    n_words = max(1, -(-n_bits // 64))
    bits = np.zeros((n, n_words * 64), dtype=np.uint8)
    bits[:, :n_bits] = codes > 0
    packed = np.packbits(bits, axis=1, bitorder="little")
    return np.ascontiguousarray(packed).view("<u8").astype(np.uint64, copy=False)
