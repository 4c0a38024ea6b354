"""QEMU's rate limit on some monitor events (``BALLOON_CHANGE`` among them): one per second.

As QEMU does it (``monitor_qapi_event_queue``): the first event goes out at once and opens a
one-second period; during the period only the latest event is kept; when the period ends the
kept one (if any) goes out and a new period opens, otherwise the throttle goes idle. A kept
event carries the timestamp of the moment it happened, not of the moment it is sent, which is
why a real QEMU's final ``BALLOON_CHANGE`` often looks stamped "early".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

RATE_LIMIT_SECONDS = 1.0
"""QEMU's period for ``BALLOON_CHANGE`` (``monitor_qapi_event_conf``: 1000 ms)."""

Event = dict[str, Any]


class EventThrottle:
    """Passes events on to ``emit`` no more often than once per ``period`` seconds."""

    def __init__(self, emit: Callable[[Event], None], *,
                 period: float = RATE_LIMIT_SECONDS) -> None:
        self._emit = emit
        self._period = period
        self._pending: Event | None = None
        self._timer: asyncio.TimerHandle | None = None

    @property
    def idle(self) -> bool:
        """No period running: the next event goes out at once."""
        return self._timer is None

    @property
    def pending(self) -> Event | None:
        """The event waiting for the end of the period, if any."""
        return self._pending

    def post(self, event: Event) -> None:
        """Send ``event`` now, or keep it (replacing any kept one) until the period ends."""
        if self._timer is None:
            self._emit(event)
            self._start_period()
        else:
            self._pending = event

    def cancel(self) -> None:
        """Forget the kept event and the period (the monitor is going away)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._pending = None

    def _start_period(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(loop.time() + self._period, self._period_ended)

    def _period_ended(self) -> None:
        self._timer = None
        event, self._pending = self._pending, None
        if event is not None:
            self._emit(event)
            self._start_period()
