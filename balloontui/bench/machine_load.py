"""How busy the rest of the machine was while we measured (timings suffer when it is busy).

``/proc/stat`` gives the CPU time of everything on the machine; ``getrusage`` gives ours (this
process and the children it has waited for: simulators, clients, the TUI). The difference over
a measurement is what other processes took.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all processes have used since boot (user, nice, system, irq, softirq, steal)."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def our_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class LoadMark:
    at: float
    busy: float
    ours: float

    @classmethod
    def now(cls) -> LoadMark:
        return cls(time.monotonic(), machine_busy_seconds(), our_seconds())

    def others_cores(self, later: LoadMark | None = None) -> float:
        """Cores other processes used from this mark to ``later`` (default: now)."""
        later = later or LoadMark.now()
        wall = later.at - self.at
        if wall <= 0:
            return 0.0
        return max(0.0, ((later.busy - self.busy) - (later.ours - self.ours)) / wall)


def wait_until_quiet(limit: float, *, threshold: float = 0.25, probe: float = 3.0,
                     say=print) -> float:  # type: ignore[no-untyped-def]
    """Wait (up to ``limit`` seconds) until other processes use less than ``threshold`` cores
    over ``probe`` seconds; the last reading."""
    deadline = time.monotonic() + limit
    while True:
        mark = LoadMark.now()
        time.sleep(probe)
        others = mark.others_cores()
        if others < threshold or time.monotonic() >= deadline:
            return others
        say(f"[bench] other processes use {others:.2f} cores; waiting for a quieter moment")
