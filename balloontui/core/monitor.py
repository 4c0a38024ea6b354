"""Many VM sessions, each polled on a timer of the event loop.

Each VM has at most one timer, at one of a few moments of the poll interval (bursts of about
:data:`VMS_PER_BURST` VMs), so a thousand VMs are not polled in one burst, and no task waits
between polls (the loop's own timer heap does the scheduling). When a VM is due its step runs in a task of its own,
so a slow or hung VM never delays another; the next step of a VM is planned only when its
previous one finished, so the polls of one VM never overlap or pile up.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Iterable

from balloontui.core.addresses import VMAddress
from balloontui.core.clock import Clock
from balloontui.core.qmp_transport import QMPTransport
from balloontui.core.recognition import Notice
from balloontui.core.session import (
    BalloonSession,
    Observation,
    SessionSettings,
    TransportFactory,
)
from balloontui.core.target_store import TargetStore
from balloontui.core.vm_state import Link

log = logging.getLogger(__name__)

CONCURRENT_CONNECTS = 16
"""Connections being made (and discovered) at once: with hundreds of VMs, the first ones are
ready in milliseconds instead of all of them together after a stampede."""
_GOLDEN = (math.sqrt(5) - 1) / 2  # phases i·φ mod 1 spread evenly however many VMs there are
VMS_PER_BURST = 32
"""VMs polled at one moment of the interval. Polls at one moment share the loop's wake-ups (one
``epoll_wait`` serves many sockets): with a moment of its own per VM the core cost twice the CPU
of a plain loop. Bursts of a few dozen still leave the loop free within milliseconds for a
keypress, however many VMs there are."""
MAX_PHASES = 64

ChangeListener = Callable[[BalloonSession], None]
NoticeListener = Callable[[Notice], None]
ObservationListener = Callable[[Observation], None]


class Monitor:
    """The sessions of every VM we watch, polled in small bursts spread over the interval."""

    def __init__(
        self,
        addresses: Iterable[VMAddress] = (),
        *,
        settings: SessionSettings = SessionSettings(),
        clock: Clock | None = None,
        store: TargetStore | None = None,
        transport_factory: TransportFactory = QMPTransport,
    ) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        self.store = store
        self._factory = transport_factory
        self.sessions: dict[str, BalloonSession] = {}
        self._change_listeners: list[ChangeListener] = []
        self._notice_listeners: list[NoticeListener] = []
        self._observation_listeners: list[ObservationListener] = []
        self._timers: dict[str, asyncio.TimerHandle] = {}
        """Each VM's next step, when it is not stepping now."""
        self._poked_while_running: set[str] = set()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._phases: dict[str, float] = {}
        self._connecting = asyncio.Semaphore(CONCURRENT_CONNECTS)
        self._started = False
        for address in addresses:
            self.add(address)

    def subscribe(self, on_change: ChangeListener | None = None,
                  on_notice: NoticeListener | None = None,
                  on_observation: ObservationListener | None = None) -> None:
        """Hear about every state change (cheap: called often), every notice, and every raw
        input (for recordings)."""
        if on_change is not None:
            self._change_listeners.append(on_change)
        if on_notice is not None:
            self._notice_listeners.append(on_notice)
        if on_observation is not None:
            self._observation_listeners.append(on_observation)
            for session in self.sessions.values():
                session.on_observation = self._session_observation

    def add(self, address: VMAddress) -> BalloonSession:
        key = str(address)
        if key in self.sessions:
            return self.sessions[key]
        session = BalloonSession(
            address, settings=self.settings, clock=self.clock, store=self.store,
            transport_factory=self._factory, on_change=self._session_changed,
            on_notice=self._session_notice,
            on_observation=self._session_observation if self._observation_listeners else None,
        )
        self.sessions[key] = session
        # VMs are polled at a few moments of the interval (see _phase): a thousand VMs polled
        # in the same instant would stall the event loop (and any keypress) for that burst.
        self._phases[key] = (len(self.sessions) * _GOLDEN) % 1.0
        self.poke(key)
        return session

    def poke(self, key: str) -> None:
        """Make a VM due now (after a command, or to reconnect at once); if it is being polled
        right now, due again as soon as that poll ends."""
        if key in self._running:
            self._poked_while_running.add(key)
        else:
            self._plan(key, 0.0)

    def _plan(self, key: str, delay: float) -> None:
        """Make the VM's next step ``delay`` seconds from now, in place of the one planned."""
        planned = self._timers.pop(key, None)
        if planned is not None:
            planned.cancel()
        if self._started:
            self._timers[key] = asyncio.get_running_loop().call_later(
                max(0.0, delay), self._begin_step, key)

    def _begin_step(self, key: str) -> None:
        self._timers.pop(key, None)
        session = self.sessions.get(key)
        if session is not None and key not in self._running and self._started:
            self._running[key] = asyncio.get_running_loop().create_task(self._step(session))

    async def start(self) -> None:
        if not self._started:
            self._started = True
            for key in self.sessions:
                self._plan(key, 0.0)

    async def wait_connected(self, timeout: float) -> None:
        """Wait until every VM has had its first connection attempt (or ``timeout`` passed)."""
        deadline = self.clock.now() + timeout
        while self.clock.now() < deadline:
            if all(s.state.link is not Link.CONNECTING for s in self.sessions.values()):
                return
            await asyncio.sleep(0.02)

    async def stop(self, restore: bool = True) -> None:
        """Stop polling and close every session, putting back the stats intervals we changed."""
        self._started = False
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        running = list(self._running.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await asyncio.gather(*(session.close(restore) for session in self.sessions.values()),
                             return_exceptions=True)

    async def _step(self, session: BalloonSession) -> None:
        delay = session.settings.poll_interval
        try:
            if session.connected or session.address.shared:
                delay = await session.step()
            else:
                async with self._connecting:
                    delay = await session.step()
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug in one VM's handling must not stop the others
            log.exception("%s: unexpected error while polling", session.state.name)
        finally:
            self._running.pop(session.key, None)
        if session.key in self._poked_while_running:
            self._poked_while_running.discard(session.key)
            self._plan(session.key, 0.0)
        else:
            now = self.clock.now()
            due = self._next_due(now, delay, self._phase(session.key))
            self._plan(session.key, due - now)

    def _phase(self, key: str) -> float:
        """The VM's moment within the interval, as a fraction of it: one of a few moments,
        as many as it takes to keep each burst to about :data:`VMS_PER_BURST` VMs."""
        moments = max(1, min(MAX_PHASES, math.ceil(len(self.sessions) / VMS_PER_BURST)))
        return math.floor(self._phases.get(key, 0.0) * moments) / moments

    @staticmethod
    def _next_due(now: float, delay: float, phase: float) -> float:
        """The next moment at this VM's phase of the interval, at least half an interval on."""
        if delay <= 0:
            return now
        offset = phase * delay
        due = (math.floor((now - offset) / delay) + 1) * delay + offset
        return due + delay if due - now < delay / 2 else due

    def _session_changed(self, session: BalloonSession) -> None:
        for listener in self._change_listeners:
            listener(session)

    def _session_notice(self, notice: Notice) -> None:
        for listener in self._notice_listeners:
            listener(notice)

    def _session_observation(self, observation: Observation) -> None:
        for listener in self._observation_listeners:
            listener(observation)
