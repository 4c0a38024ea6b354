"""One VM's balloon session: connect, discover, follow events, poll, steer, reconnect.

A session does nothing by itself: the :class:`~balloontui.core.monitor.Monitor`'s scheduler calls
:meth:`BalloonSession.step` when it is due, and the step says when it wants to run again. Events
arrive in between from the transport. Everything the session learns lands in ``state`` (a
:class:`VMState`) and ``history``; listeners hear that something changed, and the notices.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator

from balloontui.core import discovery
from balloontui.core.addresses import VMAddress
from balloontui.core.clock import Clock
from balloontui.core.errors import (
    CommandFailed,
    ConnectionLost,
    MonitorBusy,
    MonitorError,
    NoBalloon,
    NotResponding,
    ProtocolFault,
    Refused,
)
from balloontui.core.guest_stats import parse_guest_stats, stat_rates
from balloontui.core.history import VMHistory
from balloontui.core.qmp_transport import QMPTransport
from balloontui.core.recognition import GuestBehaviour, Notice, NoticeKind
from balloontui.core.sizes import SizeError, align_target, format_size, resolve_target
from balloontui.core.target_store import TargetStore, vm_key
from balloontui.core.transport import QMPEvent, Transport
from balloontui.core.vm_state import BalloonFeatures, Link, TargetSource, VMState

log = logging.getLogger(__name__)

TransportFactory = Callable[[VMAddress], Transport]


@dataclass(frozen=True, slots=True)
class Observation:
    """A raw input of a session, as it came: what ``balloontui record`` writes, one per line.

    ``kind`` is ``vm`` (identity and features after discovery), ``event`` (a QMP event),
    ``actual`` (a polled actual that differs from what we knew), ``stats`` (a new guest report),
    ``interval`` (the stats interval changed), ``target`` (we set or lost a target) or
    ``notice`` (something recognised)."""

    vm: str
    address: str
    at: float
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class SessionSettings:
    poll_interval: float = 1.0
    """Seconds between ``query-balloon`` backstop polls (events carry changes in between)."""
    shared_poll_interval: float = 5.0
    """Seconds between cycles in shared-socket mode, where each cycle connects anew."""
    call_timeout: float = 3.0
    connect_timeout: float = 3.0
    backoff_max: float = 10.0
    feature_recheck: float = 10.0
    """While the guest driver has not negotiated features yet, look again this often."""
    read_only: bool = False
    stats_interval: int = 0
    """Turn guest stats on at this interval (seconds) where they are off; 0 leaves them."""


def _link_for(error: MonitorError) -> Link:
    if isinstance(error, MonitorBusy):
        return Link.BUSY
    if isinstance(error, NotResponding):
        return Link.NOT_RESPONDING
    if isinstance(error, ProtocolFault):
        return Link.PROTOCOL_ERROR
    if isinstance(error, ConnectionLost):
        return Link.DISCONNECTED
    return Link.UNREACHABLE


class BalloonSession:
    """Everything balloontui knows and does about one VM's balloon."""

    def __init__(
        self,
        address: VMAddress,
        *,
        settings: SessionSettings = SessionSettings(),
        clock: Clock | None = None,
        store: TargetStore | None = None,
        transport_factory: TransportFactory = QMPTransport,
        on_change: Callable[[BalloonSession], None] | None = None,
        on_notice: Callable[[Notice], None] | None = None,
        on_observation: Callable[[Observation], None] | None = None,
    ) -> None:
        self.address = address
        self.key = str(address)
        self.settings = settings
        self.clock = clock or Clock()
        self.store = store
        self.state = VMState(address=address, name=address.name or address.fallback_name)
        self.history = VMHistory()
        self.behaviour = GuestBehaviour(self.state, self.clock, self._notify)
        self._factory = transport_factory
        self._on_change = on_change
        self._on_notice = on_notice
        self.on_observation = on_observation
        """Who hears the raw inputs (a recorder); None: nobody, and none are built."""
        self._transport: Transport | None = None
        self._instance: tuple[object, ...] | None = None
        self._failures = 0
        self._stats_due = 0.0
        self._features_due = 0.0
        self._interval_before_us: int | None = None
        self._interval_ours: int | None = None
        self._host_ended = False
        self._discovered = False
        self._discovered_once = False
        self._balloon_changes = 0
        """BALLOON_CHANGE events handled so far (a poll's reply is stale if one came since)."""
        self._dropped = False
        """The connection was dropped (and why shown) while the current step was using it."""

    @property
    def connected(self) -> bool:
        """Whether the session holds its connection (never, in shared-socket mode)."""
        return self._transport is not None

    # -- the scheduler's entry point -------------------------------------------------------------

    async def step(self) -> float:
        """One cycle: (re)connect if needed, then poll. Returns seconds until the next cycle."""
        self._dropped = False
        try:
            if self.address.shared:
                async with self._connection() as transport:
                    await self._poll(transport)
                return self.settings.shared_poll_interval
            if self._transport is None:
                await self._connect()
            else:
                await self._poll(self._transport)
        except MonitorError as error:
            await self._trouble(error)
            return self._backoff()
        self._failures = 0
        return self.settings.poll_interval

    # -- commands ---------------------------------------------------------------------------------

    def parse_target(self, text: str) -> int:
        """A target typed by an operator, resolved against this VM; raises SizeError."""
        memory = self.state.memory
        if memory is None:
            raise SizeError("the VM's memory is not known yet; wait for it to connect")
        current = self.state.target if self.state.target is not None else self.state.actual
        return resolve_target(text, memory=memory, current=current)

    async def set_target(self, target: int) -> int:
        """Ask the guest to bring ``actual`` to ``target`` bytes; returns the aligned target."""
        self._refuse_if_read_only("change the balloon target")
        memory = self.state.memory
        if self.state.features.present is False:
            raise NoBalloon("no balloon device: nothing to steer")
        if memory is None:
            raise ConnectionLost("not connected")
        if not 0 < target <= memory:
            raise Refused(f"{format_size(target)} is not between 0 and {format_size(memory)}")
        target = align_target(target, memory)
        self.behaviour.target_requested(target)
        try:
            async with self._connection() as transport:
                await self._call(transport, "balloon", {"value": target})
        except BaseException:
            self.behaviour.target_requested(None)
            raise
        previous = self.state.target
        wall = self.clock.wall()
        self.state.target_set_at = wall
        self.behaviour.target_set(target, TargetSource.SET_HERE)
        self._observe("target", {"target": target, "source": TargetSource.SET_HERE.value})
        if self.store is not None:
            self.store.remember(self._store_key(), target, wall, self._instance)
        was = f" (was {format_size(previous)})" if previous is not None else ""
        self._notify(NoticeKind.TARGET_SET, f"target set to {format_size(target)}{was}",
                     {"target": target, "previous": previous})
        self._record()
        return target

    async def set_stats_interval(self, seconds: int) -> None:
        """Set how often the guest reports its memory stats (0 = off). A shared setting: the
        value before our first change is put back by :meth:`close`."""
        self._refuse_if_read_only("change the stats interval")
        path = self._balloon_path()
        if seconds < 0:
            raise Refused("the stats interval cannot be negative")
        async with self._connection() as transport:
            call = lambda *a: self._call(transport, *a)  # noqa: E731
            before = await discovery.read_stats_interval(call, path)
            await self._apply_interval(call, path, seconds, before)

    async def _apply_interval(self, call: discovery.Call, path: str, seconds: int,
                              before: int) -> None:
        # Noted before the command goes out: if we are stopped while it is on its way, the
        # interval must still be put back (restoring checks what QEMU has first).
        first = self._interval_before_us is None
        if first:
            self._interval_before_us = before
        previous, self._interval_ours = self._interval_ours, seconds
        try:
            await call("qom-set", {"path": path, "property": "guest-stats-polling-interval",
                                   "value": seconds})
        except CommandFailed:
            self._interval_ours = previous
            if first:
                self._interval_before_us = None
            raise
        self.state.stats_interval = seconds
        self._observe("interval", {"interval": seconds})
        self._stats_due = self.clock.now() + seconds
        self._notify(NoticeKind.STATS, f"stats interval {_interval_text(seconds)} "
                     f"(was {_interval_text(before)})", {"interval": seconds, "before": before})
        self._changed()

    async def restore_stats_interval(self) -> None:
        """Put back the stats interval we changed, unless someone changed it after us."""
        before, ours = self._interval_before_us, self._interval_ours
        if before is None or ours is None or before == ours:
            return
        try:
            async with self._connection(one_off=True) as transport:
                path = self._balloon_path()
                call = lambda *a: self._call(transport, *a)  # noqa: E731
                if await discovery.read_stats_interval(call, path) != ours:
                    return
                await call("qom-set", {"path": path, "property": "guest-stats-polling-interval",
                                       "value": before})
            self._interval_before_us = self._interval_ours = None
            self.state.stats_interval = before
        except MonitorError as error:
            log.warning("%s: could not restore the stats interval to %s: %s", self.state.name,
                        before, error)

    async def close(self, restore: bool = True) -> None:
        if restore and not self.settings.read_only:
            await self.restore_stats_interval()
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.close()

    def feed(self, kind: str, data: dict[str, Any]) -> None:
        """Take a recorded :class:`Observation` as if it came from QEMU now (for replays).

        The same recognition runs on it as on live input, so a replay shows what the live
        session showed."""
        state = self.state
        if kind == "vm":
            state.name = str(data.get("name") or state.name)
            state.run_state = data.get("state")
            state.uuid, state.qemu_version = data.get("uuid"), data.get("qemu")
            state.memory = data.get("memory")
            state.stats_interval = data.get("stats_interval")
            features = data.get("features") or {}
            negotiated = features.get("negotiated")
            state.features = BalloonFeatures(
                present=data.get("balloon_device") is not None,
                path=data.get("balloon_device"),
                deflate_on_oom=features.get("deflate_on_oom"),
                free_page_hint=features.get("free_page_hint"),
                free_page_reporting=features.get("free_page_reporting"),
                negotiated=frozenset(negotiated) if negotiated is not None else None)
            self._set_link(Link.CONNECTED, "")
        elif kind == "event":
            self._on_event(QMPEvent(str(data.get("event")), data.get("data") or {},
                                    float(data.get("timestamp") or 0)))
        elif kind == "actual":
            self.behaviour.actual_changed(int(data["actual"]))
        elif kind == "stats":
            stats = parse_guest_stats(data)
            self.state.rates = stat_rates(self.state.stats, stats)
            self.state.stats = stats
        elif kind == "interval":
            state.stats_interval = data.get("interval")
        elif kind == "target":
            self.behaviour.target_set(int(data["target"]), TargetSource(data["source"]))
        elif kind == "tick":  # a recorded second passed: what a poll would recognise
            self.behaviour.tick()
        elif kind == "notice" and data.get("kind") == NoticeKind.LINK.value:
            link = Link(data.get("data", {}).get("link", Link.DISCONNECTED.value))
            self._set_link(link, str(data.get("text", "")).partition(": ")[2])
        self._record()
        self._changed()

    # -- connecting and polling -------------------------------------------------------------------

    async def _connect(self) -> None:
        transport = self._factory(self.address)
        await transport.open(self._on_event, lambda error: self._lost(transport, error),
                             self.settings.connect_timeout)
        self._transport = transport
        try:
            await self._discover(transport)
        except BaseException:
            self._transport = None
            await transport.close()
            raise
        self._set_link(Link.CONNECTED, "")
        self._changed()  # listeners see the VM as soon as it is known, not a poll later

    @asynccontextmanager
    async def _connection(self, one_off: bool = False) -> AsyncIterator[Transport]:
        """The open connection, or one just for this use: in shared-socket mode, or
        (``one_off``) to put a setting back after the session's connection went."""
        if self._transport is not None:
            yield self._transport
            return
        if not (self.address.shared or one_off):
            raise ConnectionLost("not connected")
        transport = self._factory(self.address)
        await transport.open(self._on_event, lambda error: None, self.settings.connect_timeout)
        try:
            if not self.address.shared:
                if transport.instance != self._instance:
                    raise ConnectionLost(f"{self.state.name}: another QEMU process now")
            elif not self._discovered or transport.instance != self._instance:
                await self._discover(transport)
                self._set_link(Link.CONNECTED, "")
            yield transport
        finally:
            await transport.close()

    async def _discover(self, transport: Transport) -> None:
        """Identity, memory, balloon and features, stats: all we need after (re)connecting."""
        state = self.state
        call = lambda *a: self._call(transport, *a)  # noqa: E731
        state.qemu_version = transport.qemu_version
        name = discovery.expect_dict(await call("query-name"), "query-name").get("name")
        if not self.address.name and isinstance(name, str) and name:
            state.name = name
        uuid = discovery.expect_dict(await call("query-uuid"), "query-uuid").get("UUID")
        state.uuid = uuid if isinstance(uuid, str) else None
        status = discovery.expect_dict(await call("query-status"), "query-status")
        state.run_state = status.get("status") if isinstance(status.get("status"), str) else None
        sizes = await call("query-memory-size-summary")
        state.memory = (discovery.expect_int(sizes, "base-memory", "query-memory-size-summary")
                        + (sizes.get("plugged-memory") or 0))
        if self._instance is not None and transport.instance != self._instance:
            self._notify(NoticeKind.QEMU_RESTARTED, "QEMU was restarted: its balloon started "
                         "empty and the earlier target is gone", {})
            self.behaviour.target_forgotten()
        self._instance = transport.instance
        try:
            actual = await discovery.read_actual(call)
        except CommandFailed as err:
            if err.error_class != "DeviceNotActive":
                raise
            state.features = BalloonFeatures(present=False)
            state.actual = None
            self._observe("vm", state.as_dict())
            self._discovered = True
            self._changed()
            return
        path, backend = await discovery.find_balloon(call)
        state.features = await discovery.read_features(call, path, backend)
        state.stats_interval = await discovery.read_stats_interval(call, path)
        self._observe("vm", state.as_dict())
        wanted = self.settings.stats_interval
        if wanted and state.stats_interval == 0 and not self.settings.read_only:
            await self._apply_interval(call, path, wanted, 0)
        await self._read_stats(call, path)
        self._features_due = self.clock.now() + self.settings.feature_recheck
        if state.target is None and self.store is not None:
            remembered = self.store.recall(self._store_key())
            if remembered is not None and remembered.holds_for(self._instance):
                state.actual = actual
                state.target_set_at = remembered.set_at
                self.behaviour.target_set(remembered.target, TargetSource.REMEMBERED)
                self._observe("target", {"target": remembered.target,
                                         "source": TargetSource.REMEMBERED.value})
        self.behaviour.actual_resynced(actual)
        self._observe("actual", {"actual": actual})
        self._host_ended = False
        self._discovered = True
        self._record()

    async def _poll(self, transport: Transport) -> None:
        state = self.state
        call = lambda *a: self._call(transport, *a)  # noqa: E731
        if self.address.shared:
            status = discovery.expect_dict(await call("query-status"), "query-status")
            self._set_run_state(status.get("status"))
        if state.features.present:
            changes = self._balloon_changes
            actual = await discovery.read_actual(call)
            # A BALLOON_CHANGE handled while the reply waited for us is newer than the reply:
            # taking the reply then would move actual back (a rise the guest never made).
            if self._balloon_changes == changes:
                if actual != state.actual:
                    self._observe("actual", {"actual": actual})
                self.behaviour.actual_changed(actual)
            now = self.clock.now()
            path = self._balloon_path()
            if state.stats_interval and now >= self._stats_due:
                await self._read_stats(call, path)
                # Half a poll early: a poll that comes a hair before the interval is up (polls
                # keep their phase, their start wobbles) still reads them, not the poll after.
                self._stats_due = now + state.stats_interval - self.settings.poll_interval / 2
            if state.features.negotiated is None and now >= self._features_due:
                state.features.negotiated = await discovery.read_negotiated(
                    call, state.features.backend_path)
                self._features_due = now + self.settings.feature_recheck
        self.behaviour.tick()
        if state.link is not Link.CONNECTED:
            self._set_link(Link.CONNECTED, "")
        self._record()
        self._changed()

    async def _read_stats(self, call: discovery.Call, path: str) -> None:
        reply = await call("qom-get", {"path": path, "property": "guest-stats"})
        stats = parse_guest_stats(reply)
        previous = self.state.stats
        if previous is None or stats.last_update != previous.last_update:
            self.state.rates = stat_rates(previous, stats)
            self._observe("stats", reply)
        self.state.stats = stats

    async def _call(self, transport: Transport, command: str,
                    arguments: dict[str, Any] | None = None) -> Any:
        return await transport.execute(command, arguments, timeout=self.settings.call_timeout)

    # -- events and trouble -----------------------------------------------------------------------

    def _on_event(self, event: QMPEvent) -> None:
        state = self.state
        name, data = event.name, event.data
        self._observe("event", {"event": name, "data": data, "timestamp": event.timestamp})
        if name == "BALLOON_CHANGE":
            actual = data.get("actual")
            if not isinstance(actual, int) or isinstance(actual, bool) or actual < 0:
                self._lost(self._transport, ProtocolFault(
                    f"{state.name}: BALLOON_CHANGE without a valid 'actual': {data!r:.80}"))
                return
            self._balloon_changes += 1
            self.behaviour.actual_changed(actual)
            self._record()
        elif name == "STOP":
            self._set_run_state("paused")
        elif name == "RESUME":
            self._set_run_state("running")
            self.behaviour.resumed()
        elif name == "SHUTDOWN":
            guest, reason = bool(data.get("guest")), str(data.get("reason", "unknown"))
            self._set_run_state("shutdown")
            self._host_ended = True
            # A guest that powers itself off chose to; a guest-reset that ends QEMU is a panic
            # or crash with -no-reboot.
            self.behaviour.ended(f"QEMU shut down ({reason})",
                                 guest_fault=guest and reason != "guest-shutdown")
        elif name == "RESET":
            self.behaviour.reset(bool(data.get("guest")), str(data.get("reason", "unknown")))
            self._notify(NoticeKind.STATE, f"reset ({data.get('reason', 'unknown')})", data)
        elif name == "GUEST_PANICKED":
            self._set_run_state("guest-panicked")
            self._host_ended = True
            self.behaviour.ended("the guest kernel panicked", guest_fault=True)
        else:
            return
        self._changed()

    def _lost(self, transport: Transport | None, error: MonitorError) -> None:
        """The connection ended by itself (or cannot be trusted): drop it, say why."""
        if transport is None or transport is not self._transport:
            return
        self._transport = None
        self._dropped = True
        # Only a connection that ended may mean a dead QEMU; nonsense on a live one does not.
        if not self._host_ended and isinstance(error, ConnectionLost):
            self.behaviour.ended("QEMU's monitor closed without a shutdown (killed or crashed?)",
                                 guest_fault=True)
        self._host_ended = True
        self._set_link(_link_for(error), str(error))
        asyncio.get_running_loop().create_task(transport.close())
        self._changed()

    async def _trouble(self, error: MonitorError) -> None:
        self._failures += 1
        if self._dropped and isinstance(error, ConnectionLost):
            return  # the step met the end of a connection already dropped, and why is shown
        if isinstance(error, NotResponding) and self._transport is not None:
            self._set_link(Link.NOT_RESPONDING, str(error))  # keep the connection: it may wake
        else:
            transport, self._transport = self._transport, None
            if transport is not None:
                await transport.close()
            self._set_link(_link_for(error), str(error))
        self._changed()

    def _backoff(self) -> float:
        base = self.settings.shared_poll_interval if self.address.shared else 0.5
        return min(self.settings.backoff_max, base * 2 ** max(0, self._failures - 1))

    # -- small helpers ----------------------------------------------------------------------------

    def _set_link(self, link: Link, message: str) -> None:
        state = self.state
        if state.link is link and state.link_message == message:
            return
        was = state.link
        state.link, state.link_message = link, message
        if link is Link.CONNECTED:
            text = (f"connected again (was {was.value})" if self._discovered_once
                    else "connected")
            self._discovered_once = True
        else:
            text = f"{link.value}: {message}" if message else link.value
        if link is not was:
            self._notify(NoticeKind.LINK, text, {"link": link.value})

    def _set_run_state(self, run_state: object) -> None:
        if not isinstance(run_state, str) or run_state == self.state.run_state:
            return
        was = self.state.run_state
        self.state.run_state = run_state
        if was is not None:
            text = {"paused": "paused: the balloon waits until the VM runs again",
                    "running": "running again"}.get(run_state, run_state)
            self._notify(NoticeKind.STATE, text, {"state": run_state, "was": was})

    def _balloon_path(self) -> str:
        path = self.state.features.path
        if path is None:
            if self.state.features.present is False:
                raise NoBalloon("no balloon device: nothing to steer")
            raise ConnectionLost("not connected yet")
        return path

    def _refuse_if_read_only(self, what: str) -> None:
        if self.settings.read_only:
            raise Refused(f"read-only mode: will not {what}")

    def _store_key(self) -> str:
        return vm_key(self.state.uuid, self.state.name, self.key)

    def _record(self) -> None:
        state = self.state
        stats = state.stats
        self.history.record(
            self.clock.now(), state.actual, state.target,
            stats.available if stats else None, stats.free if stats else None,
            stats.caches if stats else None,
        )

    def _notify(self, kind: NoticeKind, text: str, data: dict[str, Any]) -> None:
        notice = Notice(self.state.name, self.clock.wall(), kind, text, data)
        if kind not in (NoticeKind.LINK, NoticeKind.STATS):
            self.history.mark(self.clock.now(), kind.value, text)
        log.info("%s: %s", self.state.name, text)
        self._observe("notice", {"kind": kind.value, "text": text, "data": data})
        if self._on_notice is not None:
            self._on_notice(notice)

    def _observe(self, kind: str, data: dict[str, Any]) -> None:
        if self.on_observation is not None:
            self.on_observation(Observation(self.state.name, self.key, self.clock.wall(), kind,
                                             data))

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self)


def _interval_text(seconds: int | None) -> str:
    if seconds is None:
        return "unknown"
    return "off" if seconds == 0 else f"{seconds} s"
