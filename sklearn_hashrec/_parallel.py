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
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager

import numba
import torch

__all__ = ["run_parallel_kernel", "kernel_threads"]

# Numba's workqueue layer must not be entered by two Python threads at once,
# and the thread count set below is per Python thread: calls queue.
_KERNEL_LOCK = threading.Lock()


@contextmanager
def kernel_threads():
    """Run numba kernels on torch's thread count, and leave both counts as found.

    The kernels use ``min(torch.get_num_threads(), NUMBA_NUM_THREADS)``
    threads, so one setting (``torch.set_num_threads`` or ``OMP_NUM_THREADS``)
    bounds the whole package.
    """
    with _KERNEL_LOCK:
        torch_threads = torch.get_num_threads()
        numba_threads = numba.get_num_threads()
        numba.set_num_threads(max(1, min(torch_threads, numba.config.NUMBA_NUM_THREADS)))
        try:
            yield
        finally:
            numba.set_num_threads(numba_threads)
            if torch.get_num_threads() != torch_threads:
                torch.set_num_threads(torch_threads)


def run_parallel_kernel(kernel: Callable, *args):
    """``kernel(*args)`` inside :func:`kernel_threads`."""
    with kernel_threads():
        return kernel(*args)
