"""The guest's own memory statistics, as QEMU relays them from the balloon's stats queue.

QEMU reports every ``stat-*`` key it knows; a stat the guest has not (yet) reported is 2^64-1
(some tools show it as -1), and ``last-update`` 0 means the guest never reported. Newer QEMUs add
keys (9.2: ``stat-oom-kills``, ``stat-alloc-stalls``, ...): we keep whatever comes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from balloontui.core.errors import ProtocolFault

NOT_REPORTED = (1 << 64) - 1

# Counters (ever growing) whose rate per second we show; swap counters are bytes, faults counts.
RATE_KEYS = ("stat-swap-in", "stat-swap-out", "stat-major-faults", "stat-minor-faults")


@dataclass(frozen=True, slots=True)
class GuestStats:
    """One report from the guest. ``values`` maps QEMU's keys to numbers, None when unreported."""

    values: dict[str, int | None]
    last_update: int | None
    """Host wall-clock second of the guest's last report; None if it never reported."""

    def get(self, key: str) -> int | None:
        return self.values.get(key)

    @property
    def available(self) -> int | None:
        return self.values.get("stat-available-memory")

    @property
    def free(self) -> int | None:
        return self.values.get("stat-free-memory")

    @property
    def caches(self) -> int | None:
        return self.values.get("stat-disk-caches")

    @property
    def total(self) -> int | None:
        return self.values.get("stat-total-memory")

    @property
    def used(self) -> int | None:
        """What the guest uses and cannot give back at once: total minus available."""
        if self.total is None or self.available is None:
            return None
        return max(0, self.total - self.available)

    def age(self, wall_now: float) -> float | None:
        """Seconds since the guest's last report; None if it never reported."""
        if self.last_update is None:
            return None
        return max(0.0, wall_now - self.last_update)


@dataclass(frozen=True, slots=True)
class StatRates:
    """Per-second rates between two reports; None where either report lacks the counter."""

    swap_in: float | None
    swap_out: float | None
    major_faults: float | None
    minor_faults: float | None


def parse_guest_stats(reply: Any) -> GuestStats:
    """Turn a ``qom-get guest-stats`` reply into :class:`GuestStats`; bad shapes raise."""
    if not isinstance(reply, dict) or not isinstance(reply.get("stats"), dict):
        raise ProtocolFault(f"guest-stats: expected {{'stats': {{...}}, ...}}, got {_short(reply)}")
    last_update = reply.get("last-update")
    if not _is_int(last_update):
        raise ProtocolFault(f"guest-stats: 'last-update' is not a number: {_short(last_update)}")
    values: dict[str, int | None] = {}
    for key, value in reply["stats"].items():
        if not isinstance(key, str) or not _is_int(value):
            raise ProtocolFault(f"guest-stats: {_short(key)} is not a number: {_short(value)}")
        values[key] = None if value in (NOT_REPORTED, -1) or value < 0 else value
    return GuestStats(values, last_update or None)


def stat_rates(previous: GuestStats | None, current: GuestStats) -> StatRates | None:
    """Rates of the counters between two distinct reports, by the guest's own report times."""
    if previous is None or previous.last_update is None or current.last_update is None:
        return None
    elapsed = current.last_update - previous.last_update
    if elapsed <= 0:
        return None

    def rate(key: str) -> float | None:
        before, after = previous.values.get(key), current.values.get(key)
        if before is None or after is None or after < before:
            return None  # unreported, or the guest restarted and its counters began again
        return (after - before) / elapsed

    return StatRates(*(rate(key) for key in RATE_KEYS))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
