"""Data-parallel training with torch.distributed: one model, N processes.

When a fit runs inside an initialised process group of more than one process
(``torchrun --nproc-per-node N -m sklearn_hashrec fit ...``, or any script
that called ``torch.distributed.init_process_group``), the training loop
wraps the model's loss in ``DistributedDataParallel``:

* every process draws the same epoch (the batch-order generator is seeded
  alike) and takes every N-th block of it, so the processes share the user
  and item blocks of an epoch;
* ``DistributedDataParallel`` broadcasts rank 0's initial weights and
  averages the gradients of each step across processes (gloo on CPU, nccl on
  CUDA), so every process holds the same networks after every step;
* the epoch's loss is averaged across processes, and only rank 0 writes
  checkpoints.

A step of N processes thus averages the gradients of N blocks: an epoch has
``1/N`` as many optimizer steps, each on ``N`` times the data.
"""

from __future__ import annotations

import atexit
import os

import torch
from torch import nn

from .checkpoints import data_fingerprint

__all__ = ["check_same_matrix", "data_parallel_loss", "init_from_environment",
           "launched_by_torchrun", "mean_across_processes", "process_group", "rank_share"]


def process_group() -> tuple[int, int] | None:
    """``(rank, world_size)`` of the current process group, or None outside one (or alone)."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return None
    world_size = torch.distributed.get_world_size()
    return (torch.distributed.get_rank(), world_size) if world_size > 1 else None


class _LossModule(nn.Module):
    """The networks and their loss as one module, the form DistributedDataParallel wraps."""

    def __init__(self, networks: nn.Module, loss_fn):
        super().__init__()
        self.networks = networks
        self.loss_fn = loss_fn

    def forward(self, batch):
        return self.loss_fn(self.networks, batch)


def data_parallel_loss(networks: nn.Module, loss_fn, device: torch.device):
    """``batch -> loss`` whose backward pass averages gradients across the process group."""
    module = _LossModule(networks, loss_fn)
    device_ids = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else None
    # Models whose loss skips a network on some steps (none today) would need
    # find_unused_parameters=True; it costs a graph traversal per step.
    return nn.parallel.DistributedDataParallel(module, device_ids=device_ids)


def check_same_matrix(X, device: torch.device) -> None:
    """Raise on every rank unless all ranks were given the same training matrix.

    Each rank takes its share of blocks of its own ``X``; different matrices
    would train one model on a mixture without any error.
    """
    digest = int(data_fingerprint(X)[:15], 16)  # 60 bits: fits an int64
    mine = torch.tensor([X.shape[0], X.shape[1], X.nnz, digest], dtype=torch.int64,
                        device=device)
    gathered = [torch.empty_like(mine) for _ in range(torch.distributed.get_world_size())]
    torch.distributed.all_gather(gathered, mine)
    differing = [rank for rank, theirs in enumerate(gathered) if not torch.equal(theirs, mine)]
    if differing:
        raise ValueError(
            f"Data-parallel training needs the same X on every process, but rank "
            f"{torch.distributed.get_rank()}'s differs from rank(s) {differing} "
            "(shape, entries or values). Pass every process the whole matrix."
        )


def rank_share(steps: list, rank: int, world_size: int) -> list:
    """Every ``world_size``-th step from ``rank``, padded so that every rank takes as many.

    Gradients are averaged at each step, so all ranks must take the same
    number of steps; a rank short of one repeats its first step.
    """
    share = steps[rank::world_size]
    n_per_rank = -(-len(steps) // world_size)
    return share + share[: n_per_rank - len(share)]


def mean_across_processes(value: float, device: torch.device) -> float:
    """The mean of a float over the process group."""
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    torch.distributed.all_reduce(tensor)
    return float(tensor.item()) / torch.distributed.get_world_size()


def launched_by_torchrun() -> bool:
    """Whether ``torchrun`` started this process as one of several (``WORLD_SIZE > 1``)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_environment(device: str = "cpu") -> tuple[int, int] | None:
    """Join the process group that ``torchrun`` describes in the environment.

    Returns ``(rank, world_size)``, or None when the process was not started
    by ``torchrun`` with more than one process. The backend is nccl for a
    CUDA ``device`` (each process then uses GPU ``LOCAL_RANK``), gloo
    otherwise. A group joined here is destroyed when the process exits.
    """
    if not launched_by_torchrun():
        return None
    if not torch.distributed.is_initialized():
        cuda = str(device).startswith("cuda")
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        torch.distributed.init_process_group(backend="nccl" if cuda else "gloo")
        # A gloo group still alive at interpreter exit sometimes aborted its
        # process ("terminate called without an active exception", SIGABRT):
        # about 1 torchrun run in 10 of the data-parallel test failed so. So
        # did a rank that left the group while another still worked in it
        # (rank 0 evaluating or saving): 2 runs in 5 of the data-parallel
        # benchmark. Every rank now waits for the others before leaving.
        atexit.register(_leave_process_group)
    return process_group()


def _leave_process_group() -> None:
    if torch.distributed.is_initialized():  # the caller may have left it already
        try:
            torch.distributed.barrier()
        except RuntimeError:  # a peer is gone (it failed): leave without it
            pass
        torch.distributed.destroy_process_group()
