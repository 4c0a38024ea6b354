"""A Linux guest's memory, as its virtio-balloon driver and its memory statistics show it.

The guest has ``memory`` bytes, of which the kernel manages ``total`` (about 91.8 %, like the
recorded 512 MiB guest's 492847104); the kernel's own footprint, the processes (a
:class:`~balloontui.sim.workloads.Workload`), page cache (reclaimable), tmpfs data from
:meth:`GuestModel.fill` (not reclaimable, counted in the disk caches like shmem) and the balloon
share it. The driver moves the balloon toward the host's target at realistic speeds (the first
step of every movement is one 256-page batch, 1 MiB) but can only inflate into memory nobody
needs. When the guest needs more than it has, it reclaims cache; then, if deflate-on-oom was
negotiated, it deflates the balloon by itself in 1 MiB steps; without it, it dies (QEMU then
reports ``SHUTDOWN`` ``guest-reset``).

The model only moves when :meth:`GuestModel.advance` is called (by the host's ticker), and tells
its owner about each new ``actual`` through ``on_actual`` and about its death through
``on_death``. Times are passed in; only :meth:`GuestModel.fill` and :meth:`GuestModel.release`
(called from outside the ticker) read the optional ``clock`` to settle the past first.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from balloontui.core.sizes import GiB, KiB, MiB, PAGE_SIZE
from balloontui.sim.workloads import Workload

BATCH = 256 * PAGE_SIZE
"""The driver's batch (``VIRTIO_BALLOON_ARRAY_PFNS_MAX``): the first step of every movement,
and the unit of deflate-on-oom."""

INFLATE_RATE = 900 * MiB
DEFLATE_RATE = 2 * GiB
FILL_RATE = 160 * MiB
"""Speeds seen on a real guest under TCG (bytes per second); ``dd`` into tmpfs for fills."""

IDLE_FAULTS_PER_SECOND = 23.0


def managed_memory(memory: int) -> int:
    """What the guest kernel manages of ``memory`` (``stat-total-memory`` with no balloon)."""
    return int(memory // PAGE_SIZE * 0.918) * PAGE_SIZE


def kernel_footprint(memory: int) -> int:
    """Memory the guest kernel and its idle userland hold: 26 MiB for 512 MiB, as recorded."""
    return _pages(20 * MiB + memory * 0.012)


def min_free(total: int) -> int:
    """Linux's ``min_free_kbytes``: sqrt(16 × lowmem KiB), within [128 KiB, 256 MiB]."""
    kib = int(math.isqrt(total // KiB * 16))
    return _pages(min(max(kib, 128), 262144) * KiB)


class GuestModel:
    """One boot of a Linux guest with a virtio-balloon driver (see the module docstring)."""

    def __init__(self, memory: int, *, workload: Workload | None = None, swap: bool = False,
                 inflate_rate: float = INFLATE_RATE, deflate_rate: float = DEFLATE_RATE,
                 booted_at: float = 0.0, clock: Callable[[], float] | None = None) -> None:
        self.memory = memory
        self._clock = clock
        self.total = managed_memory(memory)
        self.kernel = kernel_footprint(memory)
        self.min_free = min_free(self.total)
        self.workload = workload
        self.swap = swap
        self.inflate_rate = inflate_rate
        self.deflate_rate = deflate_rate
        self.booted_at = booted_at
        self.anon = workload.anon(0) if workload else 0
        self.cache = workload.cache_goal(0) // 2 if workload else _pages(memory * 0.0042)
        self.shmem = 0
        self._shmem_goal = 0
        self._fill_rate = float(FILL_RATE)
        self.balloon = 0
        """Bytes the balloon driver holds (``actual`` is ``memory - balloon``)."""
        self.target_balloon = 0
        """Bytes the host asks the balloon to hold."""
        self.driver_loaded = False
        self.deflate_on_oom = False
        """Whether VIRTIO_BALLOON_F_DEFLATE_ON_OOM was negotiated when the driver loaded."""
        self.running = True
        self.dead = False
        self.minor_faults = 400
        self.major_faults = 0
        self.swap_in = 0
        self.swap_out = 0
        self._fault_debt = 0.0
        self._last = booted_at
        self.on_actual: Callable[[int, float], None] = lambda actual, when: None
        self.on_death: Callable[[], None] = lambda: None
        self.on_wake: Callable[[], None] = lambda: None
        """Called when something starts changing fast (a fill): follow me closely."""

    # What the host and tests look at.

    @property
    def actual(self) -> int:
        return self.memory - self.balloon

    @property
    def free(self) -> int:
        used = self.kernel + self.anon + self.cache + self.shmem + self.balloon
        return max(0, self.total - used)

    @property
    def headroom(self) -> int:
        """How much more the processes or tmpfs could take before the guest runs out of memory."""
        return max(0, self._room() - self.anon - self.shmem)

    @property
    def moving(self) -> bool:
        """Something changes fast enough to be followed tick by tick."""
        if self.dead or not self.running:
            return False
        if self.shmem != self._shmem_goal:
            return True
        if self.workload is not None and self.workload.ramping(self._last - self.booted_at):
            return True
        if not self.driver_loaded or self.balloon == self.target_balloon:
            return False
        return self.balloon > self.target_balloon or self._inflatable() > 0

    def stats(self) -> dict[str, int]:
        """The driver's report, keyed and ordered as QEMU 7.2 prints ``guest-stats``."""
        total = self.total if self.deflate_on_oom else self.total - self.balloon
        free = self.free
        low = self.min_free * 5 // 4
        available = _pages(max(0, free - self.min_free // 2 + self.cache
                                  - min(self.cache // 2, low)))
        return {
            "stat-htlb-pgalloc": 0,
            "stat-swap-out": self.swap_out,
            "stat-available-memory": available,
            "stat-htlb-pgfail": 0,
            "stat-free-memory": free,
            "stat-minor-faults": self.minor_faults,
            "stat-major-faults": self.major_faults,
            "stat-total-memory": total,
            "stat-swap-in": self.swap_in,
            "stat-disk-caches": self.cache + self.shmem,
        }

    # What the host does to the guest.

    def set_target(self, target_balloon: int) -> None:
        """The host changed the balloon's target (bytes the balloon should hold)."""
        self.target_balloon = max(0, min(target_balloon, self.memory)) // PAGE_SIZE * PAGE_SIZE

    def load_driver(self, now: float, *, deflate_on_oom: bool) -> None:
        """The balloon driver probes (at boot, or after a modprobe): an empty balloon."""
        self._settle(now)
        self.driver_loaded = True
        self.deflate_on_oom = deflate_on_oom
        self.balloon = 0

    def place_balloon(self) -> None:
        """Start with the balloon already at its target, as far as memory allows (no events):
        a guest whose balloon a management tool set long before we look."""
        self.balloon = min(self.target_balloon, self.balloon + self._inflatable())
        self.cache = max(0, min(self.cache, self._room() - self.anon - self.shmem))

    def unload_driver(self, now: float) -> None:
        """``rmmod virtio_balloon``: the driver gives every page back, then is gone."""
        self._settle(now)
        if self.balloon:
            self.balloon = 0
            self.on_actual(self.actual, now)
        self.driver_loaded = False
        self.deflate_on_oom = False

    def react(self, now: float) -> None:
        """The driver notices a new target: its first batch moves at once (1 MiB)."""
        self.advance(now, move_balloon=False)
        if self.dead or not self.running or not self.driver_loaded:
            return
        if self.target_balloon > self.balloon:
            self._inflate(min(BATCH, self.target_balloon - self.balloon), now)
        elif self.target_balloon < self.balloon:
            self._deflate(min(BATCH, self.balloon - self.target_balloon), now)

    def fill(self, amount: int, rate: float | None = FILL_RATE) -> None:
        """Write ``amount`` bytes into a tmpfs, at ``rate`` bytes/s (None: all at once)."""
        self._catch_up()
        self._shmem_goal = max(0, self._shmem_goal + _pages(amount))
        if rate is None:
            self.shmem = self._shmem_goal
        else:
            self._fill_rate = float(rate)
        self.on_wake()

    def release(self, amount: int | None = None) -> None:
        """Delete ``amount`` bytes (all by default) of what :meth:`fill` wrote."""
        self._catch_up()
        drop = self._shmem_goal if amount is None else _pages(amount)
        self._shmem_goal = max(0, self._shmem_goal - drop)
        self.shmem = min(self.shmem, self._shmem_goal)

    def freeze(self, now: float) -> None:
        """The VM is paused: nothing moves until :meth:`thaw`."""
        self._settle(now)
        self.running = False

    def thaw(self, now: float) -> None:
        self._last = now
        self.running = True

    # Time passing.

    def advance(self, now: float, *, move_balloon: bool = True) -> None:
        """Let the guest live until ``now``."""
        start = self._last
        dt = now - start
        if dt <= 0 or self.dead or not self.running:
            self._last = max(self._last, now)
            return
        self._last = now
        self._follow_workload(now, dt)
        if self.shmem < self._shmem_goal:
            self.shmem = min(self._shmem_goal, self.shmem + _pages(self._fill_rate * dt))
        if not self._relieve_pressure(now):
            return
        if self.driver_loaded and move_balloon:
            self._move_balloon(start, now)

    def _catch_up(self) -> None:
        """Live until the clock's now, so that a change made now does not reach into the past."""
        if self._clock is not None:
            self.advance(self._clock())

    def _settle(self, now: float) -> None:
        if self.running:
            self.advance(now)
        self._last = now

    def _follow_workload(self, now: float, dt: float) -> None:
        self._fault_debt += IDLE_FAULTS_PER_SECOND * dt
        if self.workload is None:
            self._collect_faults()
            return
        t = now - self.booted_at
        anon = self.workload.anon(t)
        if anon > self.anon:
            self._fault_debt += (anon - self.anon) / PAGE_SIZE / 8
        self.anon = anon
        goal = self.workload.cache_goal(t)
        if goal > self.cache:
            # Reading files: the cache grows, but only into free memory.
            grow = min(goal - self.cache, _pages(64 * MiB * dt), self._spare())
            self.cache += max(0, grow)
        elif goal < self.cache:
            self.cache -= min(self.cache - goal, _pages(8 * MiB * dt))
        self._collect_faults()

    def _relieve_pressure(self, now: float) -> bool:
        """Make the guest's needs fit; False if it could not and died."""
        need = self.anon + self.shmem
        room = self._room()
        if need + self.cache > room:
            reclaimed = self.cache - max(0, room - need)
            self.cache -= reclaimed
            self.major_faults += reclaimed // PAGE_SIZE // 64
            if self.swap:
                self.swap_out += reclaimed // PAGE_SIZE // 16
                self.swap_in += reclaimed // PAGE_SIZE // 64
        excess = need - room
        if excess <= 0:
            return True
        if self.deflate_on_oom and self.balloon > 0:
            steps = -(-excess // BATCH)
            self._deflate(min(self.balloon, steps * BATCH), now, step=BATCH)
            excess = need - self._room()
        if excess > 0:
            self.dead = True
            self.on_death()
            return False
        return True

    def _move_balloon(self, start: float, now: float) -> None:
        if self.target_balloon > self.balloon:
            budget = _pages(self.inflate_rate * (now - start))
            amount = min(self.target_balloon - self.balloon, budget, self._inflatable())
            if amount > 0:
                self._inflate(amount, start + amount / self.inflate_rate)
        elif self.target_balloon < self.balloon:
            budget = _pages(self.deflate_rate * (now - start))
            amount = min(self.balloon - self.target_balloon, budget)
            if amount > 0:
                self._deflate(amount, start + amount / self.deflate_rate)

    def _inflate(self, amount: int, when: float) -> None:
        amount = min(amount, self._inflatable())
        if amount <= 0:
            return
        first = min(amount, BATCH)
        self.balloon += first
        if amount > first:
            self.on_actual(self.actual, when - (amount - first) / self.inflate_rate)
            self.balloon += amount - first
        # Inflating pushes page cache out.
        self.cache = max(0, min(self.cache, self._room() - self.anon - self.shmem))
        self.on_actual(self.actual, when)

    def _deflate(self, amount: int, when: float, *, step: int = BATCH) -> None:
        amount = min(amount, self.balloon)
        if amount <= 0:
            return
        first = min(amount, step)
        if amount > first:
            self.balloon -= first
            self.on_actual(self.actual, when - (amount - first) / self.deflate_rate)
            self.balloon -= amount - first
        else:
            self.balloon -= first
        self.on_actual(self.actual, when)

    def _room(self) -> int:
        """Memory left for processes, tmpfs and cache, keeping the kernel's minimum free."""
        return self.total - self.kernel - self.balloon - self.min_free

    def _spare(self) -> int:
        return max(0, self._room() - self.anon - self.shmem - self.cache)

    def _inflatable(self) -> int:
        """How much more the balloon can take now: only memory nobody needs (cache goes)."""
        # A margin of another min_free keeps inflation from tipping the guest into OOM.
        spare = self._room() - self.min_free - self.anon - self.shmem
        return max(0, spare) // PAGE_SIZE * PAGE_SIZE

    def _collect_faults(self) -> None:
        whole = int(self._fault_debt)
        self.minor_faults += whole
        self._fault_debt -= whole


def _pages(amount: float) -> int:
    return int(amount) // PAGE_SIZE * PAGE_SIZE
