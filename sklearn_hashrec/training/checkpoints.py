"""Checkpoints: a training run's state on disk, so that a killed fit resumes.

After every epoch the trainer writes everything the rest of the run depends
on: the networks, the optimizer's moments, the epoch, the batch-order
generator, torch's global random state (dropout), the loss curve and the
callbacks' own state (early stopping's best epoch and networks). Resuming
from it gives the same final model as a run that was never interrupted.

A checkpoint is written to a temporary file in the same directory and renamed
over the previous one (``os.replace`` is atomic on POSIX and Windows), so a
process killed while writing leaves the previous checkpoint intact. The file
starts with a SHA-256 digest of its payload: a truncated or altered file is
refused, and so is one written for other data or other parameters.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["CheckpointError", "CheckpointStore", "data_fingerprint", "read_checkpoint"]

_MAGIC = b"sklearn-hashrec checkpoint v1\n"
_DIGEST_BYTES = 64  # hex SHA-256
FILENAME = "checkpoint.pt"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: corrupt, or written for another fit."""


def data_fingerprint(X: sp.csr_matrix) -> str:
    """SHA-256 of a canonical CSR matrix's shape, structure and values."""
    digest = hashlib.sha256()
    digest.update(np.asarray(X.shape, dtype=np.int64).tobytes())
    for array in (X.indptr, X.indices, X.data):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


class CheckpointStore:
    """The checkpoint of one fit in ``directory``.

    Parameters
    ----------
    directory : str or path-like
        Created if missing. One fit per directory: a checkpoint whose
        ``identity`` differs is refused, not overwritten.
    identity : dict of str
        What the checkpoint must have been written for: the model's class,
        its parameters and the training data's fingerprint.
    """

    def __init__(self, directory, identity: dict):
        self.directory = Path(directory)
        self.identity = {key: str(value) for key, value in identity.items()}

    @property
    def path(self) -> Path:
        """The checkpoint file."""
        return self.directory / FILENAME

    def load(self, map_location=None) -> dict | None:
        """The stored state, or None when there is no checkpoint yet.

        Raises
        ------
        CheckpointError
            If the file is corrupt or was written for another model, other
            parameters or other data.
        """
        if not self.path.exists():
            return None
        payload = read_checkpoint(self.path, map_location)
        stored = payload.get("identity", {})
        differing = sorted(key for key in set(stored) | set(self.identity)
                           if stored.get(key) != self.identity.get(key))
        if differing:
            details = "; ".join(f"{key}: checkpoint {stored.get(key)!r}, this fit "
                                f"{self.identity.get(key)!r}" for key in differing)
            raise CheckpointError(
                f"The checkpoint {self.path} was written by another fit ({details}). "
                "Use one checkpoint_dir per fit, or delete the file to start over."
            )
        return payload["state"]

    def save(self, state: dict) -> None:
        """Write ``state`` atomically: a temporary file, then a rename over the old one."""
        self.directory.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        torch.save({"identity": self.identity, "state": state}, buffer)
        payload = buffer.getvalue()
        digest = hashlib.sha256(payload).hexdigest().encode("ascii")
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".checkpoint-",
                                             suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(_MAGIC + digest + b"\n" + payload)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def read_checkpoint(path, map_location=None) -> dict:
    """Read and verify a checkpoint file: ``{"identity": ..., "state": ...}``.

    Raises
    ------
    CheckpointError
        If the file is not a checkpoint, is truncated, or its digest does not
        match its payload.
    """
    path = Path(path)
    raw = path.read_bytes()
    header = len(_MAGIC) + _DIGEST_BYTES + 1
    if not raw.startswith(_MAGIC) or len(raw) < header:
        raise CheckpointError(f"{path} is not a sklearn-hashrec checkpoint.")
    digest, payload = raw[len(_MAGIC):header - 1], raw[header:]
    if hashlib.sha256(payload).hexdigest().encode("ascii") != digest:
        raise CheckpointError(
            f"The checkpoint {path} is corrupt (its SHA-256 digest does not match its "
            "contents); delete it to start the fit over."
        )
    # weights_only: a checkpoint holds tensors and plain data, never code to run.
    return torch.load(io.BytesIO(payload), map_location=map_location, weights_only=True)
