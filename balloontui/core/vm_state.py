"""What we know about one VM's balloon at a moment: the state a session keeps and the UI shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from balloontui.core.addresses import VMAddress
from balloontui.core.guest_stats import GuestStats, StatRates

DEFLATE_ON_OOM = "VIRTIO_BALLOON_F_DEFLATE_ON_OOM"
STATS_VQ = "VIRTIO_BALLOON_F_STATS_VQ"
FREE_PAGE_HINT = "VIRTIO_BALLOON_F_FREE_PAGE_HINT"
FREE_PAGE_REPORTING = "VIRTIO_BALLOON_F_REPORTING"


class Link(Enum):
    """How our connection to the VM's monitor stands."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    UNREACHABLE = "unreachable"
    BUSY = "monitor busy"
    NOT_RESPONDING = "not responding"
    DISCONNECTED = "disconnected"
    PROTOCOL_ERROR = "protocol error"

    @property
    def is_trouble(self) -> bool:
        return self not in (Link.CONNECTING, Link.CONNECTED)


class TargetSource(Enum):
    """Where the target we show comes from; QMP cannot read it back."""

    SET_HERE = "set here"
    REMEMBERED = "remembered"
    """Set by us (or another balloontui) earlier, on this same QEMU process."""


@dataclass(slots=True)
class BalloonFeatures:
    """The balloon device and what it can do. None means not known (yet)."""

    present: bool | None = None
    path: str | None = None
    """QOM path of the balloon device, e.g. ``/machine/peripheral/balloon0``."""
    backend_path: str | None = None
    """QOM path of its virtio backend, for ``x-query-virtio-status``."""
    deflate_on_oom: bool | None = None
    """The device property as configured on QEMU's command line."""
    free_page_hint: bool | None = None
    free_page_reporting: bool | None = None
    negotiated: frozenset[str] | None = None
    """Feature bits the guest driver accepted (e.g. ``VIRTIO_BALLOON_F_DEFLATE_ON_OOM``); None
    when unknown: no driver loaded yet, or a QEMU without ``x-query-virtio``."""

    @property
    def deflate_on_oom_active(self) -> bool | None:
        """Whether the guest may deflate by itself: negotiated if known, else as configured."""
        if self.negotiated is not None:
            return DEFLATE_ON_OOM in self.negotiated
        return self.deflate_on_oom


@dataclass(slots=True)
class VMState:
    """One VM as its session sees it now. Sizes are bytes; None means unknown, never 0."""

    address: VMAddress
    name: str
    link: Link = Link.CONNECTING
    link_message: str = ""
    run_state: str | None = None
    """QEMU's status: ``running``, ``paused``, ``shutdown``, ``guest-panicked``, ..."""
    uuid: str | None = None
    qemu_version: str | None = None
    memory: int | None = None
    actual: int | None = None
    target: int | None = None
    target_source: TargetSource | None = None
    target_set_at: float | None = None
    features: BalloonFeatures = field(default_factory=BalloonFeatures)
    stats: GuestStats | None = None
    rates: StatRates | None = None
    stats_interval: int | None = None
    stall: str | None = None
    """Why the balloon is not reaching its target, while it is stuck; else None."""
    changed_elsewhere: bool = False
    deflated_by_guest: int | None = None
    """Bytes the guest took back from the balloon by deflate-on-oom since the target was set."""
    in_episode: bool = False

    @property
    def balloon_size(self) -> int | None:
        if self.memory is None or self.actual is None:
            return None
        return max(0, self.memory - self.actual)

    @property
    def paused(self) -> bool:
        return self.run_state not in (None, "running")

    @property
    def can_steer(self) -> bool:
        return self.link is Link.CONNECTED and self.features.present is True

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view, for ``balloontui stat --json`` and recordings."""
        stats = self.stats
        return {
            "name": self.name,
            "address": str(self.address),
            "link": self.link.value,
            "message": self.link_message or None,
            "state": self.run_state,
            "uuid": self.uuid,
            "qemu": self.qemu_version,
            "memory": self.memory,
            "actual": self.actual,
            "target": self.target,
            "target_source": self.target_source.value if self.target_source else None,
            "balloon": self.balloon_size,
            "balloon_device": self.features.path,
            "features": {
                "deflate_on_oom": self.features.deflate_on_oom,
                "free_page_hint": self.features.free_page_hint,
                "free_page_reporting": self.features.free_page_reporting,
                "negotiated": sorted(self.features.negotiated)
                if self.features.negotiated is not None else None,
            },
            "stats_interval": self.stats_interval,
            "stats": None if stats is None else {
                "last_update": stats.last_update,
                **{key.removeprefix("stat-"): value for key, value in stats.values.items()},
            },
            "stall": self.stall,
            "changed_elsewhere": self.changed_elsewhere,
            "deflated_by_guest": self.deflated_by_guest,
        }
