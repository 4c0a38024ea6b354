"""One VM's pane: title, plot of actual against target, and a line of numbers."""

from __future__ import annotations

import time

from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from balloontui.core.session import BalloonSession
from balloontui.core.sizes import Units
from balloontui.ui import vm_text
from balloontui.ui.balloon_plot import BalloonPlot

_CONDITION_CLASSES = ("-trouble", "-no-balloon", "-stalled", "-episode", "-elsewhere", "-paused",
                      "-moving")


class VMPane(Vertical, can_focus=True):
    """Shows one session; the app tells it when to update its text and when to replot."""

    def __init__(self, session: BalloonSession) -> None:
        super().__init__(classes="vm-pane")
        self.session = session
        self.plot_stale = True
        self.replotted_at = float("-inf")
        """Real (not data) time of the last replot: replots are paced by what they cost."""
        self._shown: tuple[Content, ...] = ()
        self._css_class: str | None = None
        self._plotted: tuple[object, ...] = ()

    def compose(self):  # type: ignore[no-untyped-def]
        yield BalloonPlot()
        yield Static(classes="numbers")

    @property
    def key(self) -> str:
        return self.session.key

    def update_text(self, units: Units, wall_now: float) -> None:
        """Title, condition and numbers; widgets are touched only where the text changed, so
        an unchanged pane costs no redraw (and no bytes on an SSH link)."""
        if not self.is_mounted:
            return  # a pane of a page being built: it gets its text once mounted
        state = self.session.state
        title = vm_text.title(state)
        condition, css_class = vm_text.condition(state)
        numbers = vm_text.numbers(state, units, wall_now)
        shown = (title, condition, numbers)
        if len(self._shown) != 3:
            self._shown = (Content(""), Content(""), Content(""))
        old_title, old_condition, old_numbers = self._shown
        # Each part is touched only if it changed: a border title redraws the whole pane,
        # plot included; the numbers never change size, so they need no layout.
        if not title.is_same(old_title):
            self.border_title = title
        if not condition.is_same(old_condition):
            self.border_subtitle = condition
        if css_class != self._css_class:
            for name in _CONDITION_CLASSES:
                self.set_class(name == css_class, name)
            self._css_class = css_class
        no_plot = state.features.present is not True
        if no_plot != self.has_class("-no-plot"):
            self.set_class(no_plot, "-no-plot")
        if not numbers.is_same(old_numbers):
            self.query_one(".numbers", Static).update(numbers, layout=False)
        self._shown = shown

    @property
    def plot_urgent(self) -> bool:
        """The balloon moved (or was marked) since the last replot: replot soon. Changes of
        the guest's stats alone can wait a few seconds."""
        state, history = self.session.state, self.session.history
        return (state.actual, state.target, len(history.marks)) != self._plotted

    def replot(self, now: float, window: float, units: Units) -> None:
        history = self.session.history
        if history.last_time is None:
            # Nothing to draw yet; no replot time noted either, so the first data is drawn
            # at once, not a pacing interval later.
            self.plot_stale = False
            return
        # A young history fills the plot instead of hugging its right edge.
        if history.first_time is not None:
            window = min(window, max(60.0, now - history.first_time))
        plot = self.query_one(BalloonPlot)
        width = max(10, plot.size.width)
        points = history.points(since=now - window, max_points=2 * width)
        plot.show(points, history.marks_since(now - window), now, window,
                  self.session.state.memory, units)
        self.plot_stale = False
        self.replotted_at = time.monotonic()
        self._plotted = (self.session.state.actual, self.session.state.target,
                         len(history.marks))
