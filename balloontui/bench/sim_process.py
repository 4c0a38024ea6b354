"""A simulated QEMU host in a process of its own, so its CPU time is measured apart."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from balloontui.core.sizes import parse_size

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads, not its children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass(frozen=True)
class SimulatedVMInfo:
    """One line of ``balloontui sim``'s listing."""

    socket: str
    name: str
    memory: int
    details: str

    @property
    def has_balloon(self) -> bool:
        return "no balloon device" not in self.details

    @property
    def ballooned(self) -> bool:
        """Started with a target below its memory (the guest may move its balloon later)."""
        return "target" in self.details


class SimProcess:
    def __init__(self, process: subprocess.Popen[str], directory: Path,
                 vms: list[SimulatedVMInfo]) -> None:
        self.process = process
        self.directory = directory
        self.vms = vms
        self._control: socket.socket | None = None
        self._control_lock = threading.Lock()

    @property
    def sockets(self) -> list[str]:
        return [vm.socket for vm in self.vms]

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)

    def quiet_vm(self) -> SimulatedVMInfo:
        """A VM with a balloon whose guest leaves its balloon alone (no target set at start):
        its ``actual`` changes only when we say so."""
        return next(vm for vm in self.vms if vm.has_balloon and not vm.ballooned)

    def control(self, line: str, timeout: float = 5.0) -> list[str]:
        """Send one line to the control socket; the reply's lines before ``ok``."""
        with self._control_lock:
            if self._control is None:
                self._control = socket.socket(socket.AF_UNIX)
                self._control.settimeout(timeout)
                self._control.connect(str(self.directory / "sim-control"))
            self._control.sendall(line.encode() + b"\n")
            reply = b""
            while not (reply.endswith(b"ok\n") or b"error:" in reply):
                chunk = self._control.recv(65536)
                if not chunk:
                    raise RuntimeError("the simulator closed its control socket")
                reply += chunk
        lines = reply.decode().splitlines()
        if lines and lines[-1].startswith("error:"):
            raise RuntimeError(f"simulator: {line!r}: {lines[-1]}")
        return lines[:-1]

    def close_control(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None


@contextmanager
def simulated_host(count: int, *, seed: int = 1, stats_interval: int | None = None,
                   extra: tuple[str, ...] = ()) -> Iterator[SimProcess]:
    """Run ``balloontui sim`` with ``count`` VMs (guest stats every ``stats_interval`` seconds
    on every VM, if given) until the block ends."""
    with tempfile.TemporaryDirectory(prefix="bt-bench-") as directory:
        args = [sys.executable, "-m", "balloontui", "sim", "--vms", str(count), "--dir",
                directory, "--seed", str(seed), *extra]
        if stats_interval is not None:
            args += ["--stats-interval", str(stats_interval)]
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True)
        sim: SimProcess | None = None
        try:
            sim = SimProcess(process, Path(directory), _read_listing(process, count))
            yield sim
        finally:
            if sim is not None:
                sim.close_control()
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _read_listing(process: subprocess.Popen[str], count: int) -> list[SimulatedVMInfo]:
    """The simulator prints one line per socket once every socket listens."""
    deadline = time.monotonic() + 60 + count / 20
    found: list[SimulatedVMInfo] = []
    result: list[BaseException] = []

    def read() -> None:
        try:
            assert process.stdout is not None
            while len(found) < count:
                line = process.stdout.readline()
                if not line:
                    raise RuntimeError(f"balloontui sim exited (code {process.poll()})")
                path, name, number, unit, *rest = line.split()
                found.append(SimulatedVMInfo(path, name, parse_size(number + unit),
                                             " ".join(rest)))
        except BaseException as err:  # noqa: BLE001 - handed to the waiting thread
            result.append(err)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(max(0.0, deadline - time.monotonic()))
    if result:
        raise result[0]
    if reader.is_alive():
        raise RuntimeError(f"only {len(found)} of {count} simulated VMs appeared in time")
    return found
