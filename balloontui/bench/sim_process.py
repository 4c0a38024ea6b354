"""A simulated QEMU host in a process of its own, so its CPU time is measured apart."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class SimProcess:
    def __init__(self, process: subprocess.Popen[bytes], directory: Path, count: int) -> None:
        self.process = process
        self.directory = directory
        self.count = count

    @property
    def sockets(self) -> list[str]:
        return sorted(str(p) for p in self.directory.glob("*.sock"))

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)


@contextmanager
def simulated_host(count: int, *, seed: int = 1, stats_interval: int | None = None,
                   extra: tuple[str, ...] = ()) -> Iterator[SimProcess]:
    """Run ``balloontui sim`` with ``count`` VMs until the block ends."""
    with tempfile.TemporaryDirectory(prefix="bt-bench-") as directory:
        args = [sys.executable, "-m", "balloontui", "sim", "--vms", str(count), "--dir",
                directory, "--seed", str(seed), *extra]
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        sim = SimProcess(process, Path(directory), count)
        try:
            deadline = time.monotonic() + 60 + count / 20
            while len(sim.sockets) < count:
                if process.poll() is not None:
                    raise RuntimeError(f"balloontui sim exited: {process.stderr.read()!r}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {len(sim.sockets)} of {count} sockets appeared")
                time.sleep(0.05)
            yield sim
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
