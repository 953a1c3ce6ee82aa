"""Spectral binary codes of the interaction graph, measured: GraphHash's start.

Issue 25's GraphHash starts from spectral codes (the top singular vectors of
the normalised graph, rotated by ITQ) before training through the sign. This
file holds that start as an estimator and measures it on the validation data
of ``benchmarks/sparse_selection.py`` (never the test part), alone and as the
first stage of ``RerankRecommender(codes, GraphFilter())``:

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/sparse_selection.py \
        --dataset gowalla --model SpectralCodes --grid '{"n_bits": [32, 64, 128]}'
    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/spectral_codes.py

It stays out of the package: on its own it ranks at popularity's level on
Gowalla (docs/quality.md, "Sparse catalogues").
"""

from __future__ import annotations

import sys
import time
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import Interval

from sklearn_hashrec import GraphFilter, RerankRecommender
from sklearn_hashrec.base import BaseHashRecommender
from sklearn_hashrec.binarization import sign_codes
from sklearn_hashrec.interactions import binary_interactions
from sklearn_hashrec.models.graph_filter import (
    check_rank,
    normalized_graph,
    top_singular_vectors,
)
from sklearn_hashrec.models.graph_hash import spectral_rotation


class SpectralCodes(BaseHashRecommender):
    """Binary user and item codes from the top singular vectors of the normalised graph.

    With ``R~ = D_u^{-1/2} R D_i^{-1/2} = U S V'`` (the graph that
    :class:`~sklearn_hashrec.GraphFilter` filters), users get the spectral
    embeddings ``U S^{1/2}`` and items ``V S^{1/2}``, truncated to the top
    ``n_bits`` singular vectors: their inner products are the best rank-
    ``n_bits`` approximation of ``R~``, the smoothest part of the graph
    signal that GF-CF's ideal low-pass keeps. One orthogonal rotation,
    fitted by iterative quantization (ITQ) on users and items stacked,
    brings both near their signs without changing their inner products;
    the codes are those signs, and items are ranked by Hamming distance.

    Nothing is trained by gradient descent: ``fit`` is a randomized SVD and
    ITQ. Fold-in is exact: a user's embedding is its history row times
    ``D_i^{-1/2} V S^{-1/2}`` up to a positive scale, which its sign ignores,
    so ``transform`` of a training row gives its stored code, and new users
    and items get codes from their rows and columns the same way.

    Parameters
    ----------
    n_bits : int, default=64
        Code length: one bit per singular vector. At most
        ``min(n_users, n_items)``.
    n_iter : int, default=7
        Power iterations of the randomized SVD.
    itq_iter : int, default=50
        ITQ alternations (0 keeps the singular vectors' own axes).
    random_state : int, RandomState instance or None, default=None
        Seed of the randomized SVD and of ITQ's starting rotation.
    verbose : int, default=0
        Print the time of each step of ``fit``.

    Attributes
    ----------
    user_codes_ : ndarray of shape (n_users, n_bits), dtype int8
        Codes of the training users, in {-1, +1}.
    item_codes_ : ndarray of shape (n_items, n_bits), dtype int8
        Codes of the items.
    item_codes_packed_ : ndarray of shape (n_items, ceil(n_bits / 64)), dtype uint64
        The item codes packed for the Hamming engine.
    user_projection_ : ndarray of shape (n_items, n_bits), dtype float32
        A history row times it, then the sign, is a user's code.
    item_projection_ : ndarray of shape (n_users, n_bits), dtype float32
        An item's column over the training users times it, then the sign, is
        its code.
    singular_values_ : ndarray of shape (n_bits,)
        The top singular values of ``R~``.
    seen_ : csr_matrix of shape (n_users, n_items)
        The training interactions.
    n_features_in_ : int
        Number of items.

    See Also
    --------
    sklearn_hashrec.GraphFilter : The float graph filter, and the second stage
        of ``RerankRecommender(SpectralCodes(), GraphFilter())``.

    References
    ----------
    .. [1] Y. Weiss, A. Torralba and R. Fergus, "Spectral Hashing", NeurIPS 2008.
    .. [2] Y. Gong and S. Lazebnik, "Iterative Quantization", CVPR 2011.
    .. [3] Y. Shen et al., "How Powerful is Graph Convolution for
       Recommendation?", CIKM 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from spectral_codes import SpectralCodes  # doctest: +SKIP
    >>> X = (np.random.default_rng(0).random((60, 40)) < 0.2).astype(float)
    >>> model = SpectralCodes(n_bits=16, random_state=0).fit(X)  # doctest: +SKIP
    >>> model.recommend([0, 1], k=5).shape  # doctest: +SKIP
    (2, 5)
    >>> bool((model.transform(X) == model.user_codes_).all())  # doctest: +SKIP
    True
    """

    _parameter_constraints: dict = {
        "n_bits": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "itq_iter": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, n_bits: int = 64, *, n_iter: int = 7, itq_iter: int = 50,
                 random_state=None, verbose: int = 0):
        self.n_bits = n_bits
        self.n_iter = n_iter
        self.itq_iter = itq_iter
        self.random_state = random_state
        self.verbose = verbose

    def _fit(self, X):
        check_rank(self.n_bits, X.shape, "n_bits")
        start = time.perf_counter()
        graph, user_norm, item_norm = normalized_graph(X)
        u, s, v = top_singular_vectors(graph, self.n_bits, self.n_iter, self.random_state)
        _, inverse_root, rotation = spectral_rotation(u, s, v, itq_iter=self.itq_iter,
                                                      random_state=self.random_state)
        # U S^{1/2} = R~ V S^{-1/2}: a history row's code needs only the items' side.
        user_projection = ((v * inverse_root) * item_norm[:, None]) @ rotation
        item_projection = ((u * inverse_root) * user_norm[:, None]) @ rotation
        if self.verbose:
            print(f"[SpectralCodes] {self.n_bits} singular vectors and ITQ in "
                  f"{time.perf_counter() - start:.1f} s", flush=True)
        user_projection = user_projection.astype(np.float32)
        return {"user_codes_": _codes(binary_interactions(X), user_projection),
                "item_codes_": _codes(binary_interactions(X.T), item_projection.astype(np.float32)),
                "user_projection_": user_projection,
                "item_projection_": item_projection.astype(np.float32),
                "singular_values_": s}

    def _encode_users(self, X):
        return _codes(binary_interactions(X), self.user_projection_)

    def _encode_items(self, Y):
        return _codes(binary_interactions(Y), self.item_projection_)


def _codes(rows, projection):
    return sign_codes(np.asarray(rows @ projection))


def main():
    """The codes alone and as candidates for GraphFilter, on Gowalla's validation part."""
    sys.path.insert(0, str(Path(__file__).parent))
    from quality import scoring_seconds
    from sparse_selection import validation_data

    from sklearn_hashrec.experiments import write_runs

    fit, valid, protocol = validation_data("gowalla")
    reranker = GraphFilter(n_components=512, random_state=0).fit(fit)
    rows = []

    def record(name, model):
        seconds = round(scoring_seconds(model, fit.shape[0], k=20, repeat=1), 2)
        rows.append({"model": name, **protocol.evaluate(model, fit, valid),
                     "scoring_seconds": seconds})
        write_runs(Path(__file__).parents[1] / "docs" / "results" / "spectral-codes.csv", rows)
        print(rows[-1], flush=True)

    record("GraphFilter 512", reranker)
    for n_bits in (64, 128):
        codes = SpectralCodes(n_bits=n_bits, random_state=0).fit(fit)
        for n_candidates in (200, 1000):
            record(f"SpectralCodes {n_bits} bits + GraphFilter top-{n_candidates}",
                   RerankRecommender(codes, reranker, n_candidates=n_candidates,
                                     prefit=True).fit(fit))


if __name__ == "__main__":
    main()
