"""A bare QMP client for testing the simulator: raw JSON in, every message out with its time.

``qemu.qmp`` would hide what we want to check (key order, the greeting, events between a command
and its reply, end of stream), so the tests speak the protocol themselves.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

EOF = "EOF"


class RawQMP:
    """One connection to a QMP socket; :attr:`received` holds (loop time, message) pairs."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.received: list[tuple[float, Any]] = []
        self.raw = bytearray()
        self._arrived = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, path: str) -> RawQMP:
        reader, writer = await asyncio.open_unix_connection(path, limit=64 << 20)
        return cls(reader, writer)

    @property
    def closed(self) -> bool:
        return bool(self.received) and self.received[-1][1] == EOF

    @property
    def events(self) -> list[dict[str, Any]]:
        return [m for _, m in self.received if isinstance(m, dict) and "event" in m]

    def send(self, message: dict[str, Any] | bytes) -> None:
        data = message if isinstance(message, bytes) else json.dumps(message).encode() + b"\n"
        self._writer.write(data)

    async def next_message(self, start: int, timeout: float = 2.0) -> tuple[int, Any]:
        """The first message at index ``start`` or later, waiting for it; (index, message)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.received) <= start:
            self._arrived.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"nothing received after message {start}")
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                pass
        return start, self.received[start][1]

    async def reply(self, start: int, timeout: float = 2.0) -> Any:
        """The first reply (not an event) from index ``start`` on."""
        index = start
        while True:
            index, message = await self.next_message(index, timeout)
            if message == EOF or not isinstance(message, dict):
                return message  # end of stream, or a line that is not JSON
            if "return" in message or "error" in message:
                return message
            index += 1

    async def execute(self, command: str, arguments: dict[str, Any] | None = None,
                      timeout: float = 2.0) -> Any:
        """Send a command; its whole reply message (``{"return": ...}`` or ``{"error": ...}``)."""
        message: dict[str, Any] = {"execute": command}
        if arguments is not None:
            message["arguments"] = arguments
        start = len(self.received)
        self.send(message)
        return await self.reply(start, timeout)

    async def greeting(self, timeout: float = 2.0) -> Any:
        return (await self.next_message(0, timeout))[1]

    async def negotiate(self) -> None:
        await self.greeting()
        assert await self.execute("qmp_capabilities") == {"return": {}}

    async def wait_for(self, predicate: Any, timeout: float = 3.0) -> None:
        """Wait until ``predicate(self)`` holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate(self):
            if loop.time() > deadline:
                raise TimeoutError("condition not met")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                pass

    async def close(self) -> None:
        self._task.cancel()
        self._writer.close()
        try:
            await self._task
        except (asyncio.CancelledError, Exception):
            pass

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        buffer = b""
        while True:
            try:
                data = await self._reader.read(1 << 20)
            except ConnectionError:
                data = b""
            if not data:
                if buffer:
                    self.received.append((loop.time(), buffer))
                self.received.append((loop.time(), EOF))
                self._arrived.set()
                return
            self.raw.extend(data)
            buffer += data
            *lines, buffer = buffer.split(b"\r\n")
            for line in lines:
                try:
                    message: Any = json.loads(line)
                except ValueError:
                    message = line
                self.received.append((loop.time(), message))
            self._arrived.set()
