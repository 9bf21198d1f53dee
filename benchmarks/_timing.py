"""The one timing helper the benchmark scripts share (imported as a sibling module: each
script's own directory is first on ``sys.path`` when it runs)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` wall-clock runs of ``fn``, in seconds: the least-disturbed
    figure on a shared machine."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
