"""Serving: a torch-free index of what ranking needs, and FAISS indexes for large catalogues.

:class:`ServingIndex` is what a server loads: packed codes, the seen-item
filter, ids and (for the encoder models) the user encoder's weights, in one
``.npz`` file that loads without torch or pickle
(``examples/service/`` serves it over HTTP).

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

import json
import math
from numbers import Integral
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .preprocessing import _lookup as vocabulary_lookup
from .ranking import check_k, hamming_topk, pack_codes

__all__ = ["FAISS_INDEX_KINDS", "ServingIndex", "faiss_binary_index"]

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


#: Version of the ServingIndex file; load refuses newer ones.
SERVING_FORMAT = 1
# Layers of a stored encoder that the numpy fold-in runs (sklearn_hashrec.nn's specs).
_FOLD_IN_LAYERS = ("input", "input_linear", "linear", "relu", "dropout")


class ServingIndex:
    """What ranking needs, without torch: packed codes, seen items, ids, fold-in weights.

    A fitted model file holds its encoders, optimiser settings and training
    records; a server needs only the packed item codes, the users' packed
    codes and seen items, the ids, and (to answer a posted history) the user
    encoder's weights. Build one with :meth:`from_model`, write it with
    :meth:`save` (a ``.npz`` of plain arrays: no pickle, nothing to trust)
    and read it with :meth:`load`, which imports neither torch nor the
    models. Ranking is the package's exact Hamming engine; every method is
    safe to call from many threads at once (nothing is modified).

    Attributes
    ----------
    n_bits : int
        Code length.
    user_ids, item_ids : ndarray
        The ids of the rows and columns (the encoder's when the model is a
        ``RecommenderPipeline`` with one, else ``0..n-1``).
    can_fold_in : bool
        Whether :meth:`recommend_history` can answer new histories: the
        encoder models (CCSR, AECF, DJSRH) with binary codes, fitted
        without preprocessing steps between the encoder and the model.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from sklearn_hashrec import CCSR
    >>> from sklearn_hashrec.serving import ServingIndex
    >>> X = (np.random.default_rng(0).random((30, 12)) < 0.3).astype(float)
    >>> model = CCSR(n_bits=8, hidden_layer_sizes=(8,), max_epochs=2, random_state=0).fit(X)
    >>> path = tempfile.mkdtemp() + "/index.npz"
    >>> ServingIndex.from_model(model).save(path)
    >>> index = ServingIndex.load(path)
    >>> bool((index.recommend([4], k=3) == model.recommend([4], k=3)).all())
    True
    """

    def __init__(self, *, n_bits, user_codes_packed, item_codes_packed, seen, user_ids,
                 item_ids, encoder_layers=None):
        self.n_bits = int(n_bits)
        self.user_codes_packed = np.ascontiguousarray(user_codes_packed, dtype=np.uint64)
        self.item_codes_packed = np.asfortranarray(item_codes_packed, dtype=np.uint64)
        self.seen = sp.csr_matrix(seen, dtype=np.int8)
        self.user_ids = np.asarray(user_ids)
        self.item_ids = np.asarray(item_ids)
        self.encoder_layers = encoder_layers
        # Items added to a pipeline after fit follow the sorted ones.
        self._user_order, self._item_order = _sort_order(self.user_ids), _sort_order(self.item_ids)
        if (len(self.user_ids), len(self.item_ids)) != self.seen.shape or \
                len(self.user_codes_packed) != len(self.user_ids) or \
                len(self.item_codes_packed) != len(self.item_ids):
            raise ValueError("codes, seen items and ids disagree on the number of users or "
                             "items.")

    @property
    def can_fold_in(self) -> bool:
        return self.encoder_layers is not None

    # ------------------------------------------------------------ building
    @classmethod
    def from_model(cls, model) -> ServingIndex:
        """The serving index of a fitted model with binary codes, or of a pipeline ending in one.

        Parameters
        ----------
        model : fitted hashing recommender or RecommenderPipeline
            With -1/+1 codes (``item_codes_packed_``). A pipeline's encoder
            gives the ids, its raw history the seen items.

        Returns
        -------
        ServingIndex
        """
        from sklearn.utils.validation import check_is_fitted

        from .pipeline import RecommenderPipeline
        from .preprocessing import InteractionEncoder

        user_ids = item_ids = None
        middle = False
        if isinstance(model, RecommenderPipeline):
            check_is_fitted(model, "raw_seen_")
            seen = model.raw_seen_
            first = model.steps[0][1]
            encoder = first if isinstance(first, InteractionEncoder) else None
            if encoder is not None:
                user_ids, item_ids = _id_array(encoder.user_ids_), _id_array(encoder.item_ids_)
            middle = len(model.steps) > (2 if encoder is not None else 1)
            model = model.steps[-1][1]
        else:
            check_is_fitted(model)
            seen = getattr(model, "seen_", None)
        packed = getattr(model, "item_codes_packed_", None)
        if packed is None or seen is None:
            raise ValueError(f"{type(model).__name__} has no binary codes to serve: a "
                             "ServingIndex holds -1/+1 codes (binarize='sign' or "
                             "'sign_tanh').")
        n_users, n_items = seen.shape
        state = model.__getstate__()  # the encoders as plain data (layer types, weights)
        layers = None
        if not middle:
            layers = _fold_in_layers(state.get("user_encoder_"))
        return cls(n_bits=model.item_codes_.shape[1],
                   user_codes_packed=pack_codes(model.user_codes_), item_codes_packed=packed,
                   seen=seen, user_ids=np.arange(n_users) if user_ids is None else user_ids,
                   item_ids=np.arange(n_items) if item_ids is None else item_ids,
                   encoder_layers=layers)

    # ------------------------------------------------------------ file
    def save(self, path) -> None:
        """Write the index to ``path`` (a ``.npz`` of plain arrays, no pickle)."""
        arrays = {"user_codes_packed": self.user_codes_packed,
                  "item_codes_packed": np.ascontiguousarray(self.item_codes_packed),
                  "seen_indptr": self.seen.indptr, "seen_indices": self.seen.indices,
                  "user_ids": self.user_ids, "item_ids": self.item_ids}
        layers = []
        for position, layer in enumerate(self.encoder_layers or []):
            described = {key: value for key, value in layer.items()
                         if key not in ("weight", "bias")}
            for key in ("weight", "bias"):
                if key in layer:
                    arrays[f"layer{position}_{key}"] = layer[key]
            layers.append(described)
        header = {"format": SERVING_FORMAT, "n_bits": self.n_bits,
                  "shape": list(self.seen.shape),
                  "layers": layers if self.encoder_layers is not None else None}
        arrays["header"] = np.array(json.dumps(header))
        with open(path, "wb") as handle:  # np.savez would add ".npz" to another name
            np.savez(handle, **arrays)

    @classmethod
    def load(cls, path) -> ServingIndex:
        """Read an index written by :meth:`save` (no pickle is ever loaded)."""
        with np.load(Path(path), allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header["format"] > SERVING_FORMAT:
                raise ValueError(f"{path} is a ServingIndex of format {header['format']}; "
                                 f"this release reads formats up to {SERVING_FORMAT}.")
            layers = None
            if header["layers"] is not None:
                layers = []
                for position, described in enumerate(header["layers"]):
                    layer = dict(described)
                    for key in ("weight", "bias"):
                        if f"layer{position}_{key}" in data:
                            layer[key] = data[f"layer{position}_{key}"]
                    layers.append(layer)
            n_users, n_items = header["shape"]
            indices = data["seen_indices"]
            seen = sp.csr_matrix((np.ones(len(indices), dtype=np.int8), indices,
                                  data["seen_indptr"]), shape=(n_users, n_items))
            return cls(n_bits=header["n_bits"], user_codes_packed=data["user_codes_packed"],
                       item_codes_packed=data["item_codes_packed"], seen=seen,
                       user_ids=data["user_ids"], item_ids=data["item_ids"],
                       encoder_layers=layers)

    # ------------------------------------------------------------ answers
    def user_rows(self, user_ids) -> np.ndarray:
        """Row indices of user ids; an unknown id raises ``KeyError``."""
        return _lookup(self.user_ids, user_ids, "user", self._user_order)

    def item_columns(self, item_ids) -> np.ndarray:
        """Column indices of item ids; an unknown id raises ``KeyError``."""
        return _lookup(self.item_ids, item_ids, "item", self._item_order)

    def recommend(self, user_ids, k: int = 10, *, exclude_seen: bool = True,
                  return_distance: bool = False):
        """Top-k item ids for users of the index, as the model's ``recommend``.

        Parameters
        ----------
        user_ids : array-like
            User ids (row indices when the model had no encoder).
        k : int, default=10
            Items per user; beyond the catalogue, the catalogue's size.
        exclude_seen : bool, default=True
            Skip each user's training items.
        return_distance : bool, default=False
            Also return the Hamming distances.

        Returns
        -------
        distances : ndarray of shape (n_users, min(k, n_items))
            Only with ``return_distance=True``; ``inf`` pads a short row.
        items : ndarray of shape (n_users, min(k, n_items))
            Item ids, best first. A user with fewer than ``k`` unseen items
            gets padding: ``-1`` for integer ids, ``""`` for string ids.
        """
        rows = self.user_rows(user_ids)
        exclude = self.seen[rows] if exclude_seen else None
        return self._answer(self.user_codes_packed[rows], k, exclude, return_distance)

    def recommend_history(self, item_ids, k: int = 10, *, values=None, exclude_seen: bool = True,
                          return_distance: bool = False):
        """Top-k item ids for one new user, from the ids of the items it interacted with.

        Parameters
        ----------
        item_ids : array-like
            The history (item ids, each once); an unknown id raises ``KeyError``.
        k : int, default=10
            Items to return.
        values : array-like or None, default=None
            The interactions' values (ratings) for a model fitted on ratings;
            None means 1 each.
        exclude_seen, return_distance
            As in :meth:`recommend` (seen: the history's items).

        Returns
        -------
        distances, items : ndarray of shape (1, min(k, n_items))
            As in :meth:`recommend`.
        """
        if not self.can_fold_in:
            raise ValueError("this index cannot fold in new histories: only the encoder "
                             "models (CCSR, AECF, DJSRH) fitted without preprocessing steps "
                             "carry their user encoder into a ServingIndex.")
        columns = self.item_columns(item_ids)
        if len(np.unique(columns)) != len(columns):
            raise ValueError("the history names an item more than once.")
        values = (np.ones(len(columns), dtype=np.float32) if values is None
                  else np.asarray(values, dtype=np.float32).reshape(-1))
        if len(values) != len(columns) or not np.isfinite(values).all():
            raise ValueError(f"values must be {len(columns)} finite numbers, one per item.")
        order = np.argsort(columns)
        history = sp.csr_matrix((values[order], columns[order], [0, len(columns)]),
                                shape=(1, len(self.item_ids)))
        features = _apply_layers(self.encoder_layers, history)
        # Eq. 8 of the paper: h = 1 where f >= 0 (binarization.sign_codes).
        codes = np.where(features >= 0, 1, -1).astype(np.int8)
        exclude = history if exclude_seen else None
        return self._answer(pack_codes(codes), k, exclude, return_distance)

    def _answer(self, query, k, exclude, return_distance):
        k = check_k(k)
        distances, items = hamming_topk(query, self.item_codes_packed, k, exclude=exclude,
                                        n_bits=self.n_bits, return_distance=True)
        padding = -1 if self.item_ids.dtype.kind in "iu" else self.item_ids.dtype.type()
        ids = np.where(items >= 0, self.item_ids[np.maximum(items, 0)], padding)
        return (distances, ids) if return_distance else ids


def _id_array(ids) -> np.ndarray:
    """Ids as a plain array that ``np.load`` reads without pickle: integers or text."""
    ids = np.asarray(ids)
    if ids.dtype.kind in "iuU":
        return ids
    values = ids.tolist()
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    if all(isinstance(v, str) for v in values):
        return np.asarray(values, dtype=str)
    raise ValueError("a ServingIndex keeps integer or string ids; these mix types.")


def _sort_order(ids: np.ndarray) -> np.ndarray | None:
    """None for sorted ids, else the order that sorts them (for ``searchsorted``)."""
    if len(ids) < 2 or (ids[1:] >= ids[:-1]).all():
        return None
    return np.argsort(ids, kind="stable")


def _lookup(vocabulary: np.ndarray, ids, what: str, sorter=None) -> np.ndarray:
    ids = np.atleast_1d(np.asarray(ids))
    if ids.ndim != 1:
        raise ValueError(f"{what} ids must be 1-D, got shape {ids.shape}.")
    unknown = KeyError(f"unknown {what} id(s) {ids[:5].tolist()}")
    if vocabulary.dtype.kind == "U":
        ids = ids.astype(str)
    else:
        # Integer ids; text such as "42" (from a URL) means 42, "4.5" or 4.5 nothing.
        try:
            as_int = ids.astype(np.int64)
        except (TypeError, ValueError):
            raise unknown from None
        if ids.dtype.kind == "f" and (as_int != ids).any():
            raise unknown
        ids = as_int
    position, found = vocabulary_lookup(vocabulary, ids, sorter)
    if not found.all():
        raise KeyError(f"unknown {what} id(s) {ids[~found][:5].tolist()}")
    return position


def _fold_in_layers(spec) -> list[dict] | None:
    """A stored encoder as a flat list of layers the numpy fold-in runs, or None."""
    if not isinstance(spec, dict):
        return None
    layers = spec["layers"] if spec["type"] == "sequential" else [spec]
    flat = []
    for layer in layers:
        if layer["type"] == "sequential":
            nested = _fold_in_layers(layer)
            if nested is None:
                return None
            flat += nested
        elif layer["type"] in _FOLD_IN_LAYERS:
            flat.append(layer)
        else:
            return None
    return flat


def _apply_layers(layers: list[dict], X: sp.csr_matrix) -> np.ndarray:
    """The user encoder in numpy (float32), as ``nn.apply_mlp`` runs it in torch."""
    values = X
    for layer in layers:
        kind = layer["type"]
        if kind == "input":
            values = values.copy()
            values.data = (np.ones_like(values.data) if layer["mode"] == "binary"
                           else values.data * np.float32(layer["scale"]))
        elif kind in ("input_linear", "linear"):
            weight = layer["weight"] if kind == "input_linear" else layer["weight"].T
            if kind == "input_linear":
                # The encoder reads fit's items; items added since only mark seen ones.
                values = values[:, :weight.shape[0]]
            values = np.asarray(values @ weight, dtype=np.float32) + layer["bias"]
        elif kind == "relu":
            values = np.maximum(values, 0)
        # dropout: the identity at inference
    return np.asarray(values, dtype=np.float32)
