"""What every fault case shares: balloontui on a simulated host where one VM misbehaves.

Each case reads like an operator's session: something goes wrong with one VM, its pane says
what, the keys still answer at once, and the other VMs are steered as if nothing happened.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Static

from balloontui.core.addresses import VMAddress
from balloontui.core.monitor import Monitor
from balloontui.core.qmp_transport import QMPTransport
from balloontui.core.session import BalloonSession, SessionSettings, TransportFactory
from balloontui.core.vm_state import Link
from balloontui.sim.host import SimulatedHost
from balloontui.sim.vm import SimulatedVM, VMSpec
from balloontui.ui.app import BalloonApp
from balloontui.ui.vm_pane import VMPane
from tests.realqemu.guest import QEMU, RealGuest
from tests.realqemu.guest_image import GuestImageError, ensure_guest_image
from tests.waiting import plain, until

FAST = SessionSettings(poll_interval=0.2, call_timeout=1.0, connect_timeout=1.0,
                       backoff_max=1.0)
SIZE = (120, 40)
KEY_LATENCY_BOUND = 0.5
"""Seconds from a key press to its visible effect: generous, a responsiveness check only."""


@pytest.fixture
async def real_guest(tmp_path: Path) -> AsyncIterator[RealGuest]:
    """One booted real QEMU guest (see tests/realqemu), stopped at teardown whatever happened."""
    if shutil.which(QEMU) is None:
        pytest.fail(f"{QEMU} not found: run the suite with tests/run, which installs it",
                    pytrace=False)
    try:
        image = ensure_guest_image()
    except GuestImageError as error:
        pytest.fail(f"cannot build the guest image: {error}", pytrace=False)
    # Unix socket paths are short: keep the guest's sockets out of a long tmp_path.
    workdir = Path(tempfile.mkdtemp(prefix="bt-fault-"))
    guest = RealGuest(image, workdir, "real-01")
    try:
        await guest.start()
        yield guest
    finally:
        await guest.stop()
        print(f"\n=== {guest.name} console tail:\n{guest.console_tail(15)}")
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(autouse=True)
def own_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user config or user themes leak in."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def border_text(markup: str | None) -> str:
    """The characters of a border title, which Textual hands back as markup. Its markup does not
    always survive brackets next to backslashes (as in a shown ``\\x1b[31m``): for such text
    read the screen instead (:func:`styles_under`)."""
    return Content.from_markup(markup).plain if markup else ""


@dataclass(frozen=True)
class Run:
    """A run of characters on screen in one style (``rules`` is its SVG CSS)."""

    row: int
    column: int
    text: str
    rules: str


_TEXT_TAG = re.compile(r'<text class="([^"]+)" x="([\d.]+)" y="([\d.]+)" '
                       r'textLength="[\d.]+"[^>]*>(.*?)</text>', re.S)
# Rich's SVG export draws a cell 12.2 by 24.4 units, text on a baseline 20 units down.
_CHAR_WIDTH, _LINE_HEIGHT, _CHAR_HEIGHT = 12.2, 24.4, 20.0
_STYLE_RULE = re.compile(r"\.([\w-]+) \{ ([^}]*) \}")


def screen_runs(app: BalloonApp) -> list[Run]:
    """What the terminal shows now, as styled runs, read from the app's own SVG screenshot."""
    svg = app.export_screenshot()
    rules = dict(_STYLE_RULE.findall(svg))
    runs = []
    for css_class, x, y, text in _TEXT_TAG.findall(svg):
        text = unescape(text).replace("\xa0", " ")
        runs.append(Run(round((float(y) - _CHAR_HEIGHT) / _LINE_HEIGHT),
                        round(float(x) / _CHAR_WIDTH), text, rules.get(css_class, "")))
    return sorted(runs, key=lambda r: (r.row, r.column))


def screen_lines(app: BalloonApp) -> list[str]:
    """The terminal's text, line by line."""
    lines: dict[int, list[str]] = {}
    for run in screen_runs(app):
        line = lines.setdefault(run.row, [])
        text = "".join(line)
        line[:] = [text.ljust(run.column) + run.text]
    return ["".join(lines.get(row, [])) for row in range(max(lines, default=-1) + 1)]


def styles_under(app: BalloonApp, needle: str) -> list[set[str]]:
    """For each place ``needle`` shows on screen, the styles its characters are drawn in."""
    found = []
    by_row: dict[int, list[Run]] = {}
    for run in screen_runs(app):
        by_row.setdefault(run.row, []).append(run)
    for runs in by_row.values():
        cells: list[tuple[str, str]] = []
        for run in runs:
            cells += [(" ", "")] * (run.column - len(cells))
            cells += [(char, run.rules) for char in run.text]
        line = "".join(char for char, _ in cells)
        start = line.find(needle)
        while start >= 0:
            found.append({rules for _, rules in cells[start:start + len(needle)]})
            start = line.find(needle, start + 1)
    return found


class Operator:
    """An operator in front of balloontui: keys in; the screen and the simulated QEMUs out."""

    def __init__(self, host: SimulatedHost, monitor: Monitor, app: BalloonApp,
                 pilot: Pilot[None]) -> None:
        self.host = host
        self.monitor = monitor
        self.app = app
        self.pilot = pilot

    def vm(self, name: str) -> SimulatedVM:
        return self.host.vm(name)

    def session(self, name: str) -> BalloonSession:
        """The session watching the simulated VM ``name`` (found by its socket)."""
        path = self.vm(name).socket_path
        return next(s for s in self.monitor.sessions.values() if s.address.path == path)

    def pane(self, name: str) -> VMPane:
        return self.app.panes[self.session(name).key]

    def condition(self, name: str) -> str:
        """The condition line of the VM's pane (its bottom border), as the operator reads it."""
        return border_text(self.pane(name).border_subtitle)

    def title(self, name: str) -> str:
        """The title of the VM's pane (its top border)."""
        return border_text(self.pane(name).border_title)

    def numbers(self, name: str) -> str:
        return plain(self.pane(name).query_one(".numbers", Static))

    def sent(self, name: str, *commands: str) -> list[Any]:
        """Every command of ``commands`` the simulated QEMU of ``name`` received."""
        return [c for c in self.vm(name).commands if c.command in commands]

    async def press(self, *keys: str) -> None:
        await self.pilot.press(*keys)

    async def focus(self, name: str) -> VMPane:
        pane = self.pane(name)
        pane.focus()
        await self.pilot.pause(0.01)
        assert self.app.focused is pane
        return pane

    async def until(self, predicate: Callable[[], object], what: str,
                    timeout: float = 8.0) -> None:
        await until(predicate, what, timeout)

    async def until_condition(self, name: str, *phrases: str, timeout: float = 8.0) -> str:
        """Wait until the pane of ``name`` says every one of ``phrases``; return what it says."""
        await until(lambda: all(p in self.condition(name) for p in phrases),
                    f"{name}'s pane to say {phrases!r} (it says {self.condition(name)!r})",
                    timeout)
        return self.condition(name)

    async def settle(self) -> None:
        """Let the UI apply what the core told it (messages, workers, a repaint)."""
        await self.app.workers.wait_for_complete()
        await self.pilot.pause(0.02)

    async def units_key_latency(self, name: str) -> float:
        """Press ``u`` and time how long until the pane of ``name`` shows its numbers in the
        other unit; the keys answer if this is short."""
        before = self.numbers(name)
        started = time.perf_counter()
        await self.press("u")
        await until(lambda: self.numbers(name) != before, f"u to change {name}'s numbers",
                    timeout=5)
        return time.perf_counter() - started

    async def keys_answer(self, name: str) -> float:
        """Show that the app still answers keys: ``u`` changes the numbers, ``u`` puts them
        back, each within the bound. Returns the slower of the two."""
        latencies = [await self.units_key_latency(name), await self.units_key_latency(name)]
        assert max(latencies) < KEY_LATENCY_BOUND, latencies
        return max(latencies)

    async def shrink_and_see_it_follow(self, name: str) -> None:
        """Focus ``name``, press ``-``, and see its simulated QEMU reach the new target and its
        pane show it."""
        vm = self.vm(name)
        before = vm.actual
        assert before is not None
        await self.focus(name)
        await self.press("minus")
        await until(lambda: vm.target is not None and vm.target < before,
                    f"- to lower {name}'s target")
        target = vm.target
        await until(lambda: vm.actual == target, f"{name}'s balloon to reach its new target")
        session = self.session(name)
        await until(lambda: session.state.actual == target and session.state.target == target,
                    f"{name}'s session to see its new actual")
        await until(lambda: self.condition(name) == "", f"{name}'s pane to show no trouble")


def _print_tasks() -> None:
    for task in asyncio.all_tasks():
        print(f"--- task {task.get_name()}:")
        task.print_stack(limit=8, file=sys.stdout)


@asynccontextmanager
async def operating(tmp_path: Path, specs: Iterable[VMSpec], *,
                    settings: SessionSettings = FAST,
                    addresses: Callable[[SimulatedHost], list[VMAddress]] | None = None,
                    before_start: Callable[[SimulatedHost], None] | None = None,
                    connected: Iterable[str] | None = None,
                    transport_factory: TransportFactory = QMPTransport,
                    **app_options: Any) -> AsyncIterator[Operator]:
    """A simulated host with ``specs``, a monitor on its sockets, and balloontui on it.

    ``addresses`` chooses what the monitor watches (default: every VM's socket);
    ``before_start`` may change the VMs before their QEMUs start; ``connected`` names the VMs
    to wait for (default: all); ``transport_factory`` carries QMP (default: the real one)."""
    host = SimulatedHost(tmp_path / "vms", list(specs))
    if before_start is not None:
        before_start(host)
    async with host:
        watched = addresses(host) if addresses else [VMAddress(path=vm.socket_path)
                                                     for vm in host]
        monitor = Monitor(watched, settings=settings, transport_factory=transport_factory)
        app = BalloonApp(monitor, **app_options)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            operator = Operator(host, monitor, app, pilot)
            try:
                wanted = list(connected) if connected is not None else list(host.vms)
                await until(lambda: all(operator.session(name).state.link is Link.CONNECTED
                                        and operator.condition(name) != "connecting…"
                                        for name in wanted), f"{wanted} to connect")
                await operator.settle()
                yield operator
            finally:
                # Leave as q does (whatever screen is open): the core stops, then the app
                # exits. Leaving run_test() with the app running lets its tick meet a
                # half-dismantled screen now and then.
                if app.is_running:
                    try:
                        await asyncio.wait_for(app.run_action("quit"), 10)
                    except TimeoutError:
                        _print_tasks()  # where quitting hangs
                        raise AssertionError("q did not finish within 10 s") from None
                    await until(lambda: not app.is_running, "balloontui to quit")
                await monitor.stop(restore=False)
