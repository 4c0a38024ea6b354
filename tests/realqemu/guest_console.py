"""The guest's serial console, reached over QEMU's unix socket chardev.

The guest runs busybox ``sh`` on ttyS0. :meth:`GuestConsole.run` wraps a command between two
markers that only the command's output can contain (``printf`` joins them; the shell's echo of
the typed line shows them apart), so it knows where the output starts and when it ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import GuestExited, GuestTimeout

if TYPE_CHECKING:
    from .guest import RealGuest

_KEEP_BYTES = 1 << 20  # console output held in memory; the log file has all of it


def tail_of(path: Path, lines: int) -> str:
    """The last ``lines`` lines of a log file, readable even with escape sequences in it."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 64 * 1024))
            data = f.read().decode(errors="replace")
    except FileNotFoundError:
        return ""
    data = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", data).replace("\r", "")
    return "\n".join(data.splitlines()[-lines:])


class GuestConsole:
    """Type into the guest's shell and read what it prints."""

    def __init__(self, guest: RealGuest) -> None:
        self._guest = guest
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pump: asyncio.Task[None] | None = None
        self._buffer = bytearray()
        self._arrived = asyncio.Event()
        self._eof = False
        self._lock = asyncio.Lock()
        self.last_status: int | None = None
        """Exit status of the last command :meth:`run` ran."""

    async def connect(self) -> None:
        self._buffer.clear()
        self._eof = False
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_unix_connection(str(self._guest.console_path)), 30
        )
        # Read all the time: a console nobody reads would stall the guest's serial port.
        self._pump = asyncio.create_task(self._read_forever(), name=f"{self._guest.name}-console")

    async def _read_forever(self) -> None:
        assert self._reader is not None
        try:
            while chunk := await self._reader.read(65536):
                self._buffer += chunk
                if len(self._buffer) > 2 * _KEEP_BYTES:
                    del self._buffer[:-_KEEP_BYTES]
                self._wake()
        except (ConnectionError, OSError):
            pass
        finally:
            self._eof = True
            self._wake()

    def _wake(self) -> None:
        self._arrived.set()
        self._arrived = asyncio.Event()

    async def close(self) -> None:
        pump, self._pump = self._pump, None
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        self._reader = None

    def send(self, line: str) -> None:
        """Type ``line`` and Enter, without waiting for anything (e.g. a ``dd`` that kills the guest)."""
        if self._writer is None or self._eof:
            raise GuestExited(self._guest._describe("the console is not connected"))
        self._writer.write(line.encode() + b"\n")

    async def run(self, command: str, timeout: float = 60.0) -> str:
        """Run a one-line shell command in the guest and return what it printed, trailing
        newlines removed as ``$(...)`` does.

        Its exit status is left in :attr:`last_status`. Kernel messages printed meanwhile may
        appear in the output.
        """
        async with self._lock:
            token = secrets.token_hex(6)
            begin = f"BTBEGIN:{token}".encode()
            end = re.compile(rf"BTEND:{token}:(\d+)".encode())
            command = command.strip().rstrip(";")
            self.send(
                f"printf '%s:%s\\n' BTBEGIN {token}; {command}; "
                f"printf '\\n%s:%s:%d\\n' BTEND {token} $?"
            )
            deadline = time.monotonic() + timeout
            while True:
                # Tokens are unique, so the whole buffer can be searched (it is cleared after
                # each command and capped: output over _KEEP_BYTES loses its start marker).
                window = bytes(self._buffer)
                found_end = end.search(window)
                found_begin = window.rfind(begin, 0, found_end.start() if found_end else None)
                if found_end and found_begin >= 0:
                    self.last_status = int(found_end.group(1))
                    output = window[found_begin + len(begin):found_end.start()]
                    del self._buffer[:]
                    text = output.decode(errors="replace").replace("\r", "")
                    return text.removeprefix("\n").rstrip("\n")
                if self._eof:
                    raise GuestExited(self._guest._describe(f"console closed during `{command}`"))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise GuestTimeout(self._guest._describe(
                        f"`{command}` did not finish in {timeout:.0f} s"
                    ))
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), remaining)
