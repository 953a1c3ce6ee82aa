"""GraphFilter: a training-free graph filter on the interaction graph (GF-CF)."""

from __future__ import annotations

import time
from numbers import Integral, Real

import numba
import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.extmath import randomized_svd

from .._parallel import run_parallel_kernel
from ..base import BaseRecommender
from ..interactions import binary_interactions
from ..ranking import topk_dense

__all__ = ["GraphFilter"]


class GraphFilter(BaseRecommender):
    """Closed-form graph filter: a linear item-item filter plus an ideal low-pass.

    GF-CF (Shen et al., CIKM 2021). With ``R`` the 0/1 interaction matrix,
    ``D_u`` and ``D_i`` its user and item degrees, and
    ``R~ = D_u^{-alpha} R D_i^{alpha - 1}`` its degree-normalised form
    (``alpha=0.5`` is GF-CF's symmetric normalisation, other values
    Turbo-CF's), a user with history row ``r`` scores the items::

        s(r) = r R~' R~  +  low_pass_weight * r D_i^{alpha - 1} V V' D_i^{1 - alpha}

    where ``V`` holds the top ``n_components`` right singular vectors of
    ``R~``. The first term is a linear low-pass filter on the item-item
    graph ``R~' R~``, the second an ideal low-pass that keeps only its
    smoothest ``n_components`` frequencies. Nothing is trained: ``fit``
    normalises the matrix and computes a randomized SVD.

    Memory grows with the number of interactions and with
    ``n_items x n_components``, never with ``n_items^2``: the linear term is
    computed for each block of users through sparse products
    (``(r R~') R~``), so it runs where EASE's ``n_items x n_items`` inverse
    does not fit. It ranks for new users from their rows without any
    fitting (``recommend_from_history``), scores given (user, item) pairs
    for :class:`~sklearn_hashrec.RerankRecommender` and serves as a
    distillation teacher (``CCSR(teacher=GraphFilter())``).

    Parameters
    ----------
    n_components : int, default=256
        Rank of the ideal low-pass (GF-CF's 256). 0 keeps the linear filter
        alone. At most ``min(n_users, n_items)``.
    low_pass_weight : float, default=0.3
        Weight of the ideal low-pass term (GF-CF's 0.3).
    alpha : float, default=0.5
        Degree normalisation exponent, in [0, 1]: users are divided by
        ``degree^alpha`` and items by ``degree^(1 - alpha)``. Larger values
        leave more of the popular items' weight (Park et al., SIGIR 2024).
    n_iter : int, default=7
        Power iterations of the randomized SVD. More give singular vectors
        closer to the exact ones, at a linear cost.
    random_state : int, RandomState instance or None, default=None
        Seed of the randomized SVD's starting matrix.
    verbose : int, default=0
        Print the time of each step of ``fit``.

    Attributes
    ----------
    graph_ : csr_matrix of shape (n_users, n_items), dtype float32
        ``R~``, the degree-normalised training matrix.
    graph_t_ : csr_matrix of shape (n_items, n_users), dtype float32
        ``R~'``, kept as CSR so that each item's users are contiguous.
    query_factors_ : ndarray of shape (n_items, n_components), dtype float32
        ``D_i^{alpha - 1} V``: a history row times it is the user's low-pass
        coordinates.
    item_factors_ : ndarray of shape (n_items, n_components), dtype float32
        ``low_pass_weight * D_i^{1 - alpha} V``: the items' side of the low-pass.
    singular_values_ : ndarray of shape (n_components,)
        The top singular values of ``R~``.
    seen_ : csr_matrix of shape (n_users, n_items)
        The training interactions.
    n_features_in_ : int
        Number of items.

    Notes
    -----
    An item without training interactions scores 0 from both terms, so it
    comes after every item with a positive score; a history without
    interactions scores every item 0 (then items come in index order, the
    package's tie rule). ``recommend(..., return_distance=True)`` returns
    ``-s(r)``: smaller is better, as everywhere in the package.

    References
    ----------
    .. [1] Y. Shen, Y. Wu, Y. Zhang, C. Shan, J. Zhang, K. B. Letaief and
       D. Li, "How Powerful is Graph Convolution for Recommendation?",
       CIKM 2021.
    .. [2] J.-D. Park, Y.-M. Shin and W.-Y. Shin, "Turbo-CF: Matrix
       Decomposition-Free Graph Filtering for Fast Recommendation", SIGIR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec import GraphFilter
    >>> X = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1.0]])
    >>> model = GraphFilter(n_components=2, random_state=0).fit(X)
    >>> model.recommend([0], k=2)
    array([[2, 3]])
    >>> model.recommend_from_history(np.array([[0, 0, 0, 1.0]]), k=2)
    array([[2, 1]])
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 0, None, closed="left")],
        "low_pass_weight": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, n_components: int = 256, low_pass_weight: float = 0.3,
                 alpha: float = 0.5, *, n_iter: int = 7, random_state=None,
                 verbose: int = 0):
        self.n_components = n_components
        self.low_pass_weight = low_pass_weight
        self.alpha = alpha
        self.n_iter = n_iter
        self.random_state = random_state
        self.verbose = verbose

    def _fit(self, X):
        check_rank(self.n_components, X.shape, "n_components")
        start = time.perf_counter()
        graph, _, item_norm = normalized_graph(X, self.alpha)
        graph_t = graph.T.tocsr()
        graph_t.sort_indices()
        _, singular_values, basis = top_singular_vectors(graph, self.n_components, self.n_iter,
                                                         self.random_state)
        query_factors = (basis * item_norm[:, None]).astype(np.float32)
        item_scale = np.divide(self.low_pass_weight, item_norm, out=np.zeros_like(item_norm),
                               where=item_norm > 0)
        item_factors = basis * item_scale[:, None]
        if self.verbose:
            print(f"[GraphFilter] normalised graph and {self.n_components} singular vectors "
                  f"in {time.perf_counter() - start:.1f} s", flush=True)
        return {"graph_": graph, "graph_t_": graph_t, "query_factors_": query_factors,
                "item_factors_": item_factors.astype(np.float32),
                "singular_values_": singular_values}

    def _users_query(self, users):
        return self.seen_[users]

    def _history_query(self, X):
        return binary_interactions(X)

    def _scores(self, query: sp.csr_matrix, items=None) -> np.ndarray:
        """Dense ``s(r)`` of query rows over all items (or the columns ``items``)."""
        query = sp.csr_matrix(query, dtype=np.float32)
        scores = np.zeros((query.shape[0], self.seen_.shape[1]), dtype=np.float32)
        if self.item_factors_.shape[1]:
            np.matmul(query @ self.query_factors_, self.item_factors_.T, out=scores)
        # r R~' is sparse (1,700 of Gowalla's 29,858 users on average): each of
        # its entries adds a scaled row of R~, 45,000 products a user instead of
        # the 810,000 of a dense block times R~.
        propagated = sp.csr_matrix(query @ self.graph_t_, dtype=np.float32)
        run_parallel_kernel(_add_propagated, propagated.indptr, propagated.indices,
                            propagated.data, self.graph_.indptr, self.graph_.indices,
                            self.graph_.data, scores)
        return scores if items is None else scores[:, items]

    def _rank(self, query, k, exclude, return_distance, items=None):
        n_items = self.seen_.shape[1] if items is None else len(items)

        def distances(start, stop):
            return -self._scores(query[start:stop], items)

        ranked, dist = topk_dense(distances, query.shape[0], n_items, min(k, n_items), exclude)
        return (dist, ranked) if return_distance else ranked

    def _pair_distances(self, query, rows, items):
        # Only the (user, candidate) pairs: a user's propagated row (r R~') is
        # sparse, and a pair costs the candidate's degree plus n_components.
        query = sp.csr_matrix(query, dtype=np.float32)
        rows = np.asarray(rows, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        if len(rows) == 0:
            return np.empty(0, dtype=np.float64)
        out = np.empty(len(rows), dtype=np.float64)
        if np.any(rows[1:] < rows[:-1]):  # group the pairs by row, and answer in their order
            order = np.argsort(rows, kind="stable")
            out[order] = self._pair_distances(query, rows[order], items[order])
            return out
        runs = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1], True])
        low_pass = np.ascontiguousarray(query @ self.query_factors_, dtype=np.float32)
        # Blocks of query rows bound the memory of the propagated rows.
        block = max(1, 2**22 // max(self.seen_.shape[0], 1))
        run_rows = rows[runs[:-1]]
        for lo in range(0, len(runs) - 1, block):
            hi = min(lo + block, len(runs) - 1)
            first, last = run_rows[lo], run_rows[hi - 1] + 1
            propagated = sp.csr_matrix(query[first:last] @ self.graph_t_, dtype=np.float32)
            run_parallel_kernel(
                _pair_scores, propagated.indptr, propagated.indices, propagated.data,
                self.graph_t_.indptr, self.graph_t_.indices, self.graph_t_.data,
                low_pass, self.item_factors_, rows, items, runs[lo:hi + 1], first,
                self.seen_.shape[0], out)
        return -out


def normalized_graph(X, alpha: float = 0.5):
    """``(R~, user_norm, item_norm)``: ``R~ = D_u^{-alpha} R D_i^{alpha - 1}`` of 0/1 ``R``.

    ``user_norm`` and ``item_norm`` are the diagonal scales, 0 for an empty
    row or column (which then adds nothing). ``R~`` is float32 CSR with
    sorted indices.
    """
    binary = binary_interactions(X)
    user_norm = _inverse_power(np.asarray(binary.sum(axis=1)).ravel(), alpha)
    item_norm = _inverse_power(np.asarray(binary.sum(axis=0)).ravel(), 1.0 - alpha)
    graph = sp.csr_matrix(sp.diags(user_norm) @ binary @ sp.diags(item_norm), dtype=np.float32)
    graph.sort_indices()
    return graph, user_norm, item_norm


def top_singular_vectors(graph: sp.csr_matrix, rank: int, n_iter: int, random_state):
    """``(U, s, V)``: the top ``rank`` singular triplets of ``graph`` (randomized SVD).

    ``U`` is (n_rows, rank) and ``V`` (n_columns, rank); empty for ``rank=0``.
    """
    if rank == 0:
        return np.zeros((graph.shape[0], 0)), np.zeros(0), np.zeros((graph.shape[1], 0))
    u, s, vt = randomized_svd(graph.astype(np.float64), rank, n_iter=n_iter,
                              random_state=check_random_state(random_state))
    return u, s, vt.T


def check_rank(rank: int, shape, name: str) -> None:
    """Refuse a rank that a matrix of ``shape`` cannot have."""
    limit = min(shape)
    if rank > limit:
        raise ValueError(
            f"{name}={rank} is larger than the matrix allows: a {shape[0]} x {shape[1]} "
            f"matrix has at most {limit} singular vectors. Use {name} <= {limit}."
        )


def _inverse_power(degree: np.ndarray, exponent: float) -> np.ndarray:
    """``degree^-exponent``, and 0 where the degree is 0 (an empty row or column adds nothing)."""
    out = np.zeros(len(degree), dtype=np.float64)
    positive = degree > 0
    out[positive] = degree[positive] ** -exponent
    return out


@numba.njit(parallel=True, cache=True)
def _pair_scores(p_indptr, p_indices, p_data, g_indptr, g_indices, g_data, low_pass,
                 item_factors, rows, items, runs, first_row, n_users, out):
    """``out[p] = (r R~')_u . R~[:, i] + low_pass_u . item_factors_i`` for pairs in runs.

    Pairs ``runs[s]:runs[s + 1]`` share their query row ``u``. Its propagated
    row (row ``u - first_row`` of ``p``) is scattered into a dense buffer of
    ``n_users``, which each candidate's users (row ``i`` of ``R~'``) then
    read; only the scattered entries are cleared afterwards.
    """
    n_runs = len(runs) - 1
    # A fixed number of tasks, each with its own buffer, whatever the threads.
    n_tasks = min(n_runs, 64)
    per_task = (n_runs + n_tasks - 1) // n_tasks
    n_rank = item_factors.shape[1]
    for t in numba.prange(n_tasks):
        buffer = np.zeros(n_users, dtype=np.float32)
        for s in range(t * per_task, min((t + 1) * per_task, n_runs)):
            lo, hi = runs[s], runs[s + 1]
            u = rows[lo]
            local = u - first_row
            for e in range(p_indptr[local], p_indptr[local + 1]):
                buffer[p_indices[e]] = p_data[e]
            for p in range(lo, hi):
                i = items[p]
                total = 0.0
                for e in range(g_indptr[i], g_indptr[i + 1]):
                    total += buffer[g_indices[e]] * g_data[e]
                for c in range(n_rank):
                    total += low_pass[u, c] * item_factors[i, c]
                out[p] = total
            for e in range(p_indptr[local], p_indptr[local + 1]):
                buffer[p_indices[e]] = 0.0


@numba.njit(parallel=True, cache=True)
def _add_propagated(p_indptr, p_indices, p_data, g_indptr, g_indices, g_data, scores):
    """``scores[b] += sum_v p[b, v] * R~[v]``: the linear filter, one query row a task."""
    for b in numba.prange(scores.shape[0]):
        row = scores[b]
        for e in range(p_indptr[b], p_indptr[b + 1]):
            weight = p_data[e]
            v = p_indices[e]
            for f in range(g_indptr[v], g_indptr[v + 1]):
                row[g_indices[f]] += weight * g_data[f]
