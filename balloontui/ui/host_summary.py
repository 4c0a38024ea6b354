"""The top line: the whole host at a glance."""

from __future__ import annotations

import time
from collections.abc import Iterable

from textual.content import Content
from textual.widgets import Static

from balloontui.core.session import BalloonSession
from balloontui.core.sizes import format_size
from balloontui.ui.pane_grid import PaneGrid
from balloontui.ui.vm_text import activity


class HostSummary(Static):
    """VMs, memory, ballooned, and how many are moving, stalled or in trouble."""

    window = 300.0
    _shown: Content | None = None

    def show(self, sessions: Iterable[BalloonSession], wall: float,
             page: PaneGrid | None = None) -> None:
        count = memory = ballooned = moving = stalled = trouble = episodes = 0
        for session in sessions:
            state = session.state
            count += 1
            memory += state.memory or 0
            ballooned += state.balloon_size or 0
            moving += activity(state) is not None
            stalled += state.stall is not None
            episodes += state.in_episode
            trouble += state.link.is_trouble or state.run_state in ("shutdown", "guest-panicked")
        # What needs attention first: at 80 columns the end of the line is cut off.
        parts: list[Content | str | tuple[str, str]] = [("balloontui", "bold $accent"),
                                                        f"  {count} VMs"]
        if trouble:
            parts += [" · ", (f"{trouble} in trouble", "bold $error")]
        if stalled:
            parts += [" · ", (f"{stalled} stalled", "bold $bt-stall")]
        if episodes:
            parts += [" · ", (f"{episodes} deflating on OOM", "bold $bt-oom")]
        if moving:
            parts.append(f" · {moving} moving")
        parts.append(f" · {format_size(memory, compact=True)} memory · "
                     f"{format_size(ballooned, compact=True)} ballooned")
        if page is not None and page.zoomed is None and len(page.shown) > len(page.panes):
            first = page.first + 1
            parts.append(f" · {first}–{page.first + len(page.panes)} of {len(page.shown)}")
        window = f"{self.window / 3600:g}h" if self.window >= 3600 else f"{self.window / 60:g}m"
        parts.append(f" · plot {window} · {time.strftime('%H:%M', time.localtime(wall))}")
        content = Content.assemble(*parts)
        if self._shown is None or not content.is_same(self._shown):
            self._shown = content
            self.update(content, layout=False)
