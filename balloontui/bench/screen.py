"""Reading balloontui's screen as an operator does: panes, their names and their numbers.

Works on the lines of a terminal emulator's screen (colours ignored). A pane is a box with
rounded (or, focused in trouble, heavy) corners, the VM's name first in its top border, and its
two lines of numbers at the bottom::

    ╭─ web-01  running  DoOM ✗  stats 1s ───╮
    │ ... plot ...                          │
    │ mem 2G  target –  actual 2G  balloon 0 │
    │ avail 1.35G  free 1.11G  cache 254M ... │
    ╰────────────────────────────────────────╯
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TOP_LEFT, TOP_RIGHT = "╭┏", "╮┓"
BOTTOM_LEFT = "╰┗"
# In pages a narrow pane wraps the line after actual: "balloon" may be cut off or missing.
NUMBERS = re.compile(r"mem (\S+)\s+target (\S+)\s+actual (\S+)(?:\s+balloon ?(\S*))?")
PAGES = re.compile(r"^\d+p\*?$")
DASH = "–"
PLOT_AXIS = "┤"
"""A y-axis tick: drawn only once a plot has been drawn with data."""


@dataclass
class Pane:
    name: str
    top: int
    left: int
    right: int
    rows: list[str] = field(default_factory=list)
    """The text inside the box, top to bottom, as far as it is on screen."""
    bottom_border: str | None = None

    def figures(self) -> dict[str, str] | None:
        """``mem``, ``target``, ``actual``, ``balloon`` as shown (``balloon`` None when wrapped
        away), if the line is on screen."""
        for row in self.rows:
            found = NUMBERS.search(row)
            if found:
                return dict(zip(("mem", "target", "actual", "balloon"), found.groups()))
        return None

    @property
    def shows_stats(self) -> bool:
        return any("avail " in row for row in self.rows)

    @property
    def has_no_balloon(self) -> bool:
        return "no balloon device" in (self.bottom_border or "")

    @property
    def numbers_visible(self) -> bool:
        """Both lines of numbers are on screen (the box's bottom border is)."""
        return self.bottom_border is not None

    @property
    def plotted(self) -> bool:
        return any(PLOT_AXIS in row for row in self.rows)

    @property
    def complete(self) -> bool:
        """Shows its VM's numbers: memory, and actual with the guest's stats (or says it has no
        balloon device)."""
        figures = self.figures()
        if figures is None or figures["mem"] == DASH:
            return False
        return self.has_no_balloon or (figures["actual"] != DASH and self.shows_stats)


def find_panes(lines: list[str]) -> list[Pane]:
    """Every pane whose top border is on screen, left to right, top to bottom."""
    panes = []
    for top, line in enumerate(lines):
        for left, char in enumerate(line):
            if char not in TOP_LEFT:
                continue
            right = _find_any(line, TOP_RIGHT, left + 1)
            if right < 0:
                continue
            title = line[left + 1:right].strip("─━ ")
            if not title:
                continue  # a box without a title: the plot's frame, not a pane
            pane = Pane(title.split()[0], top, left, right)
            for below in lines[top + 1:]:
                if left < len(below) and below[left] in BOTTOM_LEFT:
                    pane.bottom_border = below[left:right + 1]
                    break
                pane.rows.append(below[left + 1:right])
            panes.append(pane)
    return panes


def pane_named(lines: list[str], name: str) -> Pane | None:
    return next((p for p in find_panes(lines) if p.name == name), None)


def full_frame(lines: list[str]) -> bool:
    """The first full frame: the footer is drawn, at least one pane is, and every pane whose
    numbers are on screen shows its VM's numbers."""
    if not lines or "Help" not in lines[-1]:
        return False
    shown = [p for p in find_panes(lines) if p.numbers_visible]
    return bool(shown) and all(p.complete for p in shown)


def all_plotted(lines: list[str]) -> bool:
    """Every pane fully on screen has drawn its plot (with its axis ticks)."""
    shown = [p for p in find_panes(lines) if p.numbers_visible]
    return bool(shown) and all(p.plotted or p.has_no_balloon for p in shown)


def shows_actual(name: str, text: str):  # type: ignore[no-untyped-def]
    """A check: the pane of ``name`` shows ``actual`` as ``text``."""
    def check(lines: list[str]) -> bool:
        pane = pane_named(lines, name)
        figures = pane.figures() if pane else None
        return figures is not None and figures["actual"] == text
    return check


def shows_pages(name: str, pages: bool):  # type: ignore[no-untyped-def]
    """A check: the pane of ``name`` shows its memory in pages (or in bytes)."""
    def check(lines: list[str]) -> bool:
        pane = pane_named(lines, name)
        figures = pane.figures() if pane else None
        return figures is not None and bool(PAGES.match(figures["mem"])) is pages
    return check


def _find_any(line: str, chars: str, start: int) -> int:
    positions = [p for p in (line.find(c, start) for c in chars) if p >= 0]
    return min(positions) if positions else -1
