"""One VM's pane: title, plot of actual against target, and a line of numbers."""

from __future__ import annotations

from textual.containers import Vertical
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

    def compose(self):  # type: ignore[no-untyped-def]
        yield BalloonPlot()
        yield Static(classes="numbers")

    @property
    def key(self) -> str:
        return self.session.key

    def update_text(self, units: Units, wall_now: float) -> None:
        state = self.session.state
        self.border_title = vm_text.title(state)
        condition, css_class = vm_text.condition(state)
        self.border_subtitle = condition
        for name in _CONDITION_CLASSES:
            self.set_class(name == css_class, name)
        self.query_one(".numbers", Static).update(vm_text.numbers(state, units, wall_now))

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
