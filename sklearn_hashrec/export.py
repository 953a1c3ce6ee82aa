"""The top-k of every user, streamed to Parquet or CSV block by block.

:func:`recommend_all` ranks users a block at a time and writes each block
before ranking the next, so memory stays bounded whatever the number of
users. A killed export resumes from the last block written. With a Dask
``distributed.Client`` the blocks are ranked as tasks on the cluster, the
model sent to every worker once.

Layout of the output:

* ``format="parquet"`` (needs ``pyarrow``): a directory of part files,
  ``part-00000.parquet``, ... (one per block, each renamed into place only
  once complete), which pandas, pyarrow, Dask and Spark read as one table;
* ``format="csv"``: one file with a header, appended block by block.

Either way the rows are ``(user_id, rank, item_id, distance)``: ``rank`` counts
from 1, ids are the encoder's when the model is a ``RecommenderPipeline``
that starts with an ``InteractionEncoder`` (row and column indices
otherwise), and users with fewer than ``k`` unseen items get fewer rows.
A record of the job (``_hashrec_export.json`` in the directory, or
``<file>.progress`` beside the CSV file until it is complete) lets a rerun
skip the blocks already written, and refuses to mix two different jobs.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path

import numpy as np

from .ranking import check_k

__all__ = ["ExportReport", "recommend_all"]

_FORMATS = ("parquet", "csv")
_COLUMNS = ("user_id", "rank", "item_id", "distance")
_MANIFEST = "_hashrec_export.json"
_DONE_MARK = "_SUCCESS"


@dataclass(frozen=True)
class ExportReport:
    """What :func:`recommend_all` did.

    Attributes
    ----------
    path : pathlib.Path
        The directory (Parquet) or file (CSV) written.
    n_users : int
        Users in the job.
    n_blocks : int
        Blocks in the job.
    blocks_written : int
        Blocks ranked and written by this call (fewer than ``n_blocks`` when
        it resumed an interrupted export).
    rows_written : int
        Rows written by this call.
    seconds : float
        Wall time of this call.
    """

    path: Path
    n_users: int
    n_blocks: int
    blocks_written: int
    rows_written: int
    seconds: float


class _RankingSource:
    """What a block of users needs to be ranked: the recommender, its seen filter, its ids.

    Sent once to every Dask worker; :meth:`rank` is the only thing a task calls.
    """

    def __init__(self, model, exclude_seen: bool):
        from sklearn.utils.validation import check_is_fitted

        from .base import BaseRecommender
        from .pipeline import RecommenderPipeline
        from .preprocessing import InteractionEncoder

        self.encoder = None
        self.seen = None
        if isinstance(model, RecommenderPipeline):
            check_is_fitted(model, "raw_seen_")
            first = model.steps[0][1]
            self.encoder = first if isinstance(first, InteractionEncoder) else None
            # A pipeline filters the raw history (as its recommend does).
            self.seen = model.raw_seen_ if exclude_seen else None
            self.recommender = model.steps[-1][1]
            self.exclude_seen = False
        elif isinstance(model, BaseRecommender):
            check_is_fitted(model, "seen_")
            self.recommender = model
            self.exclude_seen = exclude_seen
        else:
            raise TypeError(f"recommend_all needs a fitted recommender or RecommenderPipeline, "
                            f"got {type(model).__name__}.")
        self.n_users = (model.raw_seen_ if isinstance(model, RecommenderPipeline)
                        else model.seen_).shape[0]

    def rank(self, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        exclude = self.seen[rows] if self.seen is not None else None
        distances, items = self.recommender.recommend(
            rows, k, exclude_seen=self.exclude_seen, exclude=exclude, return_distance=True)
        return distances.astype(np.float32), items

    def rows_of(self, users) -> np.ndarray:
        if users is None:
            return np.arange(self.n_users)
        users = np.asarray(users)
        if users.ndim != 1:
            raise ValueError(f"users must be 1-D, got shape {users.shape}.")
        if self.encoder is not None:
            return self.encoder.encode_users(users)
        if not np.issubdtype(users.dtype, np.integer):
            raise ValueError("users must be row indices (integers) for a model without an "
                             f"InteractionEncoder; got dtype {users.dtype}.")
        if users.size and (users.min() < 0 or users.max() >= self.n_users):
            raise ValueError(f"users must be row indices in [0, {self.n_users}); got values "
                             f"from {users.min()} to {users.max()}.")
        return users.astype(np.int64)

    def digest(self) -> str:
        """A fingerprint of what the answers depend on, so a resume never mixes two models."""
        import joblib

        return joblib.hash((self.recommender, self.seen, self.encoder, self.exclude_seen))

    def table(self, rows: np.ndarray, distances: np.ndarray, items: np.ndarray) -> dict:
        """The block's output columns: one row per (user, recommended item)."""
        present = items >= 0  # -1 pads users with fewer than k unseen items
        counts = present.sum(axis=1)
        users = np.repeat(rows, counts)
        rank = np.broadcast_to(np.arange(1, items.shape[1] + 1, dtype=np.int32),
                               items.shape)[present]
        item_index = items[present]
        if self.encoder is not None:
            users = self.encoder.user_ids_[users]
            item_index = self.encoder.item_ids_[item_index]
        return {"user_id": users, "rank": rank, "item_id": item_index,
                "distance": distances[present]}


class _ParquetParts:
    """A directory of one Parquet file per block; a block counts once its file is in place."""

    def __init__(self, path: Path):
        try:
            import pyarrow  # noqa: F401
            import pyarrow.parquet  # noqa: F401
        except ImportError as exc:
            raise ImportError("Parquet output needs pyarrow: pip install pyarrow "
                              "(or sklearn-hashrec[export]).") from exc
        self.path = path

    def open(self, job: dict, *, resume: bool, overwrite: bool) -> set[int]:
        manifest = self.path / _MANIFEST
        if self.path.exists() and not self.path.is_dir():
            raise FileExistsError(f"{self.path} exists and is not a directory; Parquet output "
                                  "is a directory of part files.")
        if self.path.is_dir() and any(self.path.iterdir()):
            found = json.loads(manifest.read_text()) if manifest.exists() else None
            if _resumes(found, job, self.path, resume=resume, overwrite=overwrite):
                return {int(p.stem.split("-")[1]) for p in self.path.glob("part-*.parquet")}
            for old in self.path.iterdir():
                if old.is_file() and (old.name.startswith("part-") or old.name in
                                      (_MANIFEST, _DONE_MARK)):
                    old.unlink()
        self.path.mkdir(parents=True, exist_ok=True)
        _write_atomic(manifest, json.dumps(job, indent=1))
        return set()

    def write(self, block: int, columns: dict) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({name: pa.array(columns[name]) for name in _COLUMNS})
        final = self.path / f"part-{block:05d}.parquet"
        partial = final.with_suffix(".parquet.tmp")
        pq.write_table(table, partial)
        os.replace(partial, final)

    def close(self) -> None:
        (self.path / _DONE_MARK).touch()


class _CsvFile:
    """One CSV file, appended block by block; ``<file>.progress`` records where a resume starts."""

    def __init__(self, path: Path | None, stream=None):
        self.path = path
        self.stream = stream
        self.progress = None if path is None else path.with_name(path.name + ".progress")
        self.handle = None
        self.record = None

    def open(self, job: dict, *, resume: bool, overwrite: bool) -> set[int]:
        if self.path is None:
            self.handle = self.stream
            self.handle.write(",".join(_COLUMNS) + "\n")
            return set()
        if self.path.exists():
            found = (json.loads(self.progress.read_text())["job"] if self.progress.exists()
                     else None)
            if _resumes(found, job, self.path, resume=resume, overwrite=overwrite):
                self.record = json.loads(self.progress.read_text())
                self.handle = open(self.path, "r+b")
                self.handle.truncate(self.record["bytes"])  # drop a half-written block
                self.handle.seek(self.record["bytes"])
                return set(self.record["blocks"])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "wb")
        self.handle.write((",".join(_COLUMNS) + "\n").encode())
        self.record = {"job": job, "blocks": [], "bytes": self.handle.tell()}
        self._save_progress()
        return set()

    def write(self, block: int, columns: dict) -> None:
        text = _csv_text(columns)
        if self.path is None:
            self.handle.write(text.decode())
            return
        self.handle.write(text)
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.record["blocks"].append(block)
        self.record["bytes"] = self.handle.tell()
        self._save_progress()

    def close(self) -> None:
        if self.path is None:
            self.handle.flush()
            return
        self.handle.close()
        self.progress.unlink()

    def abort(self) -> None:
        if self.path is not None and self.handle is not None:
            self.handle.close()

    def _save_progress(self) -> None:
        _write_atomic(self.progress, json.dumps(self.record))


def _csv_text(columns: dict) -> bytes:
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        pa = None
    if pa is not None:
        sink = pa.BufferOutputStream()
        table = pa.table({name: pa.array(columns[name]) for name in _COLUMNS})
        pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
        return sink.getvalue().to_pybytes()
    import io

    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(
        zip(*(columns[name].tolist() for name in _COLUMNS), strict=True))
    return text.getvalue().encode()


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text)
    os.replace(partial, path)


def _resumes(found: dict | None, job: dict, path: Path, *, resume: bool,
             overwrite: bool) -> bool:
    """Whether to go on with the export at ``path``; False means write it again."""
    if found == job and resume:
        return True
    if overwrite:
        return False
    if found is None:
        reason = "holds something no unfinished export wrote"
    elif found == job:
        reason = "holds this job's export and resume=False"
    else:
        changed = sorted(key for key in job if found.get(key) != job[key])
        reason = f"holds an export of another job (it differs in {', '.join(changed)})"
    raise FileExistsError(f"{path} {reason}; choose another path or pass overwrite=True.")


def _output_format(out, format: str | None) -> str:
    if format is not None:
        if format not in _FORMATS:
            raise ValueError(f"format must be one of {_FORMATS}, got {format!r}.")
        return format
    suffix = Path(out).suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".csv", ".txt"):
        return "csv"
    raise ValueError(f"cannot tell the format of {str(out)!r} from its name; name it "
                     "*.parquet or *.csv, or pass format='parquet' or 'csv'.")


def _blocks(rows: np.ndarray, block_size: int) -> list[np.ndarray]:
    return [rows[start:start + block_size] for start in range(0, len(rows), block_size)]


def recommend_all(model, out, k: int = 10, *, users=None, format: str | None = None,
                  block_size: int = 16_384, exclude_seen: bool = True, resume: bool = True,
                  overwrite: bool = False, client=None, verbose: int = 0) -> ExportReport:
    """Write the top-``k`` items of every user (or of ``users``) to Parquet or CSV.

    Users are ranked ``block_size`` at a time and each block is written before
    the next is ranked: memory holds the model and about one block of
    answers per block in flight, whatever the number of users.

    Parameters
    ----------
    model : fitted recommender or RecommenderPipeline
        Any model of the package, or a pipeline whose first step is an
        ``InteractionEncoder`` (then users and items are written as ids).
    out : str, path or text stream
        A ``*.parquet`` directory, a ``*.csv`` file, or an open text stream
        (CSV, no resume; the CLI's standard output).
    k : int, default=10
        Items per user.
    users : array-like or None, default=None
        The users to write (ids with an encoder, else row indices), in that
        order; None for every user of ``fit``.
    format : {"parquet", "csv"} or None, default=None
        None: from the name of ``out``.
    block_size : int, default=16384
        Users ranked and written at a time (and rows per Parquet part file,
        times ``k``).
    exclude_seen : bool, default=True
        Skip the items each user had in training.
    resume : bool, default=True
        When ``out`` holds an unfinished export of the same job (same model,
        users, ``k``, ``block_size``), write only the missing blocks. A
        finished one is left as it is.
    overwrite : bool, default=False
        Replace what ``out`` holds when it is not this job's export (or when
        ``resume=False``); otherwise that is an error.
    client : distributed.Client or None, default=None
        Rank the blocks as Dask tasks on this client's cluster; the model is
        sent to every worker once, and this process writes the blocks in
        order as they come back (at most two per worker in flight).
    verbose : int, default=0
        A progress bar over the blocks (tqdm, on stderr) when positive.

    Returns
    -------
    ExportReport

    Examples
    --------
    >>> import numpy as np, tempfile, pandas as pd
    >>> from sklearn_hashrec import PopularityRecommender
    >>> from sklearn_hashrec.export import recommend_all
    >>> X = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 0, 1]])
    >>> model = PopularityRecommender().fit(X)
    >>> path = tempfile.mkdtemp() + "/recs.csv"
    >>> recommend_all(model, path, k=2).rows_written
    6
    >>> pd.read_csv(path).head(3)
       user_id  rank  item_id  distance
    0        0     1        2         1
    1        0     2        3         1
    2        1     1        0         0
    """
    start_time = time.perf_counter()
    k = check_k(k)
    if not isinstance(block_size, Integral) or block_size < 1:
        raise ValueError(f"block_size must be a positive integer, got {block_size!r}.")
    source = _RankingSource(model, exclude_seen)
    rows = source.rows_of(users)
    stream = None if isinstance(out, (str, os.PathLike)) else out
    if stream is not None:
        if format not in (None, "csv"):
            raise ValueError("a stream takes CSV text only.")
        sink = _CsvFile(None, stream)
        path = None
    else:
        path = Path(out)
        sink = (_ParquetParts(path) if _output_format(out, format) == "parquet"
                else _CsvFile(path))
    blocks = _blocks(rows, int(block_size))
    job = {"k": k, "block_size": int(block_size), "exclude_seen": bool(exclude_seen),
           "n_users": len(rows), "users": hashlib.sha1(rows.tobytes()).hexdigest(),
           "model": source.digest() if stream is None else None, "columns": list(_COLUMNS)}
    done = sink.open(job, resume=resume, overwrite=overwrite)
    todo = [b for b in range(len(blocks)) if b not in done]
    bar = None
    if verbose > 0:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(blocks), initial=len(blocks) - len(todo), unit="block",
                   desc="recommend_all")
    written = 0
    try:
        for block, (distances, items) in _ranked(source, blocks, todo, k, client):
            columns = source.table(blocks[block], distances, items)
            sink.write(block, columns)
            written += len(columns["rank"])
            if bar is not None:
                bar.update(1)
    except BaseException:
        if isinstance(sink, _CsvFile):
            sink.abort()
        raise
    finally:
        if bar is not None:
            bar.close()
    sink.close()
    return ExportReport(path=path, n_users=len(rows), n_blocks=len(blocks),
                        blocks_written=len(todo), rows_written=written,
                        seconds=time.perf_counter() - start_time)


def _rank_block(source: _RankingSource, rows: np.ndarray, k: int):
    return source.rank(rows, k)


def _ranked(source, blocks, todo, k, client):
    """(block, answers) in block order, ranked here or as Dask tasks."""
    if client is None:
        for block in todo:
            yield block, source.rank(blocks[block], k)
        return
    # The model goes to every worker once; tasks carry only their rows.
    shared = client.scatter(source, broadcast=True, hash=False)
    in_flight = max(2, 2 * len(client.scheduler_info()["workers"]))
    pending = {}
    queue = list(todo)
    next_position = 0
    while next_position < len(todo):
        while queue and len(pending) < in_flight:
            block = queue.pop(0)
            pending[block] = client.submit(_rank_block, shared, blocks[block], k,
                                           pure=False)
        block = todo[next_position]
        yield block, pending.pop(block).result()
        next_position += 1
