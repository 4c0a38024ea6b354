"""The balloontui application: one pane per VM, live, with keys to steer the balloons.

The app subscribes to the core's :class:`Monitor` and does no QMP itself: state changes arrive
as :class:`VMsChanged` (coalesced), notices as :class:`NoticeArrived`, and commands run in
workers that report back with :class:`CommandFinished`.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
import time
from collections import deque

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.reactive import var
from textual.widgets import Input

from balloontui.config import Config
from balloontui.core.clock import Clock
from balloontui.core.errors import MonitorError
from balloontui.core.monitor import Monitor
from balloontui.core.recognition import Notice, NoticeKind
from balloontui.core.session import BalloonSession
from balloontui.core.sizes import SizeError, Units, format_size
from balloontui.ui.confirm_dialog import ConfirmDialog
from balloontui.ui.host_summary import HostSummary
from balloontui.ui.messages import CommandFinished, NoticeArrived, VMsChanged
from balloontui.ui.event_log_screen import EventLogScreen
from balloontui.ui.help_screen import HelpScreen
from balloontui.ui.key_footer import KeyFooter
from balloontui.ui.overview_screen import OverviewScreen
from balloontui.ui.target_dialog import TargetDialog
from balloontui.ui.text import literal, printable
from balloontui.ui.themes import DEFAULT_THEME, VARIABLE_DEFAULTS, load_themes
from balloontui.ui.vm_commands import VMCommands
from balloontui.ui.vm_filter import matches
from balloontui.ui.pane_grid import PageBuilt, PaneGrid
from balloontui.ui.vm_pane import VMPane
from balloontui.ui.welcome_screen import WelcomeScreen

STATS_INTERVALS = (0, 1, 2, 5, 10, 30)
WINDOWS = (60.0, 300.0, 900.0, 3600.0, 6 * 3600.0, 24 * 3600.0)
REPLOT_EVERY = 1.0
"""Seconds between replots of a pane whose balloon moved: a plot costs milliseconds of the UI
thread, and a redrawn plot a few KiB on the operator's SSH link."""
REPLOT_STATS_EVERY = 5.0
"""Seconds between replots for guest-stats changes alone (a plot column spans several
seconds of a five-minute window anyway)."""
TICK = 0.2
"""The UI's own rhythm: replots are spread over ticks so that no tick blocks for long."""
REPLOT_BUDGET = 0.015
"""Seconds of replotting per tick at most; the rest waits for the next tick."""
URGENT = {NoticeKind.DEATH, NoticeKind.EPISODE_START, NoticeKind.STALL,
          NoticeKind.CHANGED_ELSEWHERE, NoticeKind.QEMU_RESTARTED}
STEERING = {"grow", "shrink", "type_target", "full_memory", "cycle_interval",
            "cycle_interval_all"}
MAIN_SCREEN_ONLY = STEERING | {"toggle_units", "toggle_freeze", "filter", "zoom", "window",
                               "move_focus", "page", "overview", "event_log"}


class BalloonApp(App[None]):
    """Watch and steer the balloons of the VMs a :class:`Monitor` follows."""

    TITLE = "balloontui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {VMCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-normal"), (170, "-wide")]
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="help"),
        Binding("plus,equals_sign", "grow", "Grow", id="grow",
                tooltip="Grow the target by the step (--step)"),
        Binding("minus", "shrink", "Shrink", id="shrink",
                tooltip="Shrink the target by the step (--step)"),
        Binding("t", "type_target", "Target", id="target"),
        Binding("m", "full_memory", "Full", id="full-memory", show=False),
        Binding("i", "cycle_interval", "Stats", id="stats-interval"),
        Binding("I", "cycle_interval_all", "Stats all", id="stats-interval-all", show=False),
        Binding("u", "toggle_units", "Units", id="units", show=False),
        Binding("p", "toggle_freeze", "Freeze", id="freeze", show=False),
        Binding("o", "overview", "Overview", id="overview"),
        Binding("e", "event_log", "Events", id="events"),
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("escape", "leave_filter", "Back", id="filter-leave", show=False),
        Binding("enter", "zoom", "Zoom", id="zoom", show=False),
        Binding("left_square_bracket", "window(-1)", "Shorter", id="window-shorter",
                show=False),
        Binding("right_square_bracket", "window(1)", "Longer", id="window-longer", show=False),
        Binding("pageup", "page(-1)", "Page up", id="page-up", show=False),
        Binding("pagedown", "page(1)", "Page down", id="page-down", show=False),
        Binding("up", "move_focus('up')", "Up", id="pane-up", show=False),
        Binding("down", "move_focus('down')", "Down", id="pane-down", show=False),
        Binding("left", "move_focus('left')", "Left", id="pane-left", show=False),
        Binding("right", "move_focus('right')", "Right", id="pane-right", show=False),
        Binding("s", "save_svg", "SVG", id="screenshot", show=False),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    units: var[Units] = var(Units.BYTES)
    frozen: var[bool] = var(False, toggle_class="-frozen")
    window: var[float] = var(300.0)

    def __init__(self, monitor: Monitor, *, config: Config | None = None,
                 read_only: bool = False, step: str | None = None, theme: str | None = None,
                 clock: Clock | None = None, start_monitor: bool = True,
                 freeze_long_lived: bool = False) -> None:
        super().__init__()
        self._freeze_long_lived = freeze_long_lived
        self.monitor = monitor
        self.config = config or Config()
        self.read_only = read_only or self.config.read_only
        self.step = step or self.config.step
        self.clock = clock or monitor.clock
        self._start_monitor = start_monitor
        self._wanted_theme = theme or self.config.theme or DEFAULT_THEME
        self._dirty: set[str] = set()
        self._change_posted = False
        self._quitting = False
        self._second = 0.0
        self.notices: deque[Notice] = deque(maxlen=5000)
        if self.config.units == "pages":
            self.units = Units.PAGES

    # -- set-up -----------------------------------------------------------------------------------

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return VARIABLE_DEFAULTS

    def compose(self) -> ComposeResult:
        yield HostSummary(id="summary")
        # Disabled while hidden: a hidden input would still take the focus, and every key.
        yield Input(placeholder="filter: name or state (stalled, trouble, paused, episode)",
                    id="filter", disabled=True)
        yield PaneGrid(list(self.monitor.sessions.values()), id="panes")
        # At 80 columns the footer holds the keys that matter most; ? lists all of them.
        yield KeyFooter(show_command_palette=False)

    async def on_mount(self) -> None:
        # SIGTERM (a service manager) and SIGHUP (the SSH session dropped): put back what we
        # changed on the VMs, then leave; never run on without a terminal.
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(signum, self._signalled, signum)
        self.monitor.subscribe(self._core_changed, self._core_notice)
        if self._start_monitor:
            await self.monitor.start()  # first: the VMs connect while the rest is set up
        themes, problems = load_themes()
        for theme in themes:
            self.register_theme(theme)
        if self._wanted_theme in self.available_themes:
            self.theme = self._wanted_theme
        else:
            problems.append(f"no theme named {self._wanted_theme!r}; using {DEFAULT_THEME}")
            self.theme = DEFAULT_THEME
        for problem in problems:
            self.tell(problem, "warning", timeout=10)
        if self.config.keymap:
            self.set_keymap(self.config.keymap)
        self.theme_changed_signal.subscribe(self, lambda _theme: self._mark_all_plots_stale())
        self.set_interval(TICK, self._tick)
        if not self.monitor.sessions:
            self.push_screen(WelcomeScreen())
        elif self._freeze_long_lived:
            self.run_worker(self._freeze_once_connected(), exit_on_error=False)

    async def _freeze_once_connected(self) -> None:
        """Once the VMs are connected and the first page is up, take what lives as long as the
        program (sessions, histories, widgets) out of the cyclic garbage collector's full
        passes: over a thousand VMs' objects each pass stalled keys and frames 100-200 ms.
        What is made later is still collected. For the program only, not its tests (freezing
        keeps a process's earlier garbage cycles for good)."""
        await self.monitor.wait_connected(60)
        await asyncio.sleep(1.0)
        gc.freeze()

    @property
    def grid(self) -> PaneGrid:
        return self.query_one(PaneGrid)

    @property
    def panes(self) -> dict[str, VMPane]:
        """The panes on screen (one page), by session key."""
        return self.grid.panes

    @on(PageBuilt)
    def new_page(self, message: PageBuilt) -> None:
        wall = self.clock.wall()
        for pane in message.panes:
            pane.update_text(self.units, wall)
        self.query_one(HostSummary).show(self.monitor.sessions.values(), wall, self.grid)
        self.call_after_refresh(self._replot_due, force=True)

    async def action_quit(self) -> None:
        await self.monitor.stop(restore=not self.read_only)
        self.exit()

    def _signalled(self, signum: int) -> None:
        if self._quitting:
            return
        self._quitting = True
        asyncio.ensure_future(self._quit_on_signal(signum))

    async def _quit_on_signal(self, signum: int) -> None:
        await self.monitor.stop(restore=not self.read_only)
        if signum == signal.SIGHUP:
            # The terminal is gone: Textual's goodbye to it can wait forever on its threads.
            # What mattered (the VMs' settings) is done; leave for sure a moment later.
            threading.Timer(2.0, os._exit, (0,)).start()
        self.exit()

    # -- from the core ----------------------------------------------------------------------------

    def _core_changed(self, session: BalloonSession) -> None:
        self._dirty.add(session.key)
        if not self._change_posted:  # one message carries every change made meanwhile
            self._change_posted = True
            self.post_message(VMsChanged())

    def _core_notice(self, notice: Notice) -> None:
        self.post_message(NoticeArrived(notice))

    @on(VMsChanged)
    def apply_changes(self) -> None:
        self._change_posted = False
        dirty, self._dirty = self._dirty, set()
        wall = self.clock.wall()
        panes = self.panes
        with self.batch_update():
            for key in dirty:
                pane = panes.get(key)
                if pane is not None:
                    pane.plot_stale = True
                    pane.update_text(self.units, wall)
        if isinstance(self.screen, OverviewScreen):
            self.screen.update_rows(dirty)

    @on(NoticeArrived)
    def record_notice(self, message: NoticeArrived) -> None:
        notice = message.notice
        self.notices.append(notice)
        if isinstance(self.screen, EventLogScreen):
            self.screen.add(notice)
        if notice.kind in URGENT:
            severity = "error" if notice.kind is NoticeKind.DEATH else "warning"
            self.tell(f"{notice.vm}: {notice.text}", severity, timeout=8)

    def _tick(self) -> None:
        """Every fifth of a second: replots that are due; once a second, the summary, the
        stats' ages and the filter (conditions change)."""
        if self.frozen is False:
            self._replot_due()
        if time.monotonic() - self._second < 1.0:
            return
        self._second = time.monotonic()
        wall = self.clock.wall()
        with self.batch_update():
            for pane in self.panes.values():
                pane.update_text(self.units, wall)
            self.query_one(HostSummary).show(self.monitor.sessions.values(), wall, self.grid)
        if self.query_one("#filter", Input).value:
            self.apply_filter(self.query_one("#filter", Input).value)

    def _replot_due(self, force: bool = False) -> None:
        """Replot the stale panes whose last replot is a second old, within a time budget."""
        if self.frozen and not force:
            return
        now, started = self.clock.now(), time.monotonic()
        for pane in self.panes.values():
            if not pane.is_mounted or not (pane.plot_stale or force):
                continue
            if not force and started - pane.replotted_at < (
                    REPLOT_EVERY if pane.plot_urgent else REPLOT_STATS_EVERY):
                continue
            if time.monotonic() - started > REPLOT_BUDGET:
                break
            pane.replot(now, self.window, self.units)

    def _mark_all_plots_stale(self) -> None:
        """Replot every visible pane, once the frame with what changed at once (numbers,
        titles) is out: a key's effect shows in milliseconds, the plots a frame later."""
        for pane in self.panes.values():
            pane.plot_stale = True
        if not self.frozen:
            self.call_after_refresh(self._replot_due, force=True)

    # -- steering ---------------------------------------------------------------------------------

    def hides(self, action: str) -> bool:
        """Whether a key's action is hidden and refused here: steering, in read-only mode."""
        return self.read_only and action in STEERING

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.hides(action):
            return False
        if action in MAIN_SCREEN_ONLY and self.screen is not self.screen_stack[0]:
            return False  # the panes' keys are not for the overview, the log or a dialog
        if action == "leave_filter":
            return isinstance(self.focused, Input) and self.focused.id == "filter"
        return True

    def focused_session(self) -> BalloonSession | None:
        focused = self.focused
        while focused is not None and not isinstance(focused, VMPane):
            focused = focused.parent  # type: ignore[assignment]
        return focused.session if isinstance(focused, VMPane) else None

    def action_grow(self) -> None:
        self._step_target("+")

    def action_shrink(self) -> None:
        self._step_target("-")

    def action_full_memory(self) -> None:
        session = self.focused_session()
        if session is not None:
            self.target_text(session.key, "100%")

    def action_type_target(self) -> None:
        session = self.focused_session()
        if session is not None:
            self.ask_target(session.key)

    def ask_target(self, key: str) -> None:
        """Open the target dialog for one VM."""
        session = self.monitor.sessions[key]
        if not self._can_steer(session):
            return

        def chosen(target: int | None) -> None:
            if target is not None:
                self.steer(session, target)

        self.push_screen(TargetDialog(session), chosen)

    def target_text(self, key: str, text: str) -> None:
        """Set a VM's target from text such as ``100%`` (the command palette's actions)."""
        self._try_target(self.monitor.sessions[key], text)

    def interval_for(self, key: str, seconds: int) -> None:
        self._set_interval(self.monitor.sessions[key], seconds)

    def focus_vm(self, key: str) -> None:
        self.grid.reveal(key)

    def _step_target(self, sign: str) -> None:
        session = self.focused_session()
        if session is not None:
            self._try_target(session, f"{sign}{self.step.lstrip('+-')}")

    def _can_steer(self, session: BalloonSession) -> bool:
        """Whether there is a balloon to steer now; says why not if not."""
        state = session.state
        if state.features.present is False:
            self.tell(f"{state.name}: no balloon device: nothing to steer", "warning")
        elif not state.can_steer:
            self.tell(f"{state.name}: nothing to steer while {state.link.value}", "warning")
        return state.can_steer

    def _try_target(self, session: BalloonSession, text: str) -> None:
        if not self._can_steer(session):
            return
        try:
            target = session.parse_target(text)
        except SizeError as err:
            self.tell(f"{session.state.name}: {err}", "warning")
            return
        self.steer(session, target)

    def steer(self, session: BalloonSession, target: int) -> None:
        """Set a target, asking first when it would take memory the guest is using."""
        state = session.state
        used = state.stats.used if state.stats else None
        current = state.target if state.target is not None else state.actual
        if used is None or target >= used or (current is not None and target >= current):
            self._set_target(session, target)
            return
        if state.features.deflate_on_oom_active:
            outcome = ("With deflate-on-oom the guest will take memory back from the balloon "
                       "when it runs short: its processes keep running, but the target will "
                       "not hold.")
        else:
            outcome = ("Without deflate-on-oom the guest cannot take memory back: it may swap "
                       "hard, kill processes (OOM killer) or panic.")
        question = Content.assemble("Shrink ", literal(state.name, "bold"), " to ",
                                    (format_size(target), "bold"), "?")
        age = state.stats.age(self.clock.wall()) if state.stats else None
        interval = state.stats_interval or 0
        when = (f" by its report of {age:.0f} s ago (stats are off or late)"
                if age is not None and (interval == 0 or age > 3 * interval + 2) else "")
        explanation = Content(f"The guest uses {format_size(used)} (total − available){when}. "
                              f"{outcome}")

        def answered(yes: bool | None) -> None:
            if yes:
                self._set_target(session, target)

        self.push_screen(ConfirmDialog(question, explanation, "Shrink anyway"), answered)

    @work(exit_on_error=False, group="commands")
    async def _set_target(self, session: BalloonSession, target: int) -> None:
        try:
            done = await session.set_target(target)
        except MonitorError as err:
            self.post_message(CommandFinished(session.state.name, None, str(err)))
            return
        self.monitor.poke(session.key)
        self.post_message(CommandFinished(session.state.name, f"target {format_size(done)}",
                                          None))

    def action_cycle_interval(self) -> None:
        session = self.focused_session()
        if session is not None:
            self._set_interval(session, _next_interval(session.state.stats_interval))

    def action_cycle_interval_all(self) -> None:
        sessions = [s for s in self.monitor.sessions.values() if s.state.can_steer]
        if not sessions:
            return
        seconds = _next_interval(sessions[0].state.stats_interval)
        for session in sessions:
            self._set_interval(session, seconds)

    @work(exit_on_error=False, group="commands")
    async def _set_interval(self, session: BalloonSession, seconds: int) -> None:
        try:
            await session.set_stats_interval(seconds)
        except MonitorError as err:
            self.post_message(CommandFinished(session.state.name, None, str(err)))
            return
        self.monitor.poke(session.key)

    @on(CommandFinished)
    def command_finished(self, message: CommandFinished) -> None:
        if message.error:
            self.tell(f"{message.vm}: {message.error}", "error")

    def tell(self, text: str, severity: str = "information", timeout: float = 5) -> None:
        """A toast with text from VMs or users: shown literally, never as markup."""
        self.notify(printable(text), severity=severity, timeout=timeout,  # type: ignore[arg-type]
                    markup=False)

    # -- viewing ----------------------------------------------------------------------------------

    def watch_units(self) -> None:
        if not self.is_mounted:
            return
        wall = self.clock.wall()
        for pane in self.panes.values():
            pane.update_text(self.units, wall)
        self._mark_all_plots_stale()

    def action_toggle_units(self) -> None:
        self.units = Units.PAGES if self.units is Units.BYTES else Units.BYTES
        self.notify(f"units: {self.units.value}", timeout=2)

    def action_toggle_freeze(self) -> None:
        self.frozen = not self.frozen
        self.notify("plots frozen" if self.frozen else "plots live", timeout=2)

    def action_window(self, direction: int) -> None:
        index = min(range(len(WINDOWS)), key=lambda i: abs(WINDOWS[i] - self.window))
        self.window = WINDOWS[max(0, min(len(WINDOWS) - 1, index + direction))]
        self.query_one(HostSummary).window = self.window
        self._mark_all_plots_stale()

    def action_zoom(self) -> None:
        session = self.focused_session()
        if self.grid.zoomed is not None:
            self.zoom(None)
        elif session is not None:
            self.zoom(session.key)

    def zoom(self, key: str | None) -> None:
        """Show one VM's pane alone, as large as the screen; ``None``: the page again."""
        self.grid.zoom(key)

    def action_move_focus(self, direction: str) -> None:
        self.grid.move_focus(direction)

    def action_page(self, pages: int) -> None:
        self.grid.turn_page(pages)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.disabled = False
        box.add_class("-shown")
        box.focus()

    @on(Input.Changed, "#filter")
    def filter_panes(self, event: Input.Changed) -> None:
        self.apply_filter(event.value)

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        box = self.query_one("#filter", Input)
        if not box.value:
            box.remove_class("-shown")
            box.disabled = True
        self.grid.focus_page()

    def action_leave_filter(self) -> None:
        """Escape in the filter box: back to the panes, the filter stays."""
        self.filter_done()

    def apply_filter(self, text: str) -> None:
        self.grid.set_shown([s for s in self.monitor.sessions.values()
                             if matches(s.state, text)])

    def action_overview(self) -> None:
        def chosen(key: str | None) -> None:
            if key is not None:
                self.zoom(key)  # by key, not a toggle: a zoomed main screen would unzoom

        self.push_screen(OverviewScreen(), chosen)

    def action_event_log(self) -> None:
        self.push_screen(EventLogScreen())

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_save_svg(self) -> None:
        name = time.strftime("balloontui-%Y%m%d-%H%M%S.svg")
        path = self.save_screenshot(name)
        self.tell(f"saved {path}", timeout=4)


def _next_interval(current: int | None) -> int:
    if current not in STATS_INTERVALS:
        return STATS_INTERVALS[1]
    return STATS_INTERVALS[(STATS_INTERVALS.index(current) + 1) % len(STATS_INTERVALS)]
