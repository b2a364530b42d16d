"""How the time of a function grows with its input, for tests of hostile input: a ratio of two
timings, not a wall-clock bound, so a busy machine (which slows both) does not fail them."""

from __future__ import annotations

import time
from collections.abc import Callable

FACTOR = 8  # the larger input is this many times the smaller one
SLACK = 2.5  # linear code takes ~FACTOR times as long; quadratic code FACTOR**2 (64 x)


def best_time(run: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of a few runs: the one least disturbed by other work on the machine."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def growth(run: Callable[[int], object], n: int) -> float:
    """Time of `run(FACTOR * n)` over time of `run(n)`."""
    return best_time(lambda: run(FACTOR * n)) / max(best_time(lambda: run(n)), 1e-6)


def assert_linear(run: Callable[[int], object], n: int) -> None:
    ratio = growth(run, n)
    assert ratio < FACTOR * SLACK, f"{FACTOR}x the input took {ratio:.1f}x the time: not linear"
