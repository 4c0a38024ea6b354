"""Finding a VM's balloon device and reading what it can do, once per connection.

QEMU 7.1+ lists virtio devices with ``x-query-virtio``; older ones are searched with ``qom-list``
under ``/machine/peripheral`` (devices with an id) and ``/machine/peripheral-anon`` (without).
The negotiated feature bits (what the guest driver accepted, e.g. deflate-on-oom) come from
``x-query-virtio-status``; the device properties from ``qom-get``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from balloontui.core.errors import CommandFailed, ProtocolFault
from balloontui.core.vm_state import BalloonFeatures

Call = Callable[..., Awaitable[Any]]
"""``await call(command, arguments=None)``: one QMP command with the session's timeout."""

_PARENTS = ("/machine/peripheral", "/machine/peripheral-anon")
_DRIVER_OK = "VIRTIO_CONFIG_S_DRIVER_OK"


async def read_actual(call: Call) -> int:
    """``query-balloon``'s ``actual``; raises CommandFailed(DeviceNotActive) without a balloon."""
    reply = await call("query-balloon")
    return expect_int(reply, "actual", "query-balloon")


async def find_balloon(call: Call) -> tuple[str, str | None]:
    """The balloon's QOM path and its virtio backend's path (None if QEMU cannot tell)."""
    try:
        devices = await call("x-query-virtio")
    except CommandFailed as err:
        if err.error_class != "CommandNotFound":
            raise
        return await _search_qom(call), None
    if not isinstance(devices, list):
        raise ProtocolFault(f"x-query-virtio: expected a list, got {type(devices).__name__}")
    for device in devices:
        if isinstance(device, dict) and device.get("name") == "virtio-balloon":
            backend = device.get("path")
            if not isinstance(backend, str):
                raise ProtocolFault("x-query-virtio: a device without a path")
            # Properties live on the proxy (virtio-balloon-pci, ...); the backend is its child.
            return backend.removesuffix("/virtio-backend"), backend
    return await _search_qom(call), None


async def read_features(call: Call, path: str, backend: str | None) -> BalloonFeatures:
    features = BalloonFeatures(present=True, path=path, backend_path=backend)
    features.deflate_on_oom = await _optional_bool(call, path, "deflate-on-oom")
    features.free_page_hint = await _optional_bool(call, path, "free-page-hint")
    features.free_page_reporting = await _optional_bool(call, path, "free-page-reporting")
    features.negotiated = await read_negotiated(call, backend)
    return features


async def read_negotiated(call: Call, backend: str | None) -> frozenset[str] | None:
    """Feature bits the guest driver accepted; None before the driver is ready or if unknown."""
    if backend is None:
        return None
    try:
        status = await call("x-query-virtio-status", {"path": backend})
    except CommandFailed:
        return None
    if not isinstance(status, dict):
        raise ProtocolFault("x-query-virtio-status: expected an object")
    statuses = (status.get("status") or {}).get("statuses") or []
    if not any(isinstance(s, str) and s.startswith(_DRIVER_OK) for s in statuses):
        return None
    names = (status.get("guest-features") or {}).get("dev-features") or []
    if not isinstance(names, list):
        raise ProtocolFault("x-query-virtio-status: dev-features is not a list")
    # Each entry reads "VIRTIO_BALLOON_F_DEFLATE_ON_OOM: Deflate balloon when guest OOM".
    return frozenset(str(name).split(":", 1)[0].strip() for name in names)


async def read_stats_interval(call: Call, path: str) -> int:
    reply = await call("qom-get", {"path": path, "property": "guest-stats-polling-interval"})
    if not isinstance(reply, int) or isinstance(reply, bool):
        raise ProtocolFault(f"guest-stats-polling-interval: not a number: {reply!r:.80}")
    return reply


async def _search_qom(call: Call) -> str:
    for parent in _PARENTS:
        try:
            children = await call("qom-list", {"path": parent})
        except CommandFailed:
            continue
        if not isinstance(children, list):
            raise ProtocolFault(f"qom-list {parent}: expected a list")
        for child in children:
            if not isinstance(child, dict):
                continue
            kind = child.get("type", "")
            if isinstance(kind, str) and kind.startswith("child<virtio-balloon"):
                return f"{parent}/{child.get('name')}"
    raise CommandFailed("qom-list", "DeviceNotFound", "no virtio-balloon device found")


async def _optional_bool(call: Call, path: str, prop: str) -> bool | None:
    try:
        value = await call("qom-get", {"path": path, "property": prop})
    except CommandFailed:
        return None  # an older QEMU without this property
    if not isinstance(value, bool):
        raise ProtocolFault(f"{prop}: expected true or false, got {value!r:.80}")
    return value


def expect_int(reply: Any, key: str, command: str) -> int:
    """``reply[key]`` as a non-negative integer, or a ProtocolFault that says what came."""
    if not isinstance(reply, dict) or key not in reply:
        raise ProtocolFault(f"{command}: no '{key}' in the reply {reply!r:.80}")
    value = reply[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProtocolFault(f"{command}: '{key}' is not a size: {value!r:.80}")
    return value


def expect_dict(reply: Any, command: str) -> dict[str, Any]:
    if not isinstance(reply, dict):
        raise ProtocolFault(f"{command}: expected an object, got {reply!r:.80}")
    return reply
