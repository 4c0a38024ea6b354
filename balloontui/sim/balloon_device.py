"""QEMU's side of a ``virtio-balloon-pci`` device: target, ``actual``, properties, feature bits.

This is what QEMU itself knows, not what the guest does: the target the host asked for (kept
across guest resets), the ``actual`` the driver last wrote (also kept: after a reset QEMU shows
the old value until the driver writes again), the last statistics the guest reported, the
properties readable with ``qom-get`` and the virtio status of ``x-query-virtio-status``.
"""

from __future__ import annotations

from typing import Any

from balloontui.core.sizes import PAGE_SIZE
from balloontui.sim import qemu72
from balloontui.sim.qmp_server import QMPError

PCI_TYPE = "virtio-balloon-pci"
BACKEND_TYPE = "virtio-balloon-device"
MAX_POLL_INTERVAL = 0xFFFFFFFF


class BalloonDevice:
    """``-device virtio-balloon-pci,id=balloon0,deflate-on-oom=...`` on a VM with ``memory``."""

    def __init__(self, memory: int, *, deflate_on_oom: bool, stats_interval: int = 0,
                 device_id: str = "balloon0") -> None:
        self.memory = memory
        self.deflate_on_oom = deflate_on_oom
        self.device_id = device_id
        self.path = f"/machine/peripheral/{device_id}"
        self.backend_path = f"{self.path}/virtio-backend"
        self.target = memory
        """The target asked with ``balloon`` (bytes, whole pages below memory)."""
        self.actual = memory
        """What ``query-balloon`` shows: memory minus the pages the driver reported."""
        self.poll_interval = stats_interval
        self.stats: dict[str, int] | None = None
        self.last_update = 0
        self.driver_ok = False
        """The guest driver set DRIVER_OK (features negotiated)."""
        self.guest_deflate_on_oom = False
        self.vm_running = True

    def set_target(self, value: int) -> int:
        """``balloon value=…``: clamp to memory, keep whole pages; the balloon's size in bytes."""
        target = min(value, self.memory)
        pages = (self.memory - target) // PAGE_SIZE
        self.target = self.memory - pages * PAGE_SIZE
        return pages * PAGE_SIZE

    @property
    def target_balloon(self) -> int:
        return self.memory - self.target

    def record_stats(self, stats: dict[str, int], wall: float) -> None:
        self.stats = dict(stats)
        self.last_update = int(wall)

    def driver_loaded(self, *, deflate_on_oom: bool) -> None:
        self.driver_ok = True
        self.guest_deflate_on_oom = deflate_on_oom

    def driver_gone(self) -> None:
        """Reset of the virtio device (guest reboot, driver removed): nothing negotiated."""
        self.driver_ok = False
        self.guest_deflate_on_oom = False

    # QOM properties.

    def properties(self, path: str) -> tuple[tuple[str, str, str, Any], ...]:
        return qemu72.PCI_PROPERTIES if path == self.path else qemu72.BACKEND_PROPERTIES

    def get(self, path: str, name: str) -> Any:
        type_name = PCI_TYPE if path == self.path else BACKEND_TYPE
        row = self._row(path, name, type_name)
        dynamic = self._dynamic(name)
        if dynamic is not _STATIC:
            return dynamic
        value = row[3]
        if value is None:
            raise QMPError("GenericError", f"Property '{BACKEND_TYPE}.{name}' is not readable")
        if value == "{child}":
            value = f"{path}/{name}"
        elif isinstance(value, str):
            value = value.replace("{path}", self.path)
        return value

    def set(self, path: str, name: str, value: Any) -> None:
        type_name = PCI_TYPE if path == self.path else BACKEND_TYPE
        _, _, rule, _ = self._row(path, name, type_name)
        if rule == "ro":
            raise QMPError("GenericError", f"Property '{type_name}.{name}' is not writable")
        if rule == "ro-backend":
            raise QMPError("GenericError", f"Property '{BACKEND_TYPE}.{name}' is not writable")
        if rule == "realized-pci":
            raise QMPError("GenericError",
                           f"Attempt to set property '{name}' on device '{self.device_id}' "
                           f"(type '{PCI_TYPE}') after it was realized")
        if rule == "realized-backend":
            raise QMPError("GenericError",
                           f"Attempt to set property '{name}' on anonymous device "
                           f"(type '{BACKEND_TYPE}') after it was realized")
        if rule == "realized-link":
            raise QMPError("GenericError",
                           f"Attempt to set link property '{name}' on device '(null)' "
                           f"(type '{BACKEND_TYPE}') after it was realized")
        if rule == "interval":
            self.set_poll_interval(value)
        elif not isinstance(value, bool):  # "realized": accepted, and changes nothing here
            raise QMPError("GenericError",
                           f"Invalid parameter type for '{name}', expected: boolean")

    def set_poll_interval(self, value: Any) -> None:
        """QEMU's ``balloon_stats_set_poll_interval`` checks, in its order."""
        if not isinstance(value, int) or isinstance(value, bool) or not -2**63 <= value < 2**64:
            raise QMPError("GenericError", "Invalid parameter type for "
                           "'guest-stats-polling-interval', expected: integer")
        if value < 0:
            raise QMPError("GenericError", "timer value must be greater than zero")
        if value > MAX_POLL_INTERVAL:
            raise QMPError("GenericError", "timer value is too big")
        self.poll_interval = value

    def guest_stats(self) -> dict[str, Any]:
        if self.stats is None:
            stats = dict.fromkeys(qemu72.STAT_KEYS, qemu72.STATS_UNKNOWN)
        else:
            stats = {key: self.stats.get(key, qemu72.STATS_UNKNOWN) for key in qemu72.STAT_KEYS}
        return {"stats": stats, "last-update": self.last_update}

    def _row(self, path: str, name: str, type_name: str) -> tuple[str, str, str, Any]:
        for row in self.properties(path):
            if row[0] == name:
                return row
        raise QMPError("GenericError", f"Property '{type_name}.{name}' not found")

    def _dynamic(self, name: str) -> Any:
        if name == "deflate-on-oom":
            return self.deflate_on_oom
        if name in ("free-page-hint", "free-page-reporting"):
            return False
        if name == "guest-stats-polling-interval":
            return self.poll_interval
        if name == "guest-stats":
            return self.guest_stats()
        return _STATIC

    # virtio.

    def virtio_status(self) -> dict[str, Any]:
        """``x-query-virtio-status`` of the backend, as QEMU 7.2 prints it."""
        host_features = [qemu72.FEATURE_PAGE_POISON]
        if self.deflate_on_oom:
            host_features.append(qemu72.FEATURE_DEFLATE_ON_OOM)
        host_features.append(qemu72.FEATURE_STATS_VQ)
        if self.driver_ok:
            guest_features: dict[str, Any] = {
                "unknown-dev-features": qemu72.GUEST_UNKNOWN_DEV_FEATURES,
                "dev-features": ([qemu72.FEATURE_DEFLATE_ON_OOM]
                                 if self.guest_deflate_on_oom else [])
                + [qemu72.FEATURE_STATS_VQ],
                "transports": list(qemu72.GUEST_TRANSPORTS),
            }
        else:
            guest_features = {"dev-features": [], "transports": []}
        return {
            "device-endian": "little",
            "bus-name": "",
            "disable-legacy-check": False,
            "name": "virtio-balloon",
            "started": self.driver_ok,
            "device-id": 5,
            "backend-features": {"dev-features": [], "transports": []},
            "start-on-kick": False,
            "isr": 0,
            "broken": False,
            "status": {"statuses": list(qemu72.VIRTIO_STATUSES) if self.driver_ok else []},
            "num-vqs": 3,
            "guest-features": guest_features,
            "host-features": {
                "unknown-dev-features": qemu72.HOST_UNKNOWN_DEV_FEATURES,
                "dev-features": host_features,
                "transports": list(qemu72.HOST_TRANSPORTS),
            },
            "use-guest-notifier-mask": True,
            "vm-running": self.vm_running,
            "queue-sel": 2 if self.driver_ok else 0,
            "disabled": not self.driver_ok,
            "vhost-started": False,
            "use-started": True,
        }


_STATIC = object()
