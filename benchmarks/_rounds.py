"""
How every benchmark here compares contenders (issue 17): alternating rounds, per-round ratios.

A shared machine's speed drifts by 10% or more within minutes, so a contender timed a minute
after its reference can look faster or slower than it is. Each round therefore runs every
contender once, in the order given on even rounds and in the reverse order on odd rounds
(A B, B A, A B, ...), and a comparison is the median of the per-round ratios (or
differences), printed with their minimum and maximum. The machine's load average is recorded
before and after, and printed with the figures.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

__all__ = [
    "Load",
    "Spread",
    "alternate",
    "differences",
    "log",
    "machine_line",
    "process",
    "ratios",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Spread:
    """The median of per-round values, with their minimum and maximum."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """The spread of ``values`` (at least one)."""
        return cls(statistics.median(values), min(values), max(values))

    def ratio(self) -> str:
        """``1.23x (1.10x-1.40x)``."""
        return f"{self.median:.2f}x ({self.low:.2f}x-{self.high:.2f}x)"

    def seconds(self, sign: bool = False) -> str:
        """``0.123 s (0.100-0.150)``; with ``sign``, ``+0.123 s (+0.100 to +0.150)``."""
        if sign:
            return f"{self.median:+.3f} s ({self.low:+.3f} to {self.high:+.3f})"
        return f"{self.median:.3f} s ({self.low:.3f}-{self.high:.3f})"


def ratios(values: Sequence[float], reference: Sequence[float]) -> Spread:
    """The per-round ratios ``values[i] / reference[i]``."""
    return Spread.of([v / r for v, r in zip(values, reference, strict=True)])


def differences(values: Sequence[float], reference: Sequence[float]) -> Spread:
    """The per-round differences ``values[i] - reference[i]``."""
    return Spread.of([v - r for v, r in zip(values, reference, strict=True)])


class Load:
    """The machine's load average (1, 5 and 15 minutes) before and after a measurement."""

    def __init__(self) -> None:
        self.before = os.getloadavg()
        self.after: tuple[float, float, float] | None = None

    def done(self) -> Load:
        """Record the load after the measurement."""
        self.after = os.getloadavg()
        return self

    def __str__(self) -> str:
        def text(avg: tuple[float, float, float]) -> str:
            return "/".join(f"{x:.1f}" for x in avg)

        after = "" if self.after is None else f", {text(self.after)} after"
        return f"load {text(self.before)} before{after} ({os.cpu_count()} cores)"


def alternate(
    contenders: Sequence[str],
    run: Callable[[str], T],
    rounds: int,
    *,
    label: str = "",
) -> dict[str, list[T]]:
    """
    Run each contender once per round: in the order given on even rounds, reversed on odd.

    Returns:
        Each contender's results, one per round, in round order.
    """
    results: dict[str, list[T]] = {name: [] for name in contenders}
    for r in range(rounds):
        order = list(contenders) if r % 2 == 0 else list(reversed(contenders))
        for name in order:
            log(f"{label}round {r + 1}/{rounds}: {name}")
            results[name].append(run(name))
    return results


def process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    ok: Sequence[int] = (0,),
) -> tuple[float, float, float]:
    """
    Run ``argv`` as a whole process; return its wall-clock seconds, its CPU seconds (user and
    system) and its peak MiB.

    On a shared machine the CPU time moves much less with the other tenants' load than the
    wall-clock time: a single-threaded process waits for the CPU, but is not charged for it.

    The peak is the process's own ``ru_maxrss`` (from ``wait4``), not the largest of all
    children so far. Output is discarded; an exit code not in ``ok`` raises RuntimeError.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        env=None if env is None else dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    error = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in ok:
        raise RuntimeError(f"{argv} exited with {proc.returncode}: {error.decode()[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def log(message: str) -> None:
    """Progress, on standard error."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine_line() -> str:
    """The CPU, its cores and the memory, on one line."""
    cpu = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            names = (ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name"))
            cpu = next(names, cpu)
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.1f} GiB RAM"
    except (OSError, ValueError):
        memory = ""
    return f"CPU: {cpu}, {os.cpu_count()} cores{memory}; Python {sys.version.split()[0]}"
