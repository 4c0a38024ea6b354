"""A program in a real pseudo-terminal, its output read continuously and timed.

One thread reads the terminal as fast as the program writes (so the program never blocks on a
full terminal) and stamps each chunk with ``time.monotonic()`` as it arrives; a second thread
feeds the chunks, in order, to a terminal emulator (``pyte``) and checks the conditions a
measurement waits for, so the cost of emulating never delays the timestamps. A condition is
met at the arrival time of the chunk after which the screen first satisfied it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import queue
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from balloontui.bench.sim_process import process_cpu_seconds

ScreenCheck = Callable[[list[str]], bool]
"""A condition on the screen's lines (what a person would read; colours ignored)."""


def _pyte() -> Any:
    try:
        import pyte
    except ImportError:
        raise SystemExit("the benchmark reads the terminal with pyte: pip install pyte "
                         "(or pip install 'balloontui[bench]')") from None
    return pyte


def terminal_environment(home: Path) -> dict[str, str]:
    """An environment like an operator's terminal, with XDG directories of its own."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("XDG_", "TEXTUAL", "COLORTERM", "NO_COLOR", "LC_"))}
    env.update(TERM="xterm-256color", LANG="C.UTF-8")
    for name in ("CONFIG", "STATE", "DATA", "CACHE"):
        path = home / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[f"XDG_{name}_HOME"] = str(path)
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    return env


class _Watch:
    __slots__ = ("check", "met_at", "done")

    def __init__(self, check: ScreenCheck) -> None:
        self.check = check
        self.met_at: float | None = None
        self.done = threading.Event()


class TerminalProcess:
    """``argv`` running in a ``columns`` × ``rows`` pseudo-terminal until :meth:`close`.

    ``emulate=False`` only counts bytes (no screen, no emulator cost)."""

    def __init__(self, argv: Sequence[str], *, columns: int, rows: int,
                 env: dict[str, str] | None = None, emulate: bool = True) -> None:
        self.columns, self.rows = columns, rows
        # Our reader thread must get the GIL soon after its read returns, even while the
        # emulator thread parses: a short switch interval keeps the timestamps within ~1 ms.
        sys.setswitchinterval(0.001)
        self._home = tempfile.TemporaryDirectory(prefix="bt-bench-term-")
        environment = terminal_environment(Path(self._home.name))
        environment.update(env or {})
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._master = master
        self.started_at = time.monotonic()
        try:
            self.process = subprocess.Popen(
                list(argv), stdin=slave, stdout=slave, stderr=slave, env=environment,
                start_new_session=True, close_fds=True, preexec_fn=_take_terminal)
        finally:
            os.close(slave)
        self._lock = threading.Lock()
        self.chunks: list[tuple[float, int]] = []
        """(arrival time, bytes) of every chunk read."""
        self.total_bytes = 0
        self._emulate = emulate
        self._watches: list[_Watch] = []
        self._queue: queue.SimpleQueue[tuple[float, bytes] | None] = queue.SimpleQueue()
        if emulate:
            pyte = _pyte()
            self.screen = pyte.Screen(columns, rows)
            self._stream = pyte.ByteStream(self.screen)
            self._emulator = threading.Thread(target=self._emulate_loop, daemon=True,
                                              name="terminal emulator")
            self._emulator.start()
        self._reader = threading.Thread(target=self._read_loop, daemon=True,
                                        name="terminal reader")
        self._reader.start()

    # -- what the measurements use -----------------------------------------------------------------

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU of the program (all its threads), never ours."""
        return process_cpu_seconds(self.process.pid)

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, data: bytes) -> float:
        """Type ``data``; the monotonic time just after it was written."""
        os.write(self._master, data)
        return time.monotonic()

    def stop_emulating(self) -> None:
        """Only count bytes from now on (the screen stays as it was): no emulator cost."""
        self._emulate = False

    def lines(self) -> list[str]:
        with self._lock:
            return list(self.screen.display)

    def watch(self, check: ScreenCheck) -> _Watch:
        """Start watching for ``check``; it is tested on the current screen at once."""
        item = _Watch(check)
        with self._lock:
            if check(self.screen.display):
                item.met_at = time.monotonic()
                item.done.set()
            else:
                self._watches.append(item)
        return item

    def wait(self, item: _Watch, timeout: float) -> float | None:
        """The arrival time of the output that met the condition, or None after ``timeout``."""
        if not item.done.wait(timeout):
            with self._lock:
                if item in self._watches:
                    self._watches.remove(item)
            return None
        return item.met_at

    def wait_for(self, check: ScreenCheck, timeout: float) -> float | None:
        return self.wait(self.watch(check), timeout)

    def bytes_between(self, start: float, end: float) -> int:
        with self._lock:
            return sum(n for at, n in self.chunks if start <= at < end)

    def close(self) -> None:
        """Stop the program (SIGTERM, then SIGKILL) and the threads."""
        if self.process.poll() is None:
            with _suppress():
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(3)
            except subprocess.TimeoutExpired:
                with _suppress():
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        with _suppress():
            os.close(self._master)
        self._reader.join(2)
        self._queue.put(None)
        self._home.cleanup()

    def __enter__(self) -> TerminalProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- threads -----------------------------------------------------------------------------------

    def _read_loop(self) -> None:
        while True:
            try:
                data = os.read(self._master, 1 << 16)
            except OSError:  # EIO: the program and every holder of the terminal are gone
                break
            if not data:
                break
            now = time.monotonic()
            with self._lock:
                self.chunks.append((now, len(data)))
                self.total_bytes += len(data)
            if self._emulate:
                self._queue.put((now, data))
        self._queue.put(None)

    def _emulate_loop(self) -> None:
        while (item := self._queue.get()) is not None:
            arrived, data = item
            with self._lock:
                self._stream.feed(data)
                if not self._watches:
                    continue
                display = self.screen.display
                met = [w for w in self._watches if w.check(display)]
                for w in met:
                    self._watches.remove(w)
                    w.met_at = arrived
                    w.done.set()


def _take_terminal() -> None:
    """In the child: make the pseudo-terminal its controlling terminal (for SIGWINCH, as in a
    real terminal)."""
    with _suppress():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _suppress() -> contextlib.suppress:
    return contextlib.suppress(OSError)
