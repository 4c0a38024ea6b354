"""One simulated QEMU process: its monitor socket, its balloon device, its guest, its life.

A :class:`SimulatedVM` is built from a :class:`VMSpec` and lives on a host's
:class:`~balloontui.sim.ticker.Ticker`. It starts (a new socket file), runs, may be paused,
reset, killed, restarted (a new socket file again, so a new inode, as a real QEMU's), or die
when its guest runs out of memory without deflate-on-oom. It records every command it receives
(:attr:`SimulatedVM.commands`) and every event it emits (:attr:`SimulatedVM.events`).
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from typing import Any

from balloontui.core.clock import Clock
from balloontui.sim.balloon_device import BalloonDevice
from balloontui.sim.event_throttle import EventThrottle
from balloontui.sim.faults import FaultKind, ReplyFaults, parse_fault_kind
from balloontui.sim.guest_model import FILL_RATE, GuestModel
from balloontui.sim.qmp_commands import MonitorCommands
from balloontui.sim.qmp_server import QMPServer
from balloontui.sim.qom_tree import QOMTree
from balloontui.sim.ticker import Ticker
from balloontui.sim.vm_spec import CommandRecord, EventRecord, VMSpec
from balloontui.sim.workloads import Workload

HISTORY = 10_000
"""Commands and events kept per VM (the oldest go first)."""

GUEST_RESET_DELAY = 0.048
"""Between QEMU's two RESET events after ``system_reset``, as measured."""

__all__ = ["CommandRecord", "EventRecord", "SimulatedVM", "VMSpec"]


class SimulatedVM:
    """A simulated QEMU serving QMP at ``<directory>/<name>.sock``."""

    def __init__(self, spec: VMSpec, directory: str, *, ticker: Ticker,
                 clock: Clock | None = None, history: int = HISTORY) -> None:
        self.spec = spec
        self.name = spec.name
        self.socket_path = os.path.join(directory, f"{spec.name}.sock")
        self.clock = clock or Clock()
        self.faults = ReplyFaults()
        self.commands: deque[CommandRecord] = deque(maxlen=history)
        self.events: deque[EventRecord] = deque(maxlen=history)
        self.alive = False
        self.status = "shutdown"
        self.starts = 0
        """How many QEMU processes this VM has had (1 after the first start)."""
        self.socket_inode: int | None = None
        """The inode of the socket file of the current (or last) QEMU process."""
        self.device: BalloonDevice | None = None
        self.guest: GuestModel | None = None
        self.tree = QOMTree(None)
        self._ticker = ticker
        self._server: QMPServer | None = None
        self._throttle: EventThrottle | None = None
        self._commands = MonitorCommands(self)
        self._no_driver = not spec.has_driver
        self._driver_due = False
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # Life.

    def start(self, *, booted: bool = True) -> None:
        """A QEMU process starts. ``booted``: its guest is already up (driver loaded, balloon
        at its initial target); otherwise the driver loads after ``boot_seconds``."""
        if self.alive:
            return
        spec = self.spec
        now = self.clock.now()
        self.starts += 1
        self.device = None
        if spec.has_balloon:
            self.device = BalloonDevice(spec.memory, deflate_on_oom=spec.deflate_on_oom,
                                        stats_interval=spec.stats_interval)
            if booted and spec.initial_target is not None:
                self.device.set_target(spec.initial_target)
        self.tree = QOMTree(self.device)
        self.guest = self._new_guest(now)
        self._throttle = EventThrottle(self._send_event)
        self.status = "running"
        self.alive = True
        self._driver_due = False
        self._server = QMPServer(self.socket_path, self._commands, self.faults)
        self.socket_inode = self._server.start(avoid_inode=self.socket_inode)
        self._ticker.add(self)
        if booted:
            self._load_driver(now, placed=True)
        else:
            self._later("boot", spec.boot_seconds, self._boot_done)
        self._schedule_stats(first=False)

    async def kill(self) -> None:
        """QEMU exits: the client reads end of stream, the socket file goes away."""
        if not self.alive:
            return
        self.alive = False
        self.status = "shutdown"
        for name in [name for name in self._timers if name != "restart"]:
            self._timers.pop(name).cancel()
        if self._throttle is not None:
            self._throttle.cancel()
        self._ticker.discard(self)
        if self._server is not None:
            await self._server.close()

    async def restart(self, after: float = 3.0) -> None:
        """Kill, then a new QEMU on the same path after ``after`` seconds (a fresh boot)."""
        await self.kill()
        self._later("restart", after, lambda: self.start(booted=False))

    async def shutdown(self) -> None:
        """Stop for good (the host is stopping): no restart, and wait for pending work."""
        restart = self._timers.pop("restart", None)
        if restart is not None:
            restart.cancel()
        await self.kill()
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()

    def pause(self) -> None:
        """``stop``: the guest freezes; STOP is sent (nothing if already paused)."""
        if self.status != "running":
            return
        self.status = "paused"
        if self.guest is not None:
            self.guest.freeze(self.clock.now())
        if self.device is not None:
            self.device.vm_running = False
        self.emit("STOP")

    def resume(self) -> None:
        """``cont``: the guest runs again; RESUME is sent (nothing if already running)."""
        if self.status != "paused":
            return
        self.status = "running"
        now = self.clock.now()
        if self.device is not None:
            self.device.vm_running = True
        self.emit("RESUME")
        if self.guest is not None:
            self.guest.thaw(now)
        if self._driver_due:
            self._boot_done()
        else:
            self.target_changed()
        self._ticker.hurry(self)

    def system_reset(self) -> None:
        """The guest reboots: its driver is gone until it loads again (target kept)."""
        self.emit("RESET", {"guest": False, "reason": "host-qmp-system-reset"})
        self._later("reset-event", GUEST_RESET_DELAY,
                    lambda: self.emit("RESET", {"guest": True, "reason": "guest-reset"}))
        now = self.clock.now()
        if self.device is not None:
            self.device.driver_gone()
        self.guest = self._new_guest(now)
        if self.status == "paused":
            self.guest.freeze(now)
        self._driver_due = False
        self._later("boot", self.spec.boot_seconds, self._boot_done)

    # Faults and pressure (tests, the control socket).

    def inject(self, kind: FaultKind | str, arg: float | None = None) -> None:
        """Switch a fault on (see :mod:`balloontui.sim.faults`); one-off kinds act at once."""
        kind = parse_fault_kind(kind) if isinstance(kind, str) else kind
        if kind is FaultKind.KILL:
            self._spawn(self.kill())
        elif kind is FaultKind.RESTART:
            self._spawn(self.restart(3.0 if arg is None else arg))
        elif kind is FaultKind.PAUSE:
            self.pause()
        elif kind is FaultKind.RESUME:
            self.resume()
        elif kind is FaultKind.NO_DRIVER:
            self._no_driver = True
            if self.alive and self.guest is not None and self.guest.driver_loaded:
                self.guest.unload_driver(self.clock.now())
                if self.device is not None:
                    self.device.driver_gone()
        else:
            self.faults.set(kind, arg)

    def clear_fault(self, kind: FaultKind | str | None = None) -> None:
        """Switch one fault (or all) off; clearing ``no-driver`` loads the driver."""
        kind = parse_fault_kind(kind) if isinstance(kind, str) else kind
        if kind in (None, FaultKind.NO_DRIVER) and self._no_driver:
            self._no_driver = False
            if self.alive and self.guest is not None and not self.guest.driver_loaded:
                self._boot_done()
        if kind is not FaultKind.NO_DRIVER:
            self.faults.clear(kind)
        if self._server is not None:
            self._server.faults_cleared()

    @property
    def active_faults(self) -> dict[str, float | None]:
        active: dict[str, float | None] = {k.value: v for k, v in self.faults.active.items()}
        if self._no_driver:
            active[FaultKind.NO_DRIVER.value] = None
        return active

    # What tests look at.

    @property
    def actual(self) -> int | None:
        """What ``query-balloon`` would say (None without a balloon device)."""
        return self.device.actual if self.device is not None else None

    @property
    def target(self) -> int | None:
        return self.device.target if self.device is not None else None

    @property
    def client_connected(self) -> bool:
        return self._server is not None and self._server.client_connected

    def event_names(self, *, delivered_only: bool = True) -> list[str]:
        return [e.name for e in self.events if e.delivered or not delivered_only]

    def set_target(self, value: int) -> None:
        """A target set by someone else (another management tool), like ``balloon value``."""
        if self.device is None:
            raise ValueError(f"{self.name} has no balloon device")
        self.device.set_target(max(1, value))
        self.target_changed()

    def fill(self, amount: int, rate: float | None = FILL_RATE) -> None:
        """Memory pressure on demand: like ``dd`` of ``amount`` bytes into a tmpfs in the guest."""
        if self.guest is not None:
            self.guest.fill(amount, rate)

    def release(self, amount: int | None = None) -> None:
        """Delete what :meth:`fill` wrote (all of it by default)."""
        if self.guest is not None:
            self.guest.release(amount)
            self.hurry()

    # The ticker's side.

    def hurry(self) -> None:
        """Follow this VM every fast tick until it stops changing."""
        self._ticker.hurry(self)

    def tick(self, now: float) -> bool:
        guest = self.guest
        if not self.alive or guest is None:
            return False
        guest.advance(now)
        return self.alive and guest.moving

    # Wiring (used by MonitorCommands and the guest).

    def target_changed(self) -> None:
        """The host set a new target: the driver reacts after a short latency."""
        if self.device is None or self.guest is None:
            return
        self.guest.set_target(self.device.target_balloon)
        if self.guest.driver_loaded and self.status == "running":
            self._later("driver", self.spec.driver_latency, self._driver_reacts)

    def emit(self, name: str, data: dict[str, Any] | None = None, *,
             when: float | None = None) -> None:
        """Send an event now (not throttled), stamped at loop time ``when`` (default: now)."""
        self._send_event(self._event(name, data, when))

    def exit_later(self) -> None:
        """QEMU exits once the current reply is out (``quit``)."""
        self._spawn(self.kill())

    def record_command(self, command: str | None, arguments: Any, request_id: Any) -> None:
        self.commands.append(CommandRecord(self.clock.now(), command, arguments, request_id))

    def _event(self, name: str, data: dict[str, Any] | None, when: float | None
               ) -> dict[str, Any]:
        wall = self.clock.wall()
        if when is not None:
            wall -= self.clock.now() - when
        seconds = int(wall)
        event: dict[str, Any] = {
            "timestamp": {"seconds": seconds, "microseconds": int((wall - seconds) * 1e6)},
            "event": name,
        }
        if data is not None:
            event["data"] = data
        return event

    def _send_event(self, event: dict[str, Any]) -> None:
        delivered = self._server.send_event(event) if self._server is not None else False
        stamp = event["timestamp"]
        self.events.append(EventRecord(self.clock.now(), event["event"], event.get("data"),
                                       stamp["seconds"] + stamp["microseconds"] / 1e6,
                                       delivered))

    def _new_guest(self, now: float) -> GuestModel:
        spec = self.spec
        workload = Workload(spec.workload, spec.memory) if spec.workload is not None else None
        guest = GuestModel(spec.memory, workload=workload, swap=spec.swap,
                           inflate_rate=spec.inflate_rate, deflate_rate=spec.deflate_rate,
                           booted_at=now, clock=self.clock.now)
        guest.on_actual = self._guest_wrote_actual
        guest.on_death = self._guest_died
        guest.on_wake = self.hurry
        return guest

    def _load_driver(self, now: float, *, placed: bool = False) -> None:
        guest, device = self.guest, self.device
        if guest is None or device is None or self._no_driver or not self.alive:
            return
        guest.load_driver(now, deflate_on_oom=device.deflate_on_oom)
        device.driver_loaded(deflate_on_oom=device.deflate_on_oom)
        guest.set_target(device.target_balloon)
        if placed:
            guest.place_balloon()
            device.actual = guest.actual
        device.record_stats(guest.stats(), self.clock.wall())  # the driver's first report
        if guest.balloon != guest.target_balloon:
            self._driver_reacts()

    def _boot_done(self) -> None:
        self._timers.pop("boot", None)
        if self.status == "paused":
            self._driver_due = True
            return
        self._driver_due = False
        self._load_driver(self.clock.now())

    def _driver_reacts(self) -> None:
        self._timers.pop("driver", None)
        if self.guest is not None and self.alive:
            self.guest.react(self.clock.now())
            self._ticker.hurry(self)

    def _guest_wrote_actual(self, actual: int, when: float) -> None:
        device = self.device
        if device is None or actual == device.actual or self._throttle is None:
            return
        device.actual = actual
        self._throttle.post(self._event("BALLOON_CHANGE", {"actual": actual}, when))

    def _guest_died(self) -> None:
        self.emit("SHUTDOWN", {"guest": True, "reason": "guest-reset"})
        self._spawn(self._die())

    async def _die(self) -> None:
        await self.kill()
        if self.spec.restart_after_death is not None:
            self._later("restart", self.spec.restart_after_death,
                        lambda: self.start(booted=False))

    def _schedule_stats(self, *, first: bool) -> None:
        """QEMU's stats timer: armed by the property, re-armed by each report."""
        old = self._timers.pop("stats", None)
        if old is not None:
            old.cancel()
        device = self.device
        if device is None or not self.alive or device.poll_interval <= 0:
            return
        self._later("stats", 0 if first else device.poll_interval, self._stats_due)

    def poll_interval_changed(self, old: int) -> None:
        new = self.device.poll_interval if self.device is not None else 0
        if new != old:
            self._schedule_stats(first=old == 0)

    def _stats_due(self) -> None:
        self._timers.pop("stats", None)
        guest, device = self.guest, self.device
        if (guest is not None and device is not None and self.alive and guest.driver_loaded
                and self.status == "running" and not guest.dead):
            now = self.clock.now()
            guest.advance(now)
            if guest.dead:
                return
            device.record_stats(guest.stats(), self.clock.wall())
        self._schedule_stats(first=False)

    def _later(self, name: str, delay: float, callback: Any) -> None:
        old = self._timers.pop(name, None)
        if old is not None:
            old.cancel()

        def fire() -> None:
            self._timers.pop(name, None)
            callback()

        self._timers[name] = asyncio.get_running_loop().call_later(delay, fire)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
