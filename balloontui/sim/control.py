"""A small text control socket for a running ``balloontui sim``: faults and pressure on demand.

The socket is ``DIR/sim-control`` (no ``.sock`` suffix, so globs for VM sockets skip it). Send one
command per line; each is answered with ``ok`` (after any output lines) or ``error: ...``::

    fault NAME KIND [ARG]     switch a fault on (kinds: see balloontui.sim.faults)
    clear NAME [KIND]         switch one fault (or all) off
    fill NAME SIZE [RATE]     write SIZE (e.g. 300M) into a tmpfs in the guest, at RATE per second
    release NAME [SIZE]       delete what fill wrote (all of it by default)
    actual NAME SIZE          the driver reports SIZE: query-balloon says it, and a BALLOON_CHANGE
                              goes out at once (not throttled); answers 'sent T', T the
                              time.monotonic() just after the event was written (for timing)
    list                      one line per VM: name, state, actual, target, faults
    help

For example: ``echo 'fault web-01 slow 500' | socat - UNIX-CONNECT:$DIR/sim-control``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import time

from balloontui.core.sizes import SizeError, format_size, parse_size
from balloontui.sim.faults import FaultError, parse_fault_arg, parse_fault_kind
from balloontui.sim.host import SimulatedHost

CONTROL_NAME = "sim-control"
HELP = __doc__.split("::", 1)[1].split("For example", 1)[0].strip("\n")


class ControlServer:
    """Serves the control socket of ``host``."""

    def __init__(self, host: SimulatedHost, path: str | None = None) -> None:
        self.host = host
        self.path = path or os.path.join(host.directory, CONTROL_NAME)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self._server = await asyncio.start_unix_server(self._serve, self.path)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1)
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                text = line.decode(errors="replace").strip()
                if text:
                    writer.write(self.run(text).encode())
                    await writer.drain()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            writer.close()

    def run(self, line: str) -> str:
        """Carry out one command line; the reply text, ending in a newline."""
        try:
            words = shlex.split(line)
            output = self._run(words[0].lower(), words[1:])
        except (FaultError, SizeError, ValueError, KeyError, IndexError) as err:
            message = f"no VM named {err}" if isinstance(err, KeyError) else str(err) or "?"
            return f"error: {message}\n"
        return "".join(f"{item}\n" for item in output) + "ok\n"

    def _run(self, verb: str, args: list[str]) -> list[str]:
        if verb == "help":
            return HELP.splitlines()
        if verb == "list":
            return [_describe(vm) for vm in self.host]
        vm = self.host.vm(args[0])
        if verb == "fault":
            arg = parse_fault_arg(args[2]) if len(args) > 2 else None
            vm.inject(parse_fault_kind(args[1]), arg)
        elif verb == "clear":
            vm.clear_fault(parse_fault_kind(args[1]) if len(args) > 1 else None)
        elif verb in ("fill", "release"):
            if vm.guest is None or not vm.alive:
                raise ValueError(f"{vm.name} is not running")
            if verb == "fill":
                rate = parse_size(args[2]) if len(args) > 2 else None
                vm.fill(parse_size(args[1]), **({"rate": rate} if rate else {}))
            else:
                vm.release(parse_size(args[1]) if len(args) > 1 else None)
        elif verb == "actual":
            return [f"sent {_report_actual(vm, parse_size(args[1])):.6f}"]
        else:
            raise ValueError(f"unknown command {verb!r}; try 'help'")
        return []


def _report_actual(vm, actual: int) -> float:  # type: ignore[no-untyped-def]
    """Make QEMU see ``actual`` as if the driver wrote it, and tell the client at once; the
    monotonic time just after the event was handed to the socket."""
    if vm.device is None or not vm.alive:
        raise ValueError(f"{vm.name} has no running balloon device")
    if not 0 < actual <= vm.device.memory:
        raise ValueError("actual must be between 1 byte and the VM's memory")
    vm.device.actual = actual
    vm.emit("BALLOON_CHANGE", {"actual": actual})
    return time.monotonic()


def _describe(vm) -> str:  # type: ignore[no-untyped-def]
    faults = ",".join(vm.active_faults) or "-"
    return (f"{vm.name} {vm.status} actual={format_size(vm.actual)} "
            f"target={format_size(vm.target)} faults={faults}")
