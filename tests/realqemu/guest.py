"""Boot a tiny real Linux guest under QEMU (TCG) and drive it from a test.

A :class:`RealGuest` has two QMP sockets: :attr:`RealGuest.qmp_path` is for balloontui (the
program under test) and a second one, kept connected here, is for the test's own checks, because
a QEMU QMP socket serves one client at a time. The serial console is a unix socket too
(:attr:`RealGuest.console`), so the test can run shell commands in the guest — ``dd`` into the
tmpfs root is how it creates memory pressure — and every byte is also logged to a file whose
tail goes into every error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable

from qemu.qmp import EventListener, QMPClient
from qemu.qmp.message import Message

from .errors import GuestBootError, GuestError, GuestExited, GuestTimeout
from .guest_console import GuestConsole, tail_of
from .guest_image import FAILED_MARKER, READY_MARKER, GuestImage

__all__ = ["MiB", "RealGuest", "GuestError", "GuestBootError", "GuestExited", "GuestTimeout"]

MiB = 1 << 20
PAGE = 4096
QEMU = "qemu-system-x86_64"
MAX_SOCKET_PATH = 107  # sun_path is 108 bytes with the terminating NUL


class _EventRecorder(EventListener):
    """Keeps the last events seen on the check socket: bounded, unlike the default listener."""

    def __init__(self, maxlen: int = 1000) -> None:
        super().__init__()
        self.events: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self.arrived = asyncio.Event()

    async def put(self, event: Message) -> None:
        self.events.append(dict(event))
        self.arrived.set()
        self.arrived = asyncio.Event()


def _die_with_parent() -> None:
    # A QEMU left behind by a killed pytest would keep a core busy for ever.
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _opt_path(path: Path) -> str:
    return str(path).replace(",", ",,")  # QEMU option syntax escapes a comma by doubling it


class RealGuest:
    """A QEMU VM running the test guest image; see the module docstring.

    ``kill()`` leaves the socket files behind, as a crashed QEMU does; ``stop()`` removes them.
    """

    def __init__(
        self,
        image: GuestImage,
        workdir: Path,
        name: str = "vm1",
        *,
        memory_mib: int = 512,
        balloon: bool = True,
        deflate_on_oom: bool = False,
        boot_timeout: float = 120.0,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.image = image
        self.name = name
        self.memory_mib = memory_mib
        self.balloon = balloon
        self.deflate_on_oom = deflate_on_oom
        self.boot_timeout = boot_timeout
        self.extra_args = tuple(extra_args)
        workdir = Path(workdir)
        self.qmp_path = workdir / f"{name}.sock"
        self.check_path = workdir / f"{name}-check.sock"
        self.console_path = workdir / f"{name}-console.sock"
        self.console_log = workdir / f"{name}-console.log"
        self.qemu_log = workdir / f"{name}-qemu.log"
        for path in (self.qmp_path, self.check_path, self.console_path):
            if len(os.fsencode(path)) > MAX_SOCKET_PATH:
                raise GuestError(f"socket path too long for a unix socket: {path}")
        self.console = GuestConsole(self)
        self.boot_seconds: float | None = None
        self.boots = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._check: QMPClient | None = None
        self._recorder: _EventRecorder | None = None

    def __repr__(self) -> str:
        return f"<RealGuest {self.name} pid={self.pid} returncode={self.returncode}>"

    # -- process --------------------------------------------------------------------------------

    def argv(self) -> list[str]:
        """The QEMU command line this guest boots with."""
        argv = [
            QEMU, "-accel", "tcg", "-m", str(self.memory_mib),
            "-no-reboot", "-nodefaults", "-display", "none", "-name", self.name,
            "-kernel", str(self.image.kernel), "-initrd", str(self.image.initrd),
            "-append", "console=ttyS0 panic=1 quiet",
            "-qmp", f"unix:{_opt_path(self.qmp_path)},server=on,wait=off",
            "-qmp", f"unix:{_opt_path(self.check_path)},server=on,wait=off",
            "-chardev", f"socket,id=con,path={_opt_path(self.console_path)},server=on,wait=off,"
                        f"logfile={_opt_path(self.console_log)},logappend=on",
            "-serial", "chardev:con",
        ]
        if self.balloon:
            oom = "on" if self.deflate_on_oom else "off"
            argv += ["-device", f"virtio-balloon-pci,id=balloon0,deflate-on-oom={oom}"]
        return argv + list(self.extra_args)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        """QEMU's exit status, ``None`` while it runs (or before the first start)."""
        return self._proc.returncode if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self) -> None:
        """Boot QEMU and return once the guest's shell is up and both sockets are connected."""
        if self.running:
            raise GuestError(f"{self.name} is already running")
        self._remove_sockets()
        self.console_log.parent.mkdir(parents=True, exist_ok=True)
        log_start = self.console_log.stat().st_size if self.console_log.exists() else 0
        self.boot_seconds = None
        started = time.monotonic()
        with open(self.qemu_log, "ab") as qemu_log:
            self._proc = await asyncio.create_subprocess_exec(
                *self.argv(), stdin=asyncio.subprocess.DEVNULL, stdout=qemu_log,
                stderr=qemu_log, preexec_fn=_die_with_parent,
            )
        self.boots += 1
        try:
            await self._wait_ready(log_start, started)
            self.boot_seconds = time.monotonic() - started
            await self._connect_check()
            await self.console.connect()
        except BaseException:
            await self._kill_process()
            await self._disconnect()
            raise

    async def _wait_ready(self, log_start: int, started: float) -> None:
        deadline = started + self.boot_timeout
        while True:
            text = ""
            if self.console_log.exists():
                with open(self.console_log, "rb") as log:
                    log.seek(log_start)
                    text = log.read().decode(errors="replace")
            if READY_MARKER in text:
                return
            if FAILED_MARKER in text:
                raise GuestBootError(self._describe("the guest could not load its modules"))
            if self.returncode is not None:
                raise GuestBootError(self._describe(f"QEMU exited ({self.returncode}) while booting"))
            if time.monotonic() > deadline:
                raise GuestBootError(
                    self._describe(f"no ready marker after {self.boot_timeout:.0f} s")
                )
            await asyncio.sleep(0.05)

    async def _connect_check(self) -> None:
        client = QMPClient(f"{self.name}-check")
        # The default listener queues and remembers every event for ever: mute it and keep a
        # bounded record of our own instead.
        client.events.event_filter = lambda _event: False
        self._recorder = _EventRecorder()
        client.register_listener(self._recorder)
        await asyncio.wait_for(client.connect(str(self.check_path)), 30)
        self._check = client

    async def kill(self) -> None:
        """SIGKILL QEMU, as a crash would; the socket files stay behind."""
        await self._kill_process()
        await self._disconnect()

    async def restart(self) -> None:
        """Kill the VM (if still running) and boot it again on the same socket paths."""
        await self.kill()
        await self.start()

    async def stop(self, timeout: float = 20.0) -> None:
        """Quit QEMU cleanly if it runs (SIGKILL if it will not), then remove its sockets.

        Safe to call at any time and more than once.
        """
        try:
            if self.running:
                with contextlib.suppress(Exception):
                    if self._check is not None:
                        await asyncio.wait_for(self._check.execute("quit"), 5)
                    else:
                        self._proc.terminate()  # QEMU quits cleanly on SIGTERM too
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._proc.wait(), timeout)
        finally:
            await self._kill_process()
            await self._disconnect()
            self._remove_sockets()

    async def wait_exit(self, timeout: float = 60.0) -> int:
        """Wait for QEMU to exit by itself and return its exit status."""
        if self._proc is None:
            raise GuestError(f"{self.name} was never started")
        try:
            return await asyncio.wait_for(self._proc.wait(), timeout)
        except asyncio.TimeoutError:
            raise GuestTimeout(self._describe(f"QEMU still running after {timeout:.0f} s")) from None

    async def _kill_process(self) -> None:
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
        if self._proc is not None:
            await self._proc.wait()

    async def _disconnect(self) -> None:
        await self.console.close()
        client, self._check = self._check, None
        if client is not None:
            with contextlib.suppress(Exception):  # re-raises whatever broke the connection
                await client.disconnect()

    def _remove_sockets(self) -> None:
        for path in (self.qmp_path, self.check_path, self.console_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    # -- checks over the second QMP socket ------------------------------------------------------

    async def check(self, command: str, arguments: dict[str, Any] | None = None,
                    timeout: float = 30.0) -> Any:
        """Run a QMP command on the test's own socket and return its ``return`` value.

        A QMP error is raised as ``qemu.qmp.ExecuteError``; a vanished QEMU as GuestExited.
        """
        if self._check is None:
            raise GuestExited(self._describe(f"{self.name} is not running"))
        try:
            return await asyncio.wait_for(self._check.execute(command, arguments), timeout)
        except asyncio.TimeoutError:
            raise GuestTimeout(self._describe(f"{command} got no answer in {timeout:.0f} s")) from None
        except Exception as error:
            if self.returncode is not None or not self.running:
                raise GuestExited(self._describe(f"{command}: QEMU is gone ({error!r})")) from error
            raise

    async def query_actual(self) -> int:
        """The balloon's ``actual`` in bytes (``query-balloon``)."""
        return (await self.check("query-balloon"))["actual"]

    async def wait_for_actual(self, expected: int | Callable[[int], bool],
                              timeout: float = 60.0, interval: float = 0.2) -> int:
        """Poll ``query-balloon`` until ``actual`` (bytes) equals ``expected`` (to within a page)
        or satisfies it, if it is a predicate; return that ``actual``.
        """
        if callable(expected):
            wanted, what = expected, getattr(expected, "__name__", "the predicate")
        else:
            wanted, what = (lambda actual: abs(actual - expected) < PAGE), f"{expected / MiB:g} MiB"
        seen: list[int] = []
        deadline = time.monotonic() + timeout
        while True:
            actual = await self.query_actual()
            if not seen or seen[-1] != actual:
                seen.append(actual)
            if wanted(actual):
                return actual
            if time.monotonic() > deadline:
                trail = " → ".join(f"{a / MiB:g}" for a in seen[-8:])
                raise GuestTimeout(self._describe(
                    f"actual never reached {what} in {timeout:.0f} s (MiB seen: {trail})"
                ))
            await asyncio.sleep(interval)

    @property
    def events(self) -> list[dict[str, Any]]:
        """QMP events seen on the check socket since the last boot (the last 1000)."""
        return list(self._recorder.events) if self._recorder else []

    async def wait_for_event(self, name: str, timeout: float = 60.0,
                             match: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
        """Return the first event called ``name`` (seen already or yet to come) that ``match``es."""
        deadline = time.monotonic() + timeout
        exited_at: float | None = None
        while True:
            recorder = self._recorder
            if recorder is not None:
                for event in recorder.events:
                    if event.get("event") == name and (match is None or match(event)):
                        return event
            seen = [e.get("event") for e in self.events][-10:]
            if not self.running:
                # Events sent just before QEMU exited may still be on their way: wait a moment.
                exited_at = exited_at or time.monotonic()
                if time.monotonic() - exited_at > 1.0:
                    raise GuestExited(self._describe(f"QEMU exited without {name} (seen: {seen})"))
            remaining = deadline - time.monotonic()
            if recorder is None or remaining <= 0:
                raise GuestTimeout(self._describe(f"no {name} event in {timeout:.0f} s (seen: {seen})"))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(recorder.arrived.wait(), min(remaining, 0.5))

    # -- diagnostics ----------------------------------------------------------------------------

    def console_tail(self, lines: int = 25) -> str:
        """The last lines the guest wrote to its serial console (all boots)."""
        return tail_of(self.console_log, lines)

    def _describe(self, problem: str) -> str:
        parts = [f"{self.name}: {problem}"]
        qemu_out = tail_of(self.qemu_log, 10)
        if qemu_out:
            parts.append(f"--- QEMU output ({self.qemu_log}) ---\n{qemu_out}")
        # A panic's first line scrolls away behind its call trace: quote it.
        panics = [line for line in tail_of(self.console_log, 400).splitlines()
                  if "Kernel panic" in line]
        if panics:
            parts.append(f"guest said: {panics[-1].strip()}")
        parts.append(f"--- console, last lines ({self.console_log}) ---\n{self.console_tail()}")
        return "\n".join(parts)
