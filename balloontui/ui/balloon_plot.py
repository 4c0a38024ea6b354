"""The plot of one VM: balloon actual against target over time, with the guest's own memory."""

from __future__ import annotations

import math

from rich.text import Text
from textual.color import Color
from textual.geometry import Size
from textual_plotext import PlotextPlot

from balloontui.core.history import Mark, Points
from balloontui.core.sizes import GiB, MiB, PAGE_SIZE, Units

# Series drawn, oldest layer first, with the theme variable that colours each.
SERIES_COLOURS = (("free", "bt-free"), ("available", "bt-available"),
                  ("target", "bt-target"), ("actual", "bt-actual"))
MARK_COLOURS = {
    "deflate-on-oom": "bt-oom",
    "death": "bt-death",
    "stall": "bt-stall",
    "changed elsewhere": "bt-elsewhere",
}


def y_scale(memory: int | None, units: Units) -> tuple[float, str]:
    """Divisor and label for the y axis."""
    if units is Units.PAGES:
        return (PAGE_SIZE * 1000, "k pages") if (memory or 0) >= 4 * GiB else (PAGE_SIZE, "pages")
    return (GiB, "GiB") if (memory or 0) >= 2 * GiB else (MiB, "MiB")


class BalloonPlot(PlotextPlot):
    """A plotext plot fed from a VM's history; replotted only when asked."""

    DEFAULT_CSS = """
    BalloonPlot { height: 1fr; min-height: 4; }
    """

    _built: Text | None = None
    _built_size: Size | None = None

    def render(self) -> Text:
        """The plot as last built; rebuilt here only when the widget changed size."""
        if self._built is None or self._built_size != self.size:
            self._built, self._built_size = self._build(), self.size
        return self._built

    def _build(self) -> Text:
        return PlotextPlot.render(self)  # type: ignore[return-value]

    def show(self, points: Points, marks: list[Mark], now: float, window: float,
             memory: int | None, units: Units) -> None:
        """Plot the last ``window`` seconds before ``now`` and refresh the widget."""
        plt = self.plt
        plt.clear_data()  # also clears limits, lines and texts: set them again below
        # A theme of ANSI colours (balloontui-16) leaves the frame and labels to the terminal:
        # plotext's "clear" theme, not one built from RGB values that such a theme lacks.
        self.theme = "clear" if self.app.current_theme.ansi else "auto"
        divisor, unit_label = y_scale(memory, units)
        colours = self._colours()
        xs = [t - now for t in points.times]
        for series, variable in SERIES_COLOURS:
            values = points.values[series]
            known = [(x, v / divisor) for x, v in zip(xs, values) if v is not None]
            if len(known) >= 1:
                plt.plot([x for x, _ in known], [v for _, v in known], marker="braille",
                         color=colours[variable])
        for mark in marks:
            variable = MARK_COLOURS.get(mark.kind)
            if variable and now - window <= mark.at <= now:
                plt.vline(mark.at - now, colours[variable])
        plt.xlim(-window, 0)
        top = (memory or max((v for vs in points.values.values() for v in vs if v), default=1))
        plt.ylim(0, top / divisor * 1.02)
        plt.yticks(*_size_ticks(top / divisor, unit_label, max(2, self.size.height // 3)))
        plt.xticks(*_time_ticks(window))
        built = self._build()
        if built == self._built and self._built_size == self.size:
            return  # nothing visible changed: no redraw, no bytes to the terminal
        self._built, self._built_size = built, self.size
        self.refresh()

    def _colours(self) -> dict[str, PlotColour]:
        variables = self.app.theme_variables
        return {name: plot_colour(Color.parse(variables.get(name, "white")))
                for _, name in (*SERIES_COLOURS, *((k, v) for k, v in MARK_COLOURS.items()))}


PlotColour = int | str | tuple[int, int, int]


def plot_colour(colour: Color) -> PlotColour:
    """A theme colour as plotext takes it: an ANSI colour by its number, so that the terminal's
    own palette shows it (plotext writes it as ``38;5;N``), any other colour as RGB."""
    if colour.ansi is not None:
        return colour.ansi if colour.ansi >= 0 else "default"
    return colour.rgb


def _size_ticks(top: float, unit: str, count: int) -> tuple[list[float], list[str]]:
    """A few ticks from 0 to ``top`` (display units) at a power-of-two step, as memory sizes
    usually are, labelled with the unit."""
    step = 2.0 ** math.ceil(math.log2(max(top / count, 1 / 64)))
    ticks = [i * step for i in range(int(top // step) + 1)]
    short = {"GiB": "G", "MiB": "M", "pages": "p", "k pages": "kp"}[unit]
    return ticks, [f"{t:g}{short}" if t else "0" for t in ticks]


def _time_ticks(window: float) -> tuple[list[float], list[str]]:
    """Ticks at round 'ago' times: -5m, -4m, ... 'now'."""
    for step, unit, div in ((10, "s", 1), (30, "s", 1), (60, "m", 60), (300, "m", 60),
                            (900, "m", 60), (3600, "h", 3600), (4 * 3600, "h", 3600)):
        if window / step <= 6:
            break
    ticks = [-step * i for i in range(int(window // step), -1, -1)]
    labels = [f"{int(-t // div)}{unit}" if t else "now" for t in ticks]
    return [float(t) for t in ticks], labels
