"""Replaying a recording: the recorded inputs fed to sessions on the recorded clock.

A :class:`ReplayMonitor` stands where a :class:`Monitor` stands (the UI cannot tell), but its
sessions have no connection: they are read-only, and a driver task feeds them the recorded
observations at the recorded pace (or ``speed`` times faster), ticking their recognition each
recorded second, so stalls and episodes come out as they did live.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from balloontui.core.addresses import VMAddress
from balloontui.core.clock import Clock
from balloontui.core.errors import Refused
from balloontui.core.monitor import Monitor
from balloontui.core.recording import RecordingError, read_recording
from balloontui.core.session import SessionSettings
from balloontui.core.transport import Transport


class ReplayClock(Clock):
    """Time as the recording says: it moves when the replay moves it."""

    def __init__(self, start: float) -> None:
        super().__init__()
        self.at = start
        self._origin = start

    def now(self) -> float:
        return self.at - self._origin

    def wall(self) -> float:
        return self.at


def _no_transport(address: VMAddress) -> Transport:
    raise Refused(f"{address}: a replay has no connection")


def address_of(text: str) -> VMAddress:
    """The address a record names (as ``str(VMAddress)`` wrote it)."""
    if text.startswith("tcp:"):
        host, _, port = text.removeprefix("tcp:").rpartition(":")
        return VMAddress(host=host.strip("[]"), port=int(port))
    return VMAddress(path=text.removeprefix("unix:"))


class ReplayMonitor(Monitor):
    """The VMs of a recording, as they were."""

    def __init__(self, path: Path, *, speed: float = 1.0) -> None:
        self.records = list(read_recording(path))
        if not self.records:
            raise RecordingError(f"{path}: no records")
        if speed <= 0:
            raise ValueError("the replay speed must be positive")
        self.speed = speed
        self.replay_clock = ReplayClock(self.records[0]["t"])
        addresses = _first_names(self.records)
        super().__init__([replace(address_of(a), name=n) for a, n in addresses],
                         settings=SessionSettings(read_only=True), clock=self.replay_clock,
                         transport_factory=_no_transport)
        self._driver: asyncio.Task[None] | None = None
        self.finished = asyncio.Event()

    async def start(self) -> None:
        if self._driver is None:
            self._driver = asyncio.create_task(self._drive(), name="replay")

    async def stop(self, restore: bool = True) -> None:
        driver, self._driver = self._driver, None
        if driver is not None:
            driver.cancel()
            await asyncio.gather(driver, return_exceptions=True)

    def poke(self, key: str) -> None:
        """Nothing to poll in a replay."""

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        clock = self.replay_clock
        start_real, start_t = loop.time(), self.records[0]["t"]
        next_tick = start_t + 1.0
        for record in self.records:
            while next_tick <= record["t"]:
                await self._until(loop, start_real, start_t, next_tick)
                clock.at = next_tick
                self._tick_all()
                next_tick += 1.0
            await self._until(loop, start_real, start_t, record["t"])
            clock.at = max(clock.at, record["t"])
            session = self.sessions.get(record["address"])
            if session is not None:
                session.feed(record["type"], record["data"])
        self.finished.set()

    async def _until(self, loop: asyncio.AbstractEventLoop, start_real: float, start_t: float,
                     t: float) -> None:
        delay = start_real + (t - start_t) / self.speed - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)

    def _tick_all(self) -> None:
        for session in self.sessions.values():
            session.feed("tick", {})


def _first_names(records: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each address of the recording with the name it was first recorded under."""
    seen: dict[str, str] = {}
    for record in records:
        seen.setdefault(record["address"], record["vm"])
    return list(seen.items())
