"""Measured programs as child processes: started, waited for, measured over a window, stopped.

Every child is stopped however a measurement ends (SIGTERM, then SIGKILL), and a child that does
not say it is ready in time fails the measurement with what it said.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from balloontui.bench.sim_process import process_cpu_seconds


class BenchError(RuntimeError):
    """A measurement could not be made (a child failed or timed out)."""


@dataclass
class Window:
    """CPU seconds a process used over ``seconds`` of wall time."""

    cpu: float
    seconds: float

    @property
    def cores(self) -> float:
        return self.cpu / self.seconds if self.seconds else 0.0


def measure_window(seconds: float, *pids: int,
                   during: Callable[[], None] | None = None) -> list[Window]:
    """CPU of each of ``pids`` over the next ``seconds`` (``during`` runs meanwhile, if given,
    and the window lasts at least as long as it does)."""
    before = [process_cpu_seconds(pid) for pid in pids]
    start = time.monotonic()
    if during is not None:
        during()
    remaining = seconds - (time.monotonic() - start)
    if remaining > 0:
        time.sleep(remaining)
    elapsed = time.monotonic() - start
    after = [process_cpu_seconds(pid) for pid in pids]
    return [Window(b - a, elapsed) for a, b in zip(before, after)]


class LineReader:
    """Lines from a child's stdout, with a timeout (the child must not block on a full pipe:
    these children write a line or two)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        self._fd = process.stdout.fileno()
        self._buffer = b""
        self.process = process

    def readline(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(f"{_name(self.process)}: no answer in {timeout:g} s")
            ready, _, _ = select.select([self._fd], [], [], left)
            if ready:
                data = os.read(self._fd, 65536)
                if not data:
                    raise BenchError(f"{_name(self.process)} exited "
                                     f"(code {self.process.wait()}): {self._buffer!r:.300}")
                self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode(errors="replace")


@contextmanager
def python_child(module: str, args: Sequence[str], *,
                 ready_timeout: float = 120) -> Iterator[tuple[subprocess.Popen[bytes],
                                                                LineReader]]:
    """``python -m module args...``, once it printed ``ready``."""
    process = subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        reader = LineReader(process)
        line = reader.readline(ready_timeout)
        if line.strip() != "ready":
            raise BenchError(f"{module}: expected 'ready', got {line!r:.200}")
        yield process, reader
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(5)
    except (OSError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
        process.wait(5)


def _name(process: subprocess.Popen[bytes]) -> str:
    args = process.args if isinstance(process.args, list) else [str(process.args)]
    return " ".join(str(a) for a in args[1:4])
