"""One thread budget per process for numba's parallel kernels and torch.

Numba picks its OpenMP threading layer wherever an OpenMP runtime is loaded,
and torch loads one. Both then share that runtime's thread count, and
starting the layer (the first parallel kernel, or any ``numba.*_num_threads``
call, of a process) sets it to numba's count, all cores by default. Without
care, the first ``recommend`` of a process silently undid a user's
``torch.set_num_threads(1)``: the CCSR fits after the first evaluation in a
process ran 4-6x slower (MovieLens-1M, beside another process on 2 cores),
and with another thread count than asked, which changes a seeded fit's
floating-point sums.

Torch is read only when the process has already imported it: ranking and
the models without torch stay importable, and fast to import, without it.

Concurrency. Numba's thread count is per Python thread, and its OpenMP and
TBB layers run kernels launched by several Python threads at once, so a
threaded server ranks requests in parallel. Only the ``workqueue`` layer
(numba's fallback when neither OpenMP nor TBB is found) must not be entered
twice: on it, and until the first kernel has told which layer runs, kernel
launches take a process-wide lock.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable

import numba

__all__ = ["run_parallel_kernel", "kernel_threads", "thread_budget"]

_UNSAFE_LAYER_LOCK = threading.Lock()
# None until a kernel has run: numba only tells its layer once it has started.
_layer_is_threadsafe: bool | None = None


def thread_budget() -> int:
    """Threads the package may use: torch's count, else ``OMP_NUM_THREADS``, else numba's.

    Bounded by ``NUMBA_NUM_THREADS`` (the cores, unless set), which numba
    cannot exceed.
    """
    torch = sys.modules.get("torch")
    if torch is not None:
        wanted = torch.get_num_threads()
    else:
        try:
            wanted = int(os.environ.get("OMP_NUM_THREADS", ""))
        except ValueError:
            wanted = numba.config.NUMBA_NUM_THREADS
    return max(1, min(wanted, numba.config.NUMBA_NUM_THREADS))


@contextlib.contextmanager
def kernel_threads():
    """Run numba kernels on :func:`thread_budget` threads, and leave the counts as found.

    One setting (``torch.set_num_threads`` or ``OMP_NUM_THREADS``) thus
    bounds the whole package. Safe to enter from several threads at once.
    """
    global _layer_is_threadsafe
    guard = contextlib.nullcontext() if _layer_is_threadsafe else _UNSAFE_LAYER_LOCK
    with guard:
        torch = sys.modules.get("torch")
        torch_threads = torch.get_num_threads() if torch is not None else None
        budget = thread_budget()
        numba_threads = numba.get_num_threads()
        numba.set_num_threads(budget)
        try:
            yield
        finally:
            numba.set_num_threads(numba_threads)
            if torch_threads is not None and torch.get_num_threads() != torch_threads:
                torch.set_num_threads(torch_threads)
            if _layer_is_threadsafe is None:
                _layer_is_threadsafe = _current_layer_is_threadsafe()


def _current_layer_is_threadsafe() -> bool | None:
    try:
        return numba.threading_layer() != "workqueue"
    except ValueError:  # no parallel kernel has run yet
        return None


def run_parallel_kernel(kernel: Callable, *args):
    """``kernel(*args)`` inside :func:`kernel_threads`."""
    with kernel_threads():
        return kernel(*args)
