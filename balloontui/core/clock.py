"""Time as the core and the simulated QEMU see it.

Everything reads time through a :class:`Clock` and waits with ``asyncio`` sleeps, so a run can be
sped up as a whole: :func:`new_accelerated_loop` makes an event loop whose time passes ``factor``
times faster than the real one, which lets a test live through a simulated day in minutes.
"""

from __future__ import annotations

import asyncio
import selectors
import time


class Clock:
    """Monotonic time (the running loop's) and wall-clock time that move together."""

    def __init__(self) -> None:
        self._wall_offset = time.time() - time.monotonic()

    def now(self) -> float:
        """Monotonic seconds, the same scale as ``asyncio`` timers."""
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:
            return time.monotonic()

    def wall(self) -> float:
        """Seconds since the epoch, like QEMU's event timestamps."""
        return self._wall_offset + self.now()


class _ScaledSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """Waits ``factor`` times shorter than asked: the loop's clock runs that much faster."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self._factor = factor

    def select(self, timeout: float | None = None):  # type: ignore[no-untyped-def]
        if timeout is not None and timeout > 0:
            timeout /= self._factor
        return super().select(timeout)


class _AcceleratedLoop(asyncio.SelectorEventLoop):
    def __init__(self, factor: float) -> None:
        super().__init__(_ScaledSelector(factor))
        self._factor = factor
        self._origin = time.monotonic()

    def time(self) -> float:
        return self._origin + (time.monotonic() - self._origin) * self._factor


def new_accelerated_loop(factor: float) -> asyncio.AbstractEventLoop:
    """An event loop on which ``asyncio.sleep(60)`` takes ``60 / factor`` real seconds.

    A :class:`Clock` read inside it follows it, wall time included.
    """
    if factor <= 0:
        raise ValueError("the speed-up factor must be positive")
    return _AcceleratedLoop(factor)
