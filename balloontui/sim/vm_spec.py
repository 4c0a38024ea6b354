"""How a simulated VM is configured, and what it records: commands received, events sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from balloontui.core.sizes import MiB
from balloontui.sim.guest_model import DEFLATE_RATE, INFLATE_RATE
from balloontui.sim.workloads import WorkloadSpec


@dataclass(frozen=True, slots=True)
class VMSpec:
    """How a simulated VM is configured, like its QEMU command line."""

    name: str
    memory: int = 512 * MiB
    deflate_on_oom: bool = True
    has_balloon: bool = True
    has_driver: bool = True
    """The guest loads virtio_balloon (False: targets are accepted, nothing moves, no stats)."""
    workload: WorkloadSpec | None = None
    """None: an idle guest whose memory use does not change by itself."""
    initial_target: int | None = None
    """A target set before anyone looks (bytes); the balloon starts there."""
    stats_interval: int = 0
    """``guest-stats-polling-interval`` given on the command line."""
    swap: bool = False
    uuid: str | None = None
    named: bool = True
    """Started with ``-name`` (``query-name`` says ``{}`` otherwise)."""
    restart_after_death: float | None = None
    """Seconds until a VM whose guest died comes back on the same path; None: it stays dead."""
    boot_seconds: float = 3.5
    """From a (re)start or reset until the balloon driver loads."""
    inflate_rate: float = INFLATE_RATE
    deflate_rate: float = DEFLATE_RATE
    driver_latency: float = 0.004
    """From a new target to the driver's first batch."""


@dataclass(frozen=True, slots=True)
class CommandRecord:
    time: float
    """Loop time (:meth:`Clock.now`) when the command arrived."""
    command: str | None
    """None for input that was not a valid request."""
    arguments: Any
    id: Any


@dataclass(frozen=True, slots=True)
class EventRecord:
    time: float
    """Loop time when the event was sent (or dropped, with no client connected)."""
    name: str
    data: dict[str, Any] | None
    timestamp: float
    """QEMU's timestamp of the event (wall-clock seconds)."""
    delivered: bool
    """A negotiated client received it."""
