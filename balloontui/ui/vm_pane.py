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
        if css_class == self._css_class and len(self._shown) == 3 and all(
                new.is_same(old) for new, old in zip(shown, self._shown)):
            return
        self._shown, self._css_class = shown, css_class
        self.border_title = title
        self.border_subtitle = condition
        for name in _CONDITION_CLASSES:
            self.set_class(name == css_class, name)
        self.set_class(state.features.present is not True, "-no-plot")
        self.query_one(".numbers", Static).update(numbers)

    def replot(self, now: float, window: float, units: Units) -> None:
        history = self.session.history
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
