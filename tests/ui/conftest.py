"""What every TUI test shares: an operator at a terminal of balloontui, on a simulated host."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets._footer import FooterKey

from balloontui.core.addresses import VMAddress
from balloontui.core.monitor import Monitor
from balloontui.core.session import BalloonSession, SessionSettings
from balloontui.core.vm_state import Link
from balloontui.sim.host import SimulatedHost
from balloontui.sim.vm import SimulatedVM, VMSpec
from balloontui.ui.app import BalloonApp
from balloontui.ui.vm_pane import VMPane
from tests.waiting import plain, until

FAST = SessionSettings(poll_interval=0.2, call_timeout=1.0, connect_timeout=1.0,
                       backoff_max=0.5)
SIZE = (120, 40)


@pytest.fixture(autouse=True)
def own_config_and_clock_zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user config or user themes leak in, and times print the same everywhere."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


class Operator:
    """An operator in front of balloontui: keys in, the screen and the simulated QEMUs out."""

    def __init__(self, host: SimulatedHost, monitor: Monitor, app: BalloonApp,
                 pilot: Pilot[None]) -> None:
        self.host = host
        self.monitor = monitor
        self.app = app
        self.pilot = pilot

    def vm(self, name: str) -> SimulatedVM:
        """The simulated QEMU of one VM."""
        return self.host.vm(name)

    def session(self, name: str) -> BalloonSession:
        return next(s for s in self.monitor.sessions.values() if s.state.name == name)

    def pane(self, name: str) -> VMPane:
        return self.app.panes[self.session(name).key]

    def sent(self, name: str, command: str) -> list[Any]:
        """The arguments of every ``command`` the simulated QEMU of ``name`` received."""
        return [c.arguments for c in self.vm(name).commands if c.command == command]

    def sent_anywhere(self, *commands: str) -> list[tuple[str, str | None]]:
        return [(vm.name, c.command) for vm in self.host for c in vm.commands
                if c.command in commands]

    async def press(self, *keys: str) -> None:
        await self.pilot.press(*keys)  # returns once the screen has handled them

    async def type(self, text: str) -> None:
        await self.press(*text)

    async def focus(self, name: str) -> VMPane:
        key = self.session(name).key
        self.app.focus_vm(key)  # brings its pane onto the page, if it was not
        await self.until(lambda: key in self.app.panes and self.app.panes[key].is_mounted,
                         f"{name}'s pane on the page")
        pane = self.app.panes[key]
        pane.focus()
        await self.pilot.pause(0.01)
        assert self.app.focused is pane
        return pane

    async def until(self, predicate: Callable[[], object], what: str,
                    timeout: float = 8.0) -> None:
        await until(predicate, what, timeout)

    async def settle(self) -> None:
        """Let the UI apply what the core told it (messages, workers, a repaint)."""
        await self.app.workers.wait_for_complete()
        # A short pause, not Pilot.pause(): that waits for the CPU to idle, and the simulated
        # host never quite does.
        await self.pilot.pause(0.02)

    def footer_keys(self) -> dict[str, str]:
        """The keys the footer shows now, with their descriptions."""
        return {key.key: key.description for key in self.app.screen.query(FooterKey)}


@asynccontextmanager
async def operating(tmp_path: Path, specs: Iterable[VMSpec], *,
                    settings: SessionSettings = FAST, size: tuple[int, int] = SIZE,
                    connected: bool = True, **app_options: Any) -> AsyncIterator[Operator]:
    """A simulated host with ``specs``, a monitor on its sockets, and balloontui on it."""
    async with SimulatedHost(tmp_path / "vms", list(specs)) as host:
        monitor = Monitor([VMAddress(path=vm.socket_path) for vm in host], settings=settings)
        app = BalloonApp(monitor, **app_options)
        async with app.run_test(size=size) as pilot:
            operator = Operator(host, monitor, app, pilot)
            try:
                if connected:
                    await operator.until(
                        lambda: all(s.state.link is Link.CONNECTED
                                    for s in monitor.sessions.values()),
                        "every VM to connect")
                    # The panes hear of it with the first poll after connecting.
                    # Only a page of panes exists; at the tests' size every VM has one.
                    await operator.until(
                        lambda: len(app.panes) == min(len(monitor.sessions),
                                                      app.grid.capacity)
                        and all(p.is_mounted and
                                not plain(p.query_one(".numbers")).startswith("mem –")
                                for p in app.panes.values()),
                        "every pane to show its VM")
                    await operator.settle()
                yield operator
            finally:
                # Leave as q does (whatever screen is open): the core stops before the UI
                # goes. Leaving run_test() with the app still running lets the app's
                # one-second tick meet a half-dismantled screen now and then.
                if app.is_running:
                    try:
                        await asyncio.wait_for(app.run_action("quit"), 10)
                    except TimeoutError:
                        raise AssertionError("q did not finish within 10 s") from None
                    await operator.until(lambda: not app.is_running, "balloontui to quit")
                await monitor.stop(restore=False)
