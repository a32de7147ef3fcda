"""Timing for benchmarks/: the fastest of several runs, the one least disturbed by other work."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


def best_of(runs: int, fn: Callable[[], object], *, pause_gc: bool = False) -> float:
    """Fastest wall time of `runs` calls of `fn`; with `pause_gc`, the cyclic collector runs
    before each call and is paused during it (so no call pays for another's garbage)."""
    best = float("inf")
    for _ in range(runs):
        if pause_gc:
            gc.collect()
            gc.disable()
        try:
            started = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - started)
        finally:
            if pause_gc:
                gc.enable()
    return best
