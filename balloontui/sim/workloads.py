"""What runs inside a simulated guest: memory its processes want, and files they read.

A :class:`Workload` is a pure function of the time since boot, fixed by its seed: a baseline, two
slow waves, and random bursts (each a ramp up, a plateau and a ramp down). It also names how much
page cache the guest would like to keep; the guest model grows its cache toward that and gives it
back under pressure. The same seed gives the same curves, whatever the tick rate.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from balloontui.core.sizes import PAGE_SIZE


@dataclass(frozen=True, slots=True)
class WorkloadSpec:
    """The shape of a workload; shares are fractions of the VM's memory."""

    seed: int = 0
    baseline: float = 0.25
    """Memory the processes always hold."""
    wave: float = 0.05
    """Amplitude of the slow waves."""
    wave_period: float = 300.0
    """Seconds per cycle of the main wave (the second wave is 3.7 times slower)."""
    burst_every: float = 120.0
    """Mean seconds between bursts; 0 for none."""
    burst_size: float = 0.15
    """Largest burst (each burst takes 40–100 % of it)."""
    burst_seconds: float = 20.0
    """How long a burst holds its peak."""
    ramp_seconds: float = 2.0
    """How long a burst takes to rise or fall."""
    cache: float = 0.2
    """Page cache the workload would like to keep."""

    @property
    def peak(self) -> float:
        """The most this workload can hold (processes only, not cache)."""
        return self.baseline + 1.5 * self.wave + self.burst_size


class Workload:
    """A :class:`WorkloadSpec` on a VM with ``memory`` bytes."""

    def __init__(self, spec: WorkloadSpec, memory: int) -> None:
        self.spec = spec
        self.memory = memory
        rng = random.Random(spec.seed)
        self._phase = rng.uniform(0, 2 * math.pi)
        self._phase2 = rng.uniform(0, 2 * math.pi)
        self._bursts: dict[int, tuple[float, float] | None] = {}

    def anon(self, t: float) -> int:
        """Bytes the processes hold ``t`` seconds after boot."""
        spec = self.spec
        share = spec.baseline + self._waves(t) + self._burst(t)
        return _pages(max(0.0, share) * self.memory)

    def cache_goal(self, t: float) -> int:
        """Page cache the workload would like ``t`` seconds after boot."""
        spec = self.spec
        swing = 0.75 + 0.25 * math.sin(2 * math.pi * t / (spec.wave_period * 2.3) + self._phase2)
        return _pages(spec.cache * swing * self.memory)

    def ramping(self, t: float) -> bool:
        """Whether a burst is rising or falling at ``t`` (worth following closely)."""
        burst = self._burst_at(t)
        if burst is None:
            return False
        start, _size = burst
        spec = self.spec
        rise_end = start + spec.ramp_seconds
        fall_start = rise_end + spec.burst_seconds
        return start <= t < rise_end or fall_start <= t < fall_start + spec.ramp_seconds

    def _waves(self, t: float) -> float:
        spec = self.spec
        if spec.wave <= 0 or spec.wave_period <= 0:
            return 0.0
        main = math.sin(2 * math.pi * t / spec.wave_period + self._phase)
        slow = math.sin(2 * math.pi * t / (spec.wave_period * 3.7) + self._phase2)
        return spec.wave * (main + 0.5 * slow)

    def _burst(self, t: float) -> float:
        burst = self._burst_at(t)
        if burst is None:
            return 0.0
        start, size = burst
        spec = self.spec
        ramp = max(spec.ramp_seconds, 1e-6)
        elapsed = t - start
        if elapsed < 0:
            return 0.0
        if elapsed < ramp:
            return size * elapsed / ramp
        elapsed -= ramp
        if elapsed < spec.burst_seconds:
            return size
        elapsed -= spec.burst_seconds
        if elapsed < ramp:
            return size * (1 - elapsed / ramp)
        return 0.0

    def _burst_at(self, t: float) -> tuple[float, float] | None:
        """The burst of the slot ``t`` falls in, as (start, size share), if there is one."""
        spec = self.spec
        if spec.burst_every <= 0 or spec.burst_size <= 0 or t < 0:
            return None
        slot = int(t // spec.burst_every)
        if slot not in self._bursts:
            if len(self._bursts) > 64:
                self._bursts.clear()
            self._bursts[slot] = self._plan_burst(slot)
        return self._bursts[slot]

    def _plan_burst(self, slot: int) -> tuple[float, float] | None:
        spec = self.spec
        rng = random.Random(spec.seed * 1_000_003 + slot)
        if rng.random() < 0.35:
            return None
        length = 2 * spec.ramp_seconds + spec.burst_seconds
        latest = max(0.0, spec.burst_every - length)
        start = slot * spec.burst_every + rng.uniform(0, latest)
        return start, spec.burst_size * rng.uniform(0.4, 1.0)


def _pages(amount: float) -> int:
    return int(amount) // PAGE_SIZE * PAGE_SIZE
