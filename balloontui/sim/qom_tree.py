"""The part of a VM's QOM tree that balloon tools look at, with QEMU's path rules.

Paths are absolute (``/machine/peripheral/balloon0``) or partial (``balloon0``, ``peripheral``),
resolved like ``object_resolve_path``; empty components are ignored. Listings are QEMU 7.2's own.
Only the balloon's objects have readable properties beyond ``type``: other objects answer that
the property is not found (a real QEMU would show values the simulator does not model).
"""

from __future__ import annotations

from typing import Any

from balloontui.sim import qemu72
from balloontui.sim.balloon_device import BACKEND_TYPE, PCI_TYPE, BalloonDevice
from balloontui.sim.qmp_server import QMPError

_CONTAINERS = {
    "/": "container",
    "/machine": "pc-i440fx-7.2-machine",
    "/machine/peripheral": "container",
    "/machine/peripheral-anon": "container",
}


class QOMTree:
    """``qom-list``/``qom-get``/``qom-set`` for a VM with (or without) a balloon device."""

    def __init__(self, device: BalloonDevice | None) -> None:
        self.device = device
        self._types = dict(_CONTAINERS)
        if device is not None:
            self._types[device.path] = PCI_TYPE
            self._types[device.backend_path] = BACKEND_TYPE

    def resolve(self, path: str) -> str:
        """The canonical path of ``path``; DeviceNotFound as QEMU says it when there is none."""
        parts = [part for part in path.split("/") if part]
        if path.startswith("/"):
            canonical = "/" + "/".join(parts)
            if canonical in self._types:
                return canonical
        elif parts:
            suffix = "/" + "/".join(parts)
            matches = [known for known in self._types if known.endswith(suffix)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise QMPError("GenericError", f"Path '{path}' is ambiguous")
        raise QMPError("DeviceNotFound", f"Device '{path}' not found")

    def list(self, path: str) -> list[dict[str, str]]:
        canonical = self.resolve(path)
        if canonical == "/":
            return _pairs(qemu72.ROOT_LIST)
        if canonical == "/machine":
            return _pairs(qemu72.MACHINE_LIST)
        if canonical == "/machine/peripheral":
            entries = [{"name": "type", "type": "string"}]
            if self.device is not None:
                entries.append({"name": self.device.device_id, "type": f"child<{PCI_TYPE}>"})
            return entries
        if canonical == "/machine/peripheral-anon":
            return [{"name": "type", "type": "string"}]
        assert self.device is not None
        return [{"name": name, "type": kind} for name, kind, _, _ in
                self.device.properties(canonical)]

    def get(self, path: str, name: str) -> Any:
        canonical = self.resolve(path)
        if self._is_balloon(canonical):
            assert self.device is not None
            return self.device.get(canonical, name)
        if name == "type":
            return self._types[canonical]
        raise QMPError("GenericError", f"Property '{self._types[canonical]}.{name}' not found")

    def set(self, path: str, name: str, value: Any) -> None:
        canonical = self.resolve(path)
        if self._is_balloon(canonical):
            assert self.device is not None
            self.device.set(canonical, name, value)
            return
        type_name = self._types[canonical]
        if name == "type":
            raise QMPError("GenericError", f"Property '{type_name}.type' is not writable")
        raise QMPError("GenericError", f"Property '{type_name}.{name}' not found")

    def _is_balloon(self, canonical: str) -> bool:
        return self.device is not None and canonical in (self.device.path,
                                                         self.device.backend_path)


def _pairs(rows: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"name": name, "type": kind} for name, kind in rows]
