"""The QMP commands a simulated QEMU 7.2 answers, with QEMU's argument checks and error texts.

Arguments are checked the way QEMU's generated marshallers do: each parameter in schema order
("Parameter 'value' is missing", "Invalid parameter type for 'value', expected: integer"), then
any extra one ("Parameter 'x' is unexpected"); only then does the command itself run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from balloontui.sim import qemu72
from balloontui.sim.qmp_server import QMPError, Reply

if TYPE_CHECKING:
    from balloontui.sim.vm import SimulatedVM

INT64 = range(-(2**63), 2**63)

_TYPE_NAMES = {"int": "integer", "str": "string", "bool": "boolean", "any": "any"}

Schema = tuple[tuple[str, str], ...]
"""(parameter, type) pairs, all required."""


def _matches(kind: str, value: Any) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and value in INT64
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    return True


def check_arguments(arguments: dict[str, Any], schema: Schema) -> dict[str, Any]:
    """QEMU's input visitor over ``arguments``: the checked values, or its exact error."""
    for name, kind in schema:
        if name not in arguments:
            raise QMPError("GenericError", f"Parameter '{name}' is missing")
        if not _matches(kind, arguments[name]):
            raise QMPError("GenericError",
                           f"Invalid parameter type for '{name}', expected: {_TYPE_NAMES[kind]}")
    known = {name for name, _ in schema}
    for name in arguments:
        if name not in known:
            raise QMPError("GenericError", f"Parameter '{name}' is unexpected")
    return arguments


class MonitorCommands:
    """Answers QMP commands for one :class:`~balloontui.sim.vm.SimulatedVM`."""

    def __init__(self, vm: SimulatedVM) -> None:
        self.vm = vm
        self._handlers: dict[str, tuple[Schema, Callable[[dict[str, Any]], Any]]] = {
            "query-status": ((), self.query_status),
            "query-name": ((), self.query_name),
            "query-uuid": ((), self.query_uuid),
            "query-version": ((), lambda _: qemu72.VERSION),
            "query-memory-size-summary": ((), self.query_memory_size_summary),
            "query-balloon": ((), self.query_balloon),
            "balloon": ((("value", "int"),), self.balloon),
            "qom-list": ((("path", "str"),), self.qom_list),
            "qom-get": ((("path", "str"), ("property", "str")), self.qom_get),
            "qom-set": ((("path", "str"), ("property", "str"), ("value", "any")), self.qom_set),
            "x-query-virtio": ((), self.x_query_virtio),
            "x-query-virtio-status": ((("path", "str"),), self.x_query_virtio_status),
            "stop": ((), self.stop),
            "cont": ((), self.cont),
            "system_reset": ((), self.system_reset),
            "quit": ((), self.quit),
        }

    def record_command(self, command: str | None, arguments: Any, request_id: Any) -> None:
        self.vm.record_command(command, arguments, request_id)

    def execute(self, command: str, arguments: dict[str, Any]) -> Any:
        entry = self._handlers.get(command)
        if entry is None:
            raise QMPError("CommandNotFound", f"The command {command} has not been found")
        schema, handler = entry
        return handler(check_arguments(arguments, schema))

    def query_status(self, _: dict[str, Any]) -> dict[str, Any]:
        status = self.vm.status
        return {"status": status, "singlestep": False, "running": status == "running"}

    def query_name(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"name": self.vm.name} if self.vm.spec.named else {}

    def query_uuid(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"UUID": self.vm.spec.uuid or "00000000-0000-0000-0000-000000000000"}

    def query_memory_size_summary(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"base-memory": self.vm.spec.memory, "plugged-memory": 0}

    def query_balloon(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"actual": self._device().actual}

    def balloon(self, arguments: dict[str, Any]) -> None:
        device = self._device()
        value = arguments["value"]
        if value <= 0:
            raise QMPError("GenericError", "Parameter 'target' expects a size")
        device.set_target(value)
        self.vm.target_changed()

    def qom_list(self, arguments: dict[str, Any]) -> list[dict[str, str]]:
        return self.vm.tree.list(arguments["path"])

    def qom_get(self, arguments: dict[str, Any]) -> Any:
        return self.vm.tree.get(arguments["path"], arguments["property"])

    def qom_set(self, arguments: dict[str, Any]) -> None:
        device = self.vm.device
        old = device.poll_interval if device is not None else 0
        self.vm.tree.set(arguments["path"], arguments["property"], arguments["value"])
        self.vm.poll_interval_changed(old)

    def x_query_virtio(self, _: dict[str, Any]) -> list[dict[str, str]]:
        device = self.vm.device
        if device is None:
            return []
        return [{"name": "virtio-balloon", "path": device.backend_path}]

    def x_query_virtio_status(self, arguments: dict[str, Any]) -> dict[str, Any]:
        device = self.vm.device
        path = arguments["path"]
        if device is None or path != device.backend_path:
            raise QMPError("GenericError", f"Path {path} is not a VirtIODevice")
        return device.virtio_status()

    def stop(self, _: dict[str, Any]) -> None:
        self.vm.pause()

    def cont(self, _: dict[str, Any]) -> None:
        self.vm.resume()

    def system_reset(self, _: dict[str, Any]) -> None:
        self.vm.system_reset()

    def quit(self, _: dict[str, Any]) -> Reply:
        self.vm.emit("SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"})
        return Reply({}, after=self.vm.exit_later)

    def _device(self) -> Any:
        device = self.vm.device
        if device is None:
            raise QMPError("DeviceNotActive", "No balloon device has been activated")
        return device
