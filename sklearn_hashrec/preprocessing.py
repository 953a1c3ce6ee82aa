"""Transformers that prepare an interaction matrix, for use in Pipelines."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["BinarizeInteractions", "InteractionEncoder", "table_columns"]


class BinarizeInteractions(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Turn ratings into 0/1 interactions: 1 where the value exceeds a threshold.

    The paper converts MovieLens and Amazon ratings to a similarity matrix this
    way (``S_ab = 1 if R_ab > 3``). Sparse input stays sparse, with the entries
    at or below the threshold dropped.

    Parameters
    ----------
    threshold : float, default=0.0
        Entries strictly greater than ``threshold`` become 1, all others 0.
        It must be >= 0 so that sparse zeros stay zeros.

    Attributes
    ----------
    n_features_in_ : int
        Number of items seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec.preprocessing import BinarizeInteractions
    >>> BinarizeInteractions(threshold=3).fit_transform(np.array([[5.0, 3.0, 0.0, 4.0]]))
    array([[1., 0., 0., 1.]])
    """

    _parameter_constraints: dict = {"threshold": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, threshold: float = 0.0):
        self.threshold = threshold

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate ``X`` and record its number of items.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
        y : None
            Ignored.

        Returns
        -------
        self : BinarizeInteractions
        """
        validate_data(self, X, accept_sparse=("csr", "csc", "coo"), ensure_all_finite=True)
        return self

    def transform(self, X):
        """Binarize ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)

        Returns
        -------
        X_binary : ndarray or csr_matrix of shape (n_users, n_items)
            Same kind (dense or sparse) as ``X``; float dtype.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                          ensure_all_finite=True, reset=False)
        return self._binarize(X)

    def _binarize(self, X):
        """The entries of a validated ``X``, each on its own: any number of columns.

        ``RecommenderPipeline`` binarizes the columns of added items this way.
        """
        if sp.issparse(X):
            return sp.csr_matrix((X > self.threshold).astype(X.dtype))
        return (X > self.threshold).astype(X.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.requires_fit = False
        return tags


class InteractionEncoder(TransformerMixin, BaseEstimator):
    """Turn a table of ``(user, item[, rating])`` rows into a users x items CSR matrix.

    Interaction logs are tables with string or integer ids; the recommenders
    take a matrix whose rows are users and columns items. The encoder learns
    the two vocabularies in ``fit`` (sorted, as ``OneHotEncoder``'s
    categories), builds the matrix in ``transform``, and maps indices back to
    ids (:meth:`inverse_transform`, :meth:`decode_items`, :meth:`encode_users`).

    Parameters
    ----------
    user_col, item_col : str or int, default=0, 1
        The user and item columns: a name (DataFrames) or a position.
    rating_col : str, int or None, default=None
        The value column; ``None`` stores 1 for every row (implicit data).
    duplicates : {"sum", "last"}, default="sum"
        A pair that occurs several times: its values summed, or the last row's
        value kept (a log of re-ratings).
    handle_unknown : {"error", "ignore"}, default="error"
        A user or item unseen in ``fit`` at ``transform`` time: an error, or
        its rows are dropped.
    dtype : numpy dtype, default=np.float32
        The matrix's dtype.

    Attributes
    ----------
    user_ids_ : ndarray of shape (n_users,)
        The users' ids; row ``u`` of the matrix is ``user_ids_[u]``.
    item_ids_ : ndarray of shape (n_items,)
        The items' ids; column ``i`` is ``item_ids_[i]``. Sorted after
        ``fit``; items added later by
        :meth:`RecommenderPipeline.add_items
        <sklearn_hashrec.pipeline.RecommenderPipeline.add_items>` follow,
        in the order of their columns.
    feature_names_in_ : ndarray of str
        The columns of a DataFrame passed to ``fit``.

    Examples
    --------
    >>> from sklearn_hashrec.preprocessing import InteractionEncoder
    >>> log = [("ann", "x", 5), ("bob", "x", 3), ("bob", "y", 4)]
    >>> encoder = InteractionEncoder(rating_col=2)
    >>> encoder.fit_transform(log).toarray()
    array([[5., 0.],
           [3., 4.]], dtype=float32)
    >>> encoder.user_ids_.tolist(), encoder.decode_items([[1, 0, -1]]).tolist()
    (['ann', 'bob'], [['y', 'x', None]])
    """

    _parameter_constraints: dict = {
        "user_col": [str, Integral],
        "item_col": [str, Integral],
        "rating_col": [str, Integral, None],
        "duplicates": [StrOptions({"sum", "last"})],
        "handle_unknown": [StrOptions({"error", "ignore"})],
        "dtype": "no_validation",
    }

    def __init__(self, user_col=0, item_col=1, rating_col=None, *, duplicates: str = "sum",
                 handle_unknown: str = "error", dtype=np.float32):
        self.user_col = user_col
        self.item_col = item_col
        self.rating_col = rating_col
        self.duplicates = duplicates
        self.handle_unknown = handle_unknown
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the user and item vocabularies of a table.

        Parameters
        ----------
        X : DataFrame, array-like of shape (n_rows, n_columns) or list of tuples
            One interaction per row.
        y : None
            Ignored.

        Returns
        -------
        self : InteractionEncoder
        """
        users, items, _ = self._fields(X, reset=True)
        self.user_ids_ = np.unique(users)
        self.item_ids_ = np.unique(items)
        self._item_order = None  # item_ids_ is sorted until items are added
        return self

    def _add_items(self, ids) -> None:
        """Append new item ids to the vocabulary (``RecommenderPipeline.add_items``).

        The new ids are sorted among themselves and follow the others, as the
        model appends their codes; lookups then go through a sort order.
        """
        new = np.unique(_ids(np.atleast_1d(np.asarray(ids, dtype=object))))
        if new.dtype.kind != self.item_ids_.dtype.kind:
            kinds = {"i": "integers", "U": "strings"}
            raise ValueError(f"the new item ids are {kinds[new.dtype.kind]} but the "
                             f"catalogue's are {kinds[self.item_ids_.dtype.kind]}.")
        _, known = _lookup(self.item_ids_, new, self._items_sorter())
        if known.any():
            raise ValueError(f"item id(s) {new[known][:5].tolist()} are already in the "
                             "catalogue.")
        item_ids = np.concatenate([self.item_ids_, new])
        self.item_ids_, self._item_order = item_ids, np.argsort(item_ids, kind="stable")

    def _items_sorter(self):
        """None while ``item_ids_`` is sorted, else the order that sorts it."""
        return getattr(self, "_item_order", None)

    def transform(self, X) -> sp.csr_matrix:
        """The ``(n_users, n_items)`` matrix of a table, over the fitted vocabularies.

        Parameters
        ----------
        X : DataFrame, array-like or list of tuples
            One interaction per row, with the columns given at construction.

        Returns
        -------
        X_matrix : csr_matrix of shape (len(user_ids_), len(item_ids_))
            Rows that name an unknown id are an error, or dropped with
            ``handle_unknown="ignore"``.
        """
        check_is_fitted(self)
        users, items, values = self._fields(X, reset=False)
        return self._matrix(self.user_ids_, users, items, values)

    def transform_history(self, X) -> tuple[np.ndarray, sp.csr_matrix]:
        """The rows of any users, new ones too, over the fitted items.

        What a recommender's ``recommend_from_history`` takes for users that
        were not in ``fit``: their interactions with the fitted items.

        Parameters
        ----------
        X : DataFrame, array-like or list of tuples
            One interaction per row.

        Returns
        -------
        user_ids : ndarray of shape (n_users_new,)
            The table's users, sorted: row ``j`` of the matrix is ``user_ids[j]``.
        X_matrix : csr_matrix of shape (n_users_new, len(item_ids_))
            Items unseen in ``fit`` are an error, or dropped with
            ``handle_unknown="ignore"``.
        """
        check_is_fitted(self)
        users, items, values = self._fields(X, reset=False)
        user_ids = np.unique(users)
        return user_ids, self._matrix(user_ids, users, items, values)

    def _matrix(self, user_ids, users, items, values) -> sp.csr_matrix:
        """Rows ``user_ids`` x the fitted items; rows naming an unknown id raise or are dropped."""
        rows, row_known = _lookup(user_ids, users)
        cols, col_known = _lookup(self.item_ids_, items, self._items_sorter())
        known = row_known & col_known
        if not known.all() and self.handle_unknown == "error":
            # .tolist() gives Python scalars: 'qq', not numpy's repr np.str_('qq').
            unknown = [*np.asarray(users)[~row_known][:3].tolist(),
                       *np.asarray(items)[~col_known][:3].tolist()]
            raise ValueError(
                f"{int((~known).sum())} rows name a user or item unseen in fit (e.g. "
                f"{unknown}); pass handle_unknown='ignore' to drop them."
            )
        rows, cols, values = rows[known], cols[known], values[known]
        shape = (len(user_ids), len(self.item_ids_))
        if self.duplicates == "last":
            # The last occurrence of each pair: unique over the reversed rows.
            keys = rows.astype(np.int64) * shape[1] + cols
            _, first_in_reversed = np.unique(keys[::-1], return_index=True)
            keep = len(keys) - 1 - first_in_reversed
            rows, cols, values = rows[keep], cols[keep], values[keep]
        matrix = sp.csr_matrix((values.astype(self.dtype), (rows, cols)), shape=shape)
        matrix.sum_duplicates()
        return matrix

    def inverse_transform(self, X):
        """The ``(user, item, value)`` rows of a matrix's stored entries.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (len(user_ids_), len(item_ids_))

        Returns
        -------
        table : DataFrame or ndarray of shape (n_entries, 3)
            A DataFrame with the fitted column names when ``fit`` saw one
            (pandas), else an object array of rows.
        """
        check_is_fitted(self)
        X = sp.coo_matrix(X)
        if X.shape != (len(self.user_ids_), len(self.item_ids_)):
            raise ValueError(f"X has shape {X.shape}; the encoder has "
                             f"{len(self.user_ids_)} users and {len(self.item_ids_)} items.")
        users, items = self.user_ids_[X.row], self.item_ids_[X.col]
        names = getattr(self, "feature_names_in_", None)
        if names is not None and getattr(self, "_pandas_input", False):
            import pandas as pd

            value = self.rating_col if isinstance(self.rating_col, str) else "value"
            return pd.DataFrame({self._name(self.user_col): users,
                                 self._name(self.item_col): items, value: X.data})
        table = np.empty((X.nnz, 3), dtype=object)
        table[:, 0], table[:, 1], table[:, 2] = users, items, X.data
        return table

    def encode_users(self, ids) -> np.ndarray:
        """Row indices of user ids; an unknown id raises ``KeyError``."""
        check_is_fitted(self)
        return _encode(self.user_ids_, ids, "user")

    def encode_items(self, ids) -> np.ndarray:
        """Column indices of item ids; an unknown id raises ``KeyError``."""
        check_is_fitted(self)
        return _encode(self.item_ids_, ids, "item", self._items_sorter())

    def decode_items(self, indices) -> np.ndarray:
        """Item ids of column indices, as ``recommend`` returns them.

        ``recommend`` pads a row with ``-1`` when fewer than ``k`` items are
        left; those slots become ``None`` here (an object array), never the
        last item's id.
        """
        check_is_fitted(self)
        return _decode(self.item_ids_, indices)

    def decode_users(self, indices) -> np.ndarray:
        """User ids of row indices (``-1`` becomes ``None``)."""
        check_is_fitted(self)
        return _decode(self.user_ids_, indices)

    def _name(self, column):
        return column if isinstance(column, str) else self.feature_names_in_[column]

    def _fields(self, X, reset: bool):
        columns = [self.user_col, self.item_col] + (
            [self.rating_col] if self.rating_col is not None else [])
        fields = table_columns(X, columns)
        if reset:
            is_frame = hasattr(X, "columns")
            if is_frame:
                self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
            self._pandas_input = is_frame and type(X).__module__.startswith("pandas")
        if reset and len(fields[0]) == 0:
            raise ValueError("the table has no rows.")
        users, items = _ids(fields[0]), _ids(fields[1])
        if self.rating_col is None:
            values = np.ones(len(users))
        else:
            try:
                values = np.asarray(fields[2], dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"the rating column is not numeric ({exc}).") from None
            if not np.isfinite(values).all():
                raise ValueError("the rating column has NaN or infinite values.")
        return users, items, values

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


def _ids(values) -> np.ndarray:
    """Ids as a sortable array: integers stay integers, anything else becomes str."""
    values = np.asarray(values)
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    if values.dtype.kind == "f":
        if np.isfinite(values).all() and (values == np.round(values)).all():
            return values.astype(np.int64)
        raise ValueError("ids must be integers or strings; got non-integer numbers.")
    if values.dtype.kind == "O" and all(isinstance(v, (int, np.integer)) for v in values):
        return values.astype(np.int64)
    if any(v is None or (isinstance(v, float) and v != v) for v in values.ravel()):
        raise ValueError("ids must not be missing (None or NaN).")
    return values.astype(str)


def _lookup(vocabulary: np.ndarray, ids: np.ndarray, sorter=None):
    """Indices of ``ids`` in ``vocabulary`` and which of them are in it.

    ``vocabulary`` is sorted, or ``sorter`` is the order that sorts it.
    """
    if vocabulary.dtype.kind != ids.dtype.kind:
        # An integer vocabulary never contains a string id, and the reverse.
        return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
    position = np.searchsorted(vocabulary, ids, sorter=sorter).clip(0, len(vocabulary) - 1)
    if sorter is not None:
        position = sorter[position]
    return position, vocabulary[position] == ids


def _encode(vocabulary, ids, what, sorter=None):
    ids = _ids(np.atleast_1d(np.asarray(ids, dtype=object)))
    position, known = _lookup(vocabulary, ids, sorter)
    if not known.all():
        raise KeyError(f"unknown {what} id(s) {ids[~known][:5].tolist()}")
    return position


def _decode(vocabulary, indices):
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise ValueError("indices must be integers.")
    if ((indices < -1) | (indices >= len(vocabulary))).any():
        raise ValueError(f"indices must lie in [-1, {len(vocabulary)}); -1 marks padding.")
    out = np.empty(indices.shape, dtype=object)
    valid = indices >= 0
    out[valid] = vocabulary[indices[valid]]
    out[~valid] = None
    return out


def table_columns(X, columns) -> list[np.ndarray]:
    """The given columns of a table of interactions, as arrays.

    The one reader of interaction tables: :class:`InteractionEncoder` and
    :class:`~sklearn_hashrec.model_selection.PerUserKFold` take their columns
    through it.

    Parameters
    ----------
    X : DataFrame, array-like of shape (n_rows, n_columns) or list of tuples
        One interaction per row.
    columns : list of str or int
        Column names (DataFrames) or positions.

    Returns
    -------
    fields : list of ndarray of shape (n_rows,)

    Examples
    --------
    >>> from sklearn_hashrec.preprocessing import table_columns
    >>> users, items = table_columns([("ann", "x"), ("bob", "y")], [0, 1])
    >>> users.tolist(), items.tolist()
    (['ann', 'bob'], ['x', 'y'])
    """
    if hasattr(X, "columns"):  # pandas, polars and other DataFrames
        names = [str(c) for c in X.columns]
        fields = []
        for column in columns:
            if isinstance(column, str):
                if column not in names:
                    raise ValueError(f"column {column!r} is not in the table {names}.")
                name = X.columns[names.index(column)]
            else:
                if not -len(names) <= column < len(names):
                    raise ValueError(f"column {column} is out of range for {len(names)} "
                                     "columns.")
                name = X.columns[column]
            fields.append(np.asarray(X[name]))
        return fields
    if any(isinstance(c, str) for c in columns):
        raise ValueError("column names need a DataFrame; give positions for arrays.")
    table = np.asarray(X, dtype=object) if not isinstance(X, np.ndarray) else X
    if table.ndim != 2:
        raise ValueError(f"expected a table of rows (2-D), got {table.ndim} dimension(s).")
    try:
        return [table[:, c] for c in columns]
    except IndexError:
        raise ValueError(f"a column of {columns} is out of range for "
                         f"{table.shape[1]} columns.") from None
