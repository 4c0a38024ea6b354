"""One task that lets time pass for every simulated guest of a host.

Guests that are changing (a balloon moving, a fill running, a burst rising) are advanced every
``period`` (50 ms); all the others once per ``slow_period`` (1 s), which is enough for slow
waves and keeps a thousand idle VMs cheap. Nothing runs per VM per timer: a VM asks to be
followed closely with :meth:`Ticker.hurry`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

log = logging.getLogger(__name__)

FAST_PERIOD = 0.05
SLOW_PERIOD = 1.0


class Ticking(Protocol):
    def tick(self, now: float) -> bool:
        """Advance to ``now``; True while it should be followed every fast period."""


class Ticker:
    """Advances many :class:`Ticking` things, closely those that are changing."""

    def __init__(self, *, period: float = FAST_PERIOD, slow_period: float = SLOW_PERIOD) -> None:
        self.period = period
        self.slow_period = slow_period
        self._all: set[Ticking] = set()
        self._fast: set[Ticking] = set()
        self._waker: asyncio.Future[None] | None = None

    def add(self, item: Ticking) -> None:
        self._all.add(item)

    def discard(self, item: Ticking) -> None:
        self._all.discard(item)
        self._fast.discard(item)

    def hurry(self, item: Ticking) -> None:
        """Follow ``item`` every fast period from now on, until it stops changing."""
        if item in self._all and item not in self._fast:
            self._fast.add(item)
            if self._waker is not None and not self._waker.done():
                self._waker.set_result(None)

    @property
    def fast_count(self) -> int:
        return len(self._fast)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_slow = loop.time() + self.slow_period
        while True:
            now = loop.time()
            for item in list(self._fast):
                if not self._tick(item, now):
                    self._fast.discard(item)
            if now >= next_slow:
                for item in list(self._all):
                    if item not in self._fast and self._tick(item, now):
                        self._fast.add(item)
                next_slow = now + self.slow_period
            delay = self.period if self._fast else max(0.0, next_slow - loop.time())
            self._waker = loop.create_future()
            timer = loop.call_later(delay, _wake, self._waker)
            try:
                await self._waker
            finally:
                timer.cancel()
                self._waker = None

    def _tick(self, item: Ticking, now: float) -> bool:
        try:
            return item.tick(now)
        except Exception:  # one broken VM must not stop time for the others
            log.exception("simulated VM failed to advance")
            self.discard(item)
            return False


def _wake(waker: asyncio.Future[None]) -> None:
    if not waker.done():
        waker.set_result(None)
